import { randomBytes } from 'node:crypto';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { eq } from 'drizzle-orm';
import { z } from 'zod';
import { batchEvents, batches, type ValidationResult, validationResults } from '../../db/schema.js';
import { DomainError } from '../../errors.js';
import { type Batch, toBatch } from '../batches/batch.js';
import { type Actor, type CoreDeps, toIso } from '../types.js';
import { type DnsSettings, DomainChecker, type DomainOutcome } from './dns.js';
import { addressParts, judge } from './verdict.js';

/** Contacts per verdict, and those not checked yet. */
export type ValidationCounts = Record<ValidationResult, number> & { unchecked: number };

/** A validation run in progress: its cursor is in the database, so a restart continues it. */
export type ValidationRun = {
  id: string;
  batchId: string;
  actor: string;
  startedAt: string;
  /** Contacts checked so far by this run. */
  checked: number;
  /** Contacts in the batch. */
  total: number;
};

export type ValidationSummary = {
  counts: ValidationCounts;
  run: ValidationRun | null;
  /** When the last complete run finished. */
  lastValidatedAt: string | null;
  includeInvalidDomains: boolean;
};

export type StartResult = { kind: 'started' | 'running'; run: ValidationRun; counts: ValidationCounts };

export type ValidationSettings = DnsSettings & {
  /** Contacts per chunk (one transaction each). */
  chunkSize?: number;
  /** Domains remembered per run; the oldest is forgotten past this. */
  cacheSize?: number;
};

/** The state of a run, kept in `settings` under `validation:run:<batch id>` until it finishes. */
const runState = z.object({
  id: z.string(),
  batchId: z.string(),
  actor: z.string(),
  startedAt: z.number(),
  /** Every contact of the batch with an id up to this one has been checked by this run. */
  afterId: z.number().int(),
  checked: z.number().int(),
});
type RunState = z.infer<typeof runState>;

/**
 * Verdict counts of a batch under `validation:counts:<batch id>`, updated in each chunk's
 * transaction. `contactCount` is the batch's count they were taken at: deleting a contact lowers
 * the batch's count, and the next read recounts.
 */
const countsState = z.object({
  valid: z.number().int(),
  role: z.number().int(),
  disposable: z.number().int(),
  no_mail_domain: z.number().int(),
  unknown: z.number().int(),
  contactCount: z.number().int(),
  finishedAt: z.number().nullable(),
});
type CountsState = z.infer<typeof countsState>;

const runPrefix = 'validation:run:';
const runKey = (batchId: string) => `${runPrefix}${batchId}`;
const countsKey = (batchId: string) => `validation:counts:${batchId}`;

type BatchInfo = { id: string; status: string; contactCount: number; includeInvalidDomains: number };
type Row = { id: number; email: string };

/** Per-run memory of domain outcomes (promises, so one lookup serves every contact of a domain). */
class DomainCache {
  private readonly outcomes = new Map<string, Promise<DomainOutcome>>();
  lookups = 0;
  constructor(
    private readonly checker: DomainChecker,
    private readonly maxSize: number,
  ) {}
  get(domain: string): Promise<DomainOutcome> {
    const known = this.outcomes.get(domain);
    if (known) return known;
    if (this.outcomes.size >= this.maxSize) {
      const oldest = this.outcomes.keys().next().value;
      if (oldest !== undefined) this.outcomes.delete(oldest);
    }
    this.lookups++;
    const outcome = this.checker.check(domain);
    this.outcomes.set(domain, outcome);
    return outcome;
  }
}

/**
 * Bulk e-mail validation of a batch: syntax, role mailboxes, disposable domains and MX/A/AAAA
 * lookups, one verdict per contact (`contacts.validation`). A run walks the batch by id in
 * chunks, looks the chunk's domains up (cached per run, bounded concurrency), then writes the
 * verdicts, the counts and its cursor in one transaction; a run cut short continues from its
 * cursor at the next start (or the next `start`).
 */
export class ValidationService {
  private readonly log;
  private readonly checker: DomainChecker;
  private readonly stmts;
  private readonly running = new Map<string, Promise<void>>();
  private closing = false;
  private readonly chunkSize: number;
  private readonly cacheSize: number;

