import { randomBytes } from 'node:crypto';
import { z } from 'zod';

/*
 * Shared by the SQLite and Postgres stores (db/sqlite/validation-settings.ts, db/pg/validation-settings.ts).
 * Before the validation_runs table (SQLite migration 0005), validation kept its state as JSON in
 * `settings`: `validation:run:<batch>` (the run under way and its cursor), `validation:counts:<batch>`
 * (the verdict counts and when the last complete run finished) and `validation:failure:<batch>`
 * (the last run stopped as dns_unavailable). The shapes below are those it wrote.
 */

const runState = z.object({
  id: z.string(),
  batchId: z.string(),
  actor: z.string(),
  startedAt: z.number(),
  afterId: z.number().int(),
  checked: z.number().int(),
});

const countsState = z.object({
  valid: z.number().int(),
  role: z.number().int(),
  disposable: z.number().int(),
  no_mail_domain: z.number().int(),
  unknown: z.number().int(),
  contactCount: z.number().int(),
  finishedAt: z.number().nullable(),
});

const failureState = z.object({
  runId: z.string(),
  status: z.literal('dns_unavailable'),
  message: z.string(),
  at: z.number(),
  checked: z.number().int(),
});

const keyPattern = /^validation:(run|counts|failure):(.+)$/;

export type Found = {
  run?: z.infer<typeof runState>;
  counts?: z.infer<typeof countsState>;
  failure?: z.infer<typeof failureState>;
  keys: string[];
};

/**
 * The validation keys read from `settings` (key order), grouped by batch: what each batch had of
 * its run, counts and failure, and the keys that held them (a value that does not parse is left
 * out, and its key stays where it is).
 */
export function groupByBatch(stored: readonly { key: string; value: string }[]): Map<string, Found> {
  const byBatch = new Map<string, Found>();
  for (const { key, value } of stored) {
    const [, kind, batchId] = keyPattern.exec(key) ?? [];
    if ((kind !== 'run' && kind !== 'counts' && kind !== 'failure') || !batchId) continue;
    const found = byBatch.get(batchId) ?? { keys: [] };
    const parsed = parse(kind, value);
    if (parsed === undefined) continue;
    Object.assign(found, { [kind]: parsed });
    found.keys.push(key);
    byBatch.set(batchId, found);
  }
  return byBatch;
}

function parse(kind: 'run' | 'counts' | 'failure', value: string) {
  let json: unknown;
  try {
    json = JSON.parse(value);
  } catch {
    return undefined;
  }
  const schema = kind === 'run' ? runState : kind === 'counts' ? countsState : failureState;
  const result = schema.safeParse(json);
  return result.success ? result.data : undefined;
}

/** The row that stands for a batch's state: its run under way, else its last failure, else its counts. */
export function rowOf(batchId: string, { run, counts, failure }: Found) {
  const carried = {
    valid: counts?.valid ?? 0,
    role: counts?.role ?? 0,
    disposable: counts?.disposable ?? 0,
    no_mail_domain: counts?.no_mail_domain ?? 0,
    unknown: counts?.unknown ?? 0,
    countedOf: counts?.contactCount ?? null,
    validatedAt: counts?.finishedAt ?? null,
  };
  if (run) {
    const { id, actor, startedAt, afterId, checked } = run;
    const state = { status: 'running', endedAt: null, message: null };
    return { id, batchId, actor, startedAt, afterId, checked, ...state, ...carried };
  }
  if (failure) {
    const { runId: id, at, message, checked } = failure;
    const state = { status: 'dns_unavailable', startedAt: at, endedAt: at, afterId: 0 };
    return { id, batchId, actor: 'system', checked, message, ...state, ...carried };
  }
  if (!counts) return null;
  // The finished run itself was not kept (nor its start): it stands for the counts it left.
  const at = counts.finishedAt ?? 0;
  const state = { status: 'finished', startedAt: at, endedAt: at, afterId: 0, checked: 0, message: null };
  return { id: `val_${randomBytes(4).toString('hex')}`, batchId, actor: 'system', ...state, ...carried };
}
