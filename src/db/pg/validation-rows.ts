import type { RunState, StoredCounts } from '../../core/validation/validation-store.js';
import type { ValidationRunStatus } from '../../core/vocabulary.js';
import type { PgExec } from './client.js';

/* The rows of validation_runs as the Postgres ValidationStore reads and writes them. */

export type BatchInfo = { id: string; status: string; contactCount: number; includeInvalidDomains: boolean };

/** A validation_runs row with the names `runColumns` selects. */
export type RunRow = {
  id: string;
  batchId: string;
  seq: number;
  actor: string;
  status: ValidationRunStatus;
  startedAt: number;
  endedAt: number | null;
  afterId: number;
  checked: number;
  message: string | null;
  valid: number;
  role: number;
  disposable: number;
  no_mail_domain: number;
  unknown: number;
  countedOf: number | null;
  validatedAt: number | null;
};

/** The columns of a row of validation_runs, in the order `insert` takes them. */
export type NewRun = [
  id: string,
  batchId: string,
  seq: number,
  actor: string,
  status: ValidationRunStatus,
  startedAt: number,
  endedAt: number | null,
  checked: number,
  message: string | null,
  valid: number,
  role: number,
  disposable: number,
  noMailDomain: number,
  unknown: number,
  countedOf: number | null,
  validatedAt: number | null,
];

/** The counts columns of an UPDATE, in statement order. */
export type CountsArgs = [number, number, number, number, number, number | null, number | null];

/** camelCase names quoted: unquoted, Postgres would fold them to lower case. */
export const runColumns = `id, batch_id AS "batchId", seq, actor, status, started_at AS "startedAt",
  ended_at AS "endedAt", after_id AS "afterId", checked, message, valid, role, disposable, no_mail_domain,
  unknown, counted_of AS "countedOf", validated_at AS "validatedAt"`;

/** `valid = $n, …` for the seven CountsArgs, numbered from `$first`. */
export const setCounts = (first: number): string =>
  ['valid', 'role', 'disposable', 'no_mail_domain', 'unknown', 'counted_of', 'validated_at']
    .map((column, i) => `${column} = $${first + i}`)
    .join(', ');

export { zeroCounts } from '../../core/vocabulary.js';

export function toRunState(r: RunRow): RunState {
  return {
    id: r.id,
    batchId: r.batchId,
    actor: r.actor,
    startedAt: r.startedAt,
    afterId: r.afterId,
    checked: r.checked,
  };
}

/** The counts a row carries; null when none were taken yet (no contact of the batch validated). */
export function toCounts(r: RunRow): StoredCounts | null {
  if (r.countedOf === null) return null;
  return {
    valid: r.valid,
    role: r.role,
    disposable: r.disposable,
    no_mail_domain: r.no_mail_domain,
    unknown: r.unknown,
    contactCount: r.countedOf,
    finishedAt: r.validatedAt,
  };
}

export function countsArgs(c: StoredCounts | null): CountsArgs {
  if (!c) return [0, 0, 0, 0, 0, null, null];
  return [c.valid, c.role, c.disposable, c.no_mail_domain, c.unknown, c.contactCount, c.finishedAt];
}

/** The first key of the validation locks ('vali'); the second is the batch id's hash. */
const validationLockSpace = 0x76616c69;

/**
 * Takes the batch's validation lock until the transaction ends. SQLite has one writer; here
 * several instances may start, advance, finish or recount a batch's runs at once, and each of
 * those reads the batch's latest row before it writes one: under this lock they take turns, per
 * batch. Taken first, before any row lock, so it never closes a cycle of waits (a deadlock). Two
 * batches whose ids hash alike merely take turns too.
 */
export async function lockBatchValidation(exec: PgExec, batchId: string): Promise<void> {
  await exec.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [validationLockSpace, batchId]);
}