  constructor(
    private readonly deps: CoreDeps,
    settings: ValidationSettings,
  ) {
    this.log = deps.log.child({ module: 'validation' });
    this.checker = new DomainChecker(settings);
    this.chunkSize = settings.chunkSize ?? 500;
    this.cacheSize = settings.cacheSize ?? 10_000;
    const s = deps.db.$client;
    this.stmts = {
      batch: s.prepare<[string], BatchInfo>(
        `SELECT id, status, contact_count AS contactCount, include_invalid_domains AS includeInvalidDomains
           FROM batches WHERE id = ?`,
      ),
      chunk: s.prepare<[string, number, number], Row>(
        `SELECT id, email FROM contacts WHERE batch_id = ? AND id > ? ORDER BY id LIMIT ?`,
      ),
      verdict: s.prepare<[number, string], { validation: ValidationResult | null }>(
        `SELECT validation FROM contacts WHERE id = ? AND batch_id = ?`,
      ),
      setVerdict: s.prepare<[ValidationResult, number, number]>(
        `UPDATE contacts SET validation = ?, validated_at = ? WHERE id = ?`,
      ),
      recount: s.prepare<[string], { validation: ValidationResult | null; n: number }>(
        `SELECT validation, count(*) AS n FROM contacts WHERE batch_id = ? GROUP BY validation`,
      ),
      getSetting: s.prepare<[string], string>(`SELECT value FROM settings WHERE key = ?`).pluck(),
      putSetting: s.prepare<[string, string]>(
        `INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value`,
      ),
      deleteSetting: s.prepare<[string]>(`DELETE FROM settings WHERE key = ?`),
      runKeys: s
        .prepare<[string, string], string>(`SELECT key FROM settings WHERE key >= ? AND key < ? ORDER BY key`)
        .pluck(),
    };
  }

  /**
   * Starts validating a batch in the background, or returns the run already under way (resuming
   * it if this process was not running it). Throws not_found, or conflict while it imports.
   */
  start(batchId: string, actor: Actor): StartResult {
    const { kind, run, batch } = this.deps.db.transaction(
      (): { kind: StartResult['kind']; run: RunState; batch: BatchInfo } => {
        const batch = this.batchInfo(batchId);
        if (batch.status === 'importing') {
          throw new DomainError(
            'conflict',
            `Batch ${batchId} is still importing; validate it once the import is done.`,
          );
        }
        const current = this.readRun(batchId);
        if (current) return { kind: 'running', run: current, batch };
        const run: RunState = {
          id: `val_${randomBytes(4).toString('hex')}`,
          batchId,
          actor,
          startedAt: this.deps.clock.now(),
          afterId: 0,
          checked: 0,
        };
        this.stmts.putSetting.run(runKey(batchId), JSON.stringify(run));
        return { kind: 'started', run, batch };
      },
    );
    if (kind === 'started') {
      this.log.info({ batchId, runId: run.id, actor, contacts: batch.contactCount }, 'validation started');
    }
    this.kick(batchId);
    return { kind, run: this.runView(run, batch.contactCount), counts: this.counts(batchId) };
  }

  /** Continues every run a previous process left unfinished (call once at start). */
  resumeInterrupted(): string[] {
    const resumed: string[] = [];
    for (const key of this.stmts.runKeys.all(runPrefix, `${runPrefix}\uffff`)) {
      const batchId = key.slice(runPrefix.length);
      if (!this.stmts.batch.get(batchId)) {
        this.stmts.deleteSetting.run(key);
        continue;
      }
      if (this.running.has(batchId)) continue;
      resumed.push(batchId);
      this.kick(batchId);
    }
    if (resumed.length > 0) this.log.info({ batches: resumed }, 'validation resumed after a restart');
    return resumed;
  }

