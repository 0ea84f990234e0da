import { randomBytes } from 'node:crypto';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { eq } from 'drizzle-orm';
import { z } from 'zod';
import { batchEvents, batches, type ValidationResult, validationResults } from '../../db/schema.js';
import { DomainError } from '../../errors.js';
import { type Batch, toBatch } from '../batches/batch.js';
import { type Actor, type CoreDeps, toIso } from '../types.js';
import { type DnsSettings, DomainChecker, type ResolverHealth } from './dns.js';
import { dnsUnavailableMessage } from './dns-health.js';
import { DomainCache, mostlyUnresolved } from './domain-cache.js';
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

/**
 * A run that stopped because DNS lookups were failing (the resolver answered NXDOMAIN, SERVFAIL
 * or nothing for domains that have an MX): no verdict was written from then on.
 */
export type ValidationFailure = {
  runId: string;
  status: 'dns_unavailable';
  /** What failed and what to do, for people. */
  message: string;
  at: string;
  /** Contacts the run had checked before it stopped (they keep their verdicts). */
  checked: number;
};

export type ValidationSummary = {
  counts: ValidationCounts;
  run: ValidationRun | null;
  /** The last run stopped because DNS was failing (null once a run starts again). */
  failure: ValidationFailure | null;
  /** When the last complete run finished. */
  lastValidatedAt: string | null;
  includeInvalidDomains: boolean;
};

export type StartResult =
  | { kind: 'started' | 'running'; run: ValidationRun; counts: ValidationCounts }
  | { kind: 'dns_unavailable'; failure: ValidationFailure; counts: ValidationCounts };