  /** Contacts per verdict in a batch (cheap: kept with each chunk; recounted after deletions). */
  counts(batchId: string): ValidationCounts {
    const batch = this.batchInfo(batchId);
    const stored = this.readCounts(batchId);
    if (!stored) return { ...zeroCounts(), unchecked: batch.contactCount };
    if (stored.contactCount === batch.contactCount) return withUnchecked(stored);
    const fresh = this.deps.db.transaction(() => {
      const b = this.batchInfo(batchId);
      const recounted = this.recount(batchId, b.contactCount, stored.finishedAt);
      this.stmts.putSetting.run(countsKey(batchId), JSON.stringify(recounted));
      return recounted;
    });
    return withUnchecked(fresh);
  }

  /** Counts, the run under way, when the last run finished, and whether invalid domains are mailed. */
  summary(batchId: string): ValidationSummary {
    const counts = this.counts(batchId);
    const batch = this.batchInfo(batchId);
    const run = this.readRun(batchId);
    return {
      counts,
      run: run ? this.runView(run, batch.contactCount) : null,
      lastValidatedAt: toIso(this.readCounts(batchId)?.finishedAt),
      includeInvalidDomains: batch.includeInvalidDomains === 1,
    };
  }

  /** Lets campaigns reach (true) or skip (false) this batch's contacts whose domain cannot receive mail. */
  setIncludeInvalidDomains(batchId: string, include: boolean, actor: Actor): Batch {
    const before = this.batchInfo(batchId).includeInvalidDomains === 1;
    if (before !== include) {
      const now = this.deps.clock.now();
      this.deps.db.transaction((tx) => {
        tx.update(batches).set({ includeInvalidDomains: include }).where(eq(batches.id, batchId)).run();
        tx.insert(batchEvents)
          .values({
            batchId,
            kind: include ? 'included_invalid_domains' : 'excluded_invalid_domains',
            actor,
            reason: include
              ? 'campaigns also reach contacts whose domain receives no mail'
              : 'campaigns skip contacts whose domain receives no mail',
            at: now,
          })
          .run();
      });
      this.log.info(
        { batchId, actor, from: before, to: include },
        include ? 'batch includes invalid domains in sends' : 'batch excludes invalid domains from sends',
      );
    }
    return toBatch(this.deps.db.select().from(batches).where(eq(batches.id, batchId)).get()!);
  }

  /** Resolves once no run is in progress in this process. */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running.values()]);
  }

  /** Stops every run after its current chunk (nothing half-written) and cancels DNS queries in flight. */
  async stop(): Promise<void> {
    this.closing = true;
    this.checker.cancel();
    await this.idle();
  }

  private kick(batchId: string): void {
    if (this.closing || this.running.has(batchId)) return;
    const work = this.process(batchId)
      .catch((err: unknown) => {
        if (!this.closing)
          this.log.error({ err, batchId }, 'validation run failed; it continues at the next start');
      })
      .finally(() => this.running.delete(batchId));
    this.running.set(batchId, work);
  }

  private async process(batchId: string): Promise<void> {
    const cache = new DomainCache(this.checker, this.cacheSize);
    const started = performance.now();
    const queriesBefore = this.checker.queries;
    for (;;) {
      if (this.closing) return;
      const run = this.readRun(batchId);
      if (!run) return;
      const rows = this.stmts.chunk.all(batchId, run.afterId, this.chunkSize);
      if (rows.length === 0) {
        this.finish(run, {
          durationMs: Math.round(performance.now() - started),
          domains: cache.lookups,
          queries: this.checker.queries - queriesBefore,
        });
        return;
      }
      const parts = rows.map((r) => addressParts(r.email));
      const outcomes = await Promise.all(parts.map((p) => (p ? cache.get(p.domain) : ('no_mail' as const))));
      if (this.closing) return;
      const verdicts = parts.map((p, i) => judge(p, outcomes[i] ?? 'unknown'));
      if (!this.commit(run, rows, verdicts)) return;
      await nextTurn();
    }
  }

  /** Writes one chunk's verdicts, the counts and the cursor; false when the run is gone. */
  private commit(run: RunState, rows: Row[], verdicts: ValidationResult[]): boolean {
    const now = this.deps.clock.now();
    return this.deps.db.transaction(() => {
      const current = this.readRun(run.batchId);
      const batch = this.stmts.batch.get(run.batchId);
      if (!current || current.id !== run.id || !batch) return false;
      const delta = zeroCounts();
      rows.forEach((row, i) => {
        const verdict = verdicts[i]!;
        const before = this.stmts.verdict.get(row.id, run.batchId);
        if (!before) return; // deleted meanwhile
        this.stmts.setVerdict.run(verdict, now, row.id);
        if (before.validation) delta[before.validation]--;
        delta[verdict]++;
      });
      const stored = this.readCounts(run.batchId);
      let counts: CountsState;
      if (!stored) {
        // No counts yet means no contact of the batch was ever validated: all were unchecked.
        counts = { ...delta, contactCount: batch.contactCount, finishedAt: null };
      } else if (stored.contactCount === batch.contactCount) {
        counts = { ...stored };
        for (const v of validationResults) counts[v] += delta[v];
      } else {
        counts = this.recount(run.batchId, batch.contactCount, stored.finishedAt);
      }
      this.stmts.putSetting.run(countsKey(run.batchId), JSON.stringify(counts));
      const last = rows.at(-1)!.id;
      const next: RunState = {
        ...current,
        afterId: Math.max(current.afterId, last),
        checked: current.checked + rows.length,
      };
      this.stmts.putSetting.run(runKey(run.batchId), JSON.stringify(next));
      return true;
    });
  }

  private finish(run: RunState, figures: { durationMs: number; domains: number; queries: number }): void {
    const now = this.deps.clock.now();
    const done = this.deps.db.transaction(() => {
      const current = this.readRun(run.batchId);
      if (!current || current.id !== run.id) return false;
      this.stmts.deleteSetting.run(runKey(run.batchId));
      const batch = this.stmts.batch.get(run.batchId);
      if (!batch) return false;
      const stored = this.readCounts(run.batchId);
      const counts =
        stored && stored.contactCount === batch.contactCount
          ? stored
          : this.recount(run.batchId, batch.contactCount, null);
      this.stmts.putSetting.run(countsKey(run.batchId), JSON.stringify({ ...counts, finishedAt: now }));
      return true;
    });
    if (done) {
      this.log.info(
        {
          batchId: run.batchId,
          runId: run.id,
          checked: run.checked,
          ...figures,
          counts: this.counts(run.batchId),
        },
        'validation finished',
      );
    }
  }

  private recount(batchId: string, contactCount: number, finishedAt: number | null): CountsState {
    const counts: CountsState = { ...zeroCounts(), contactCount, finishedAt };
    for (const { validation, n } of this.stmts.recount.all(batchId)) {
      if (validation && validation in counts) counts[validation] = n;
    }
    return counts;
  }

  private batchInfo(batchId: string): BatchInfo {
    const b = this.stmts.batch.get(batchId);
    if (!b) throw new DomainError('not_found', `No batch ${batchId}; see the batch list for ids.`);
    return b;
  }

  private readRun(batchId: string): RunState | null {
    const raw = this.stmts.getSetting.get(runKey(batchId));
    return raw === undefined ? null : runState.parse(JSON.parse(raw));
  }

  private readCounts(batchId: string): CountsState | null {
    const raw = this.stmts.getSetting.get(countsKey(batchId));
    return raw === undefined ? null : countsState.parse(JSON.parse(raw));
  }

  private runView(run: RunState, total: number): ValidationRun {
    return {
      id: run.id,
      batchId: run.batchId,
      actor: run.actor,
      startedAt: toIso(run.startedAt)!,
      checked: run.checked,
      total,
    };
  }
}

const zeroCounts = (): Record<ValidationResult, number> => ({
  valid: 0,
  role: 0,
  disposable: 0,
  no_mail_domain: 0,
  unknown: 0,
});

function withUnchecked(c: CountsState): ValidationCounts {
  const counts = {
    valid: c.valid,
    role: c.role,
    disposable: c.disposable,
    no_mail_domain: c.no_mail_domain,
    unknown: c.unknown,
  };
  const checked = validationResults.reduce((sum, v) => sum + counts[v], 0);
  return { ...counts, unchecked: Math.max(0, c.contactCount - checked) };
}