export type ValidationSettings = DnsSettings & {
  /** Domains known to have an MX, looked up before each run (see ResolverHealth); empty: no check. */
  probeDomains: readonly string[];
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

/** The last run of a batch stopped as dns_unavailable, under `validation:failure:<batch id>`. */
const failureState = z.object({
  runId: z.string(),
  status: z.literal('dns_unavailable'),
  message: z.string(),
  at: z.number(),
  checked: z.number().int(),
});

const runPrefix = 'validation:run:';
const runKey = (batchId: string) => `${runPrefix}${batchId}`;
const countsKey = (batchId: string) => `validation:counts:${batchId}`;
const failureKey = (batchId: string) => `validation:failure:${batchId}`;

type BatchInfo = { id: string; status: string; contactCount: number; includeInvalidDomains: number };
type Row = { id: number; email: string };

/**
 * Bulk e-mail validation of a batch: syntax, role mailboxes, disposable domains and MX/A/AAAA
 * lookups, one verdict per contact (`contacts.validation`). A run walks the batch by id in
 * chunks, looks the chunk's domains up (cached per run, bounded concurrency), then writes the
 * verdicts, the counts and its cursor in one transaction; a run cut short continues from its
 * cursor at the next start (or the next `start`).
 *
 * Before a run, and again when most of a chunk's domains do not resolve, a few domains known to
 * have an MX are looked up: when none does, the resolver is broken, and the run stops as
 * `dns_unavailable` rather than marking every contact `no_mail_domain`.
 */
export class ValidationService {
  private readonly log;
  private readonly checker: DomainChecker;
  private readonly stmts;
  private readonly running = new Map<string, Promise<void>>();
  /** Starts waiting for the resolver check, so idle() waits for them too. */
  private readonly starting = new Set<Promise<unknown>>();
  private closing = false;
  private readonly chunkSize: number;
  private readonly cacheSize: number;
  private readonly probeDomains: readonly string[];

  constructor(
    private readonly deps: CoreDeps,
    settings: ValidationSettings,
  ) {
    this.log = deps.log.child({ module: 'validation' });
    this.checker = new DomainChecker(settings);
    this.chunkSize = settings.chunkSize ?? 500;
    this.cacheSize = settings.cacheSize ?? 10_000;
    this.probeDomains = settings.probeDomains;
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
   * Checks that DNS works, then starts validating a batch in the background; or returns the run
   * already under way (resuming it if this process was not running it), or dns_unavailable when
   * the resolver is broken (nothing is marked). Throws not_found, or conflict while it imports.
   */
  start(batchId: string, actor: Actor): Promise<StartResult> {
    const work = this.begin(batchId, actor);
    this.starting.add(work);
    const done = () => this.starting.delete(work);
    work.then(done, done);
    return work;
  }

  private async begin(batchId: string, actor: Actor): Promise<StartResult> {
    const batch = this.batchInfo(batchId);
    this.assertNotImporting(batch);
    const current = this.readRun(batchId);
    if (current) {
      this.kick(batchId, false);
      return {
        kind: 'running',
        run: this.runView(current, batch.contactCount),
        counts: this.counts(batchId),
      };
    }
    this.assertOpen();
    const health = await this.checker.probe(this.probeDomains);
    this.assertOpen();
    if (!health.ok) {
      const failure = this.recordDnsFailure(batchId, null, health);
      // Null: a run was started meanwhile (answered as running), or the batch was deleted (not_found).
      if (!failure) return this.begin(batchId, actor);
      return { kind: 'dns_unavailable', failure, counts: this.counts(batchId) };
    }
    const { kind, run, info } = this.deps.db.transaction(
      (): { kind: 'started' | 'running'; run: RunState; info: BatchInfo } => {
        const info = this.batchInfo(batchId);
        this.assertNotImporting(info);
        const current = this.readRun(batchId);
        if (current) return { kind: 'running', run: current, info };
        const run: RunState = {
          id: newRunId(),
          batchId,
          actor,
          startedAt: this.deps.clock.now(),
          afterId: 0,
          checked: 0,
        };
        this.stmts.putSetting.run(runKey(batchId), JSON.stringify(run));
        this.stmts.deleteSetting.run(failureKey(batchId));
        return { kind: 'started', run, info };
      },
    );
    if (kind === 'started') {
      this.log.info({ batchId, runId: run.id, actor, contacts: info.contactCount }, 'validation started');
    }
    this.kick(batchId, true);
    return { kind, run: this.runView(run, info.contactCount), counts: this.counts(batchId) };
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
      this.kick(batchId, false);
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
    const failure = this.readFailure(batchId);
    return {
      counts,
      run: run ? this.runView(run, batch.contactCount) : null,
      failure: failure && { ...failure, at: toIso(failure.at)! },
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

  /** Resolves once no run is in progress (or starting) in this process. */
  async idle(): Promise<void> {
    while (this.running.size > 0 || this.starting.size > 0)
      await Promise.allSettled([...this.running.values(), ...this.starting]);
  }

  /** Stops every run after its current chunk (nothing half-written) and cancels DNS queries in flight. */
  async stop(): Promise<void> {
    this.closing = true;
    this.checker.cancel();
    await this.idle();
  }

  /** Runs the batch's run in the background unless it already runs; `probed`: DNS was just checked. */
  private kick(batchId: string, probed: boolean): void {
    if (this.closing || this.running.has(batchId)) return;
    const work = this.process(batchId, probed)
      .catch((err: unknown) => {
        if (!this.closing)
          this.log.error({ err, batchId }, 'validation run failed; it continues at the next start');
      })
      .finally(() => this.running.delete(batchId));
    this.running.set(batchId, work);
  }

  private async process(batchId: string, probed: boolean): Promise<void> {
    const cache = new DomainCache(this.checker, this.cacheSize);
    const started = performance.now();
    const queriesBefore = this.checker.queries;
    let dnsChecked = probed;
    for (;;) {
      if (this.closing) return;
      const run = this.readRun(batchId);
      if (!run) return;
      if (!dnsChecked) {
        // A run resumed after a restart: the resolver may be broken now.
        if (!(await this.dnsWorks(run))) return;
        dnsChecked = true;
      }
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
      const lookups = parts.map((p) => (p ? { domain: p.domain, ...cache.get(p.domain) } : null));
      const outcomes = await Promise.all(lookups.map((l) => l?.outcome ?? ('no_mail' as const)));
      if (this.closing) return;
      // Most new domains did not resolve: a resolver that broke mid-run answers NXDOMAIN (or
      // nothing) for everything, so check it before writing verdicts that would condemn them.
      if (mostlyUnresolved(lookups, outcomes) && !(await this.dnsWorks(run))) return;
      const verdicts = parts.map((p, i) => judge(p, outcomes[i] ?? 'unknown'));
      if (!this.commit(run, rows, verdicts)) return;
      await nextTurn();
    }
  }

  /** Looks up the probe domains; when none resolves, ends the run as dns_unavailable (false). */
  private async dnsWorks(run: RunState): Promise<boolean> {
    const health = await this.checker.probe(this.probeDomains);
    if (this.closing) return false;
    if (health.ok) return true;
    this.recordDnsFailure(run.batchId, run, health);
    return false;
  }

  /**
   * Records that DNS failed: before any run (`run` null), or ending `run` where it got to (its
   * verdicts so far stay). Null when another run has taken over meanwhile (nothing recorded).
   */
  private recordDnsFailure(
    batchId: string,
    run: RunState | null,
    health: Extract<ResolverHealth, { ok: false }>,
  ): ValidationFailure | null {
    const now = this.deps.clock.now();
    const failure = this.deps.db.transaction(() => {
      const batch = this.stmts.batch.get(batchId);
      const current = this.readRun(batchId);
      if (!batch || current?.id !== run?.id) return null;
      const checked = current?.checked ?? 0;
      const state: z.infer<typeof failureState> = {
        runId: run?.id ?? newRunId(),
        status: 'dns_unavailable',
        message: dnsUnavailableMessage(health, { checked, total: batch.contactCount }),
        at: now,
        checked,
      };
      this.stmts.deleteSetting.run(runKey(batchId));
      this.stmts.putSetting.run(failureKey(batchId), JSON.stringify(state));
      return state;
    });
    if (!failure) return null;
    this.log.warn(
      {
        batchId,
        runId: failure.runId,
        checked: failure.checked,
        resolvers: health.resolvers,
        answers: health.answers,
      },
      'validation stopped: DNS lookups are failing, no contact marked from here on',
    );
    return { ...failure, at: toIso(failure.at)! };
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
      this.stmts.deleteSetting.run(failureKey(run.batchId));
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

  private assertNotImporting(batch: BatchInfo): void {
    if (batch.status === 'importing') {
      throw new DomainError(
        'conflict',
        `Batch ${batch.id} is still importing; validate it once the import is done.`,
      );
    }
  }

  private assertOpen(): void {
    if (this.closing)
      throw new DomainError('conflict', 'coldbatch is shutting down; validate again once it is back.');
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

  private readFailure(batchId: string): z.infer<typeof failureState> | null {
    const raw = this.stmts.getSetting.get(failureKey(batchId));
    return raw === undefined ? null : failureState.parse(JSON.parse(raw));
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

const newRunId = () => `val_${randomBytes(4).toString('hex')}`;

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
