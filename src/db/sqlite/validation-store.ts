import type {
  ChunkRow,
  RunState,
  StartOutcome,
  StoredCounts,
  StoredFailure,
  ValidationBatch,
  ValidationStore,
} from '../../core/validation/validation-store.js';
import {
  type Actor,
  type ValidationResult,
  type ValidationRunStatus,
  validationResults,
} from '../../core/vocabulary.js';
import type { Db } from '../client.js';
import {
  type BatchInfo,
  type CountsArgs,
  countsArgs,
  type NewRun,
  type RunRow,
  runColumns,
  setCounts,
  toCounts,
  toRunState,
  zeroCounts,
} from './validation-rows.js';
import { adoptSettingsRuns } from './validation-settings.js';

/** The SQLite ValidationStore: runs and counts in `validation_runs`, verdicts on `contacts`. */
export class SqliteValidationStore implements ValidationStore {
  private readonly stmts;

  constructor(private readonly db: Db) {
    const s = db.$client;
    this.stmts = {
      batch: s.prepare<[string], BatchInfo>(
        `SELECT id, status, contact_count AS contactCount, include_invalid_domains AS includeInvalidDomains
           FROM batches WHERE id = ?`,
      ),
      chunk: s.prepare<[string, number, number], ChunkRow>(
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
      running: s.prepare<[string], RunRow>(
        `SELECT ${runColumns} FROM validation_runs WHERE batch_id = ? AND status = 'running'`,
      ),
      latest: s.prepare<[string], RunRow>(
        `SELECT ${runColumns} FROM validation_runs WHERE batch_id = ? ORDER BY seq DESC LIMIT 1`,
      ),
      allRunning: s
        .prepare<[], string>(
          `SELECT batch_id FROM validation_runs WHERE status = 'running' ORDER BY batch_id`,
        )
        .pluck(),
      insert: s.prepare<NewRun>(
        `INSERT INTO validation_runs (id, batch_id, seq, actor, status, started_at, ended_at, checked, message,
           valid, role, disposable, no_mail_domain, unknown, counted_of, validated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      setCounts: s.prepare<[...CountsArgs, string]>(`UPDATE validation_runs SET ${setCounts} WHERE id = ?`),
      advance: s.prepare<[...CountsArgs, number, number, string]>(
        `UPDATE validation_runs SET ${setCounts}, after_id = max(after_id, ?), checked = checked + ? WHERE id = ?`,
      ),
      finish: s.prepare<[number, ...CountsArgs, string]>(
        `UPDATE validation_runs SET status = 'finished', ended_at = ?, ${setCounts} WHERE id = ?`,
      ),
      fail: s.prepare<[number, string, string]>(
        `UPDATE validation_runs SET status = 'dns_unavailable', ended_at = ?, message = ? WHERE id = ?`,
      ),
    };
    // Databases from before validation_runs kept this state as JSON in `settings`: move it here once.
    adoptSettingsRuns(db.$client);
  }

  async getBatch(batchId: string): Promise<ValidationBatch | undefined> {
    return this.batch(batchId);
  }

  async getRun(batchId: string): Promise<RunState | null> {
    return this.run(batchId);
  }

  async getCounts(batchId: string): Promise<StoredCounts | null> {
    const r = this.stmts.latest.get(batchId);
    return r ? toCounts(r) : null;
  }

  async getFailure(batchId: string): Promise<StoredFailure | null> {
    const r = this.stmts.latest.get(batchId);
    if (r?.status !== 'dns_unavailable') return null;
    return {
      runId: r.id,
      status: r.status,
      message: r.message ?? '',
      at: r.endedAt ?? r.startedAt,
      checked: r.checked,
    };
  }

  async listRunning(): Promise<string[]> {
    return this.stmts.allRunning.all();
  }

  async recount(batchId: string): Promise<StoredCounts | null> {
    return this.db.$client.transaction(() => {
      const batch = this.stmts.batch.get(batchId);
      const latest = this.stmts.latest.get(batchId);
      if (!batch || !latest) return null;
      const counts = this.count(batchId, batch.contactCount, toCounts(latest)?.finishedAt ?? null);
      this.stmts.setCounts.run(...countsArgs(counts), latest.id);
      return counts;
    })();
  }

  async startRun(batchId: string, runId: string, actor: Actor, at: number): Promise<StartOutcome> {
    return this.db.$client
      .transaction((): StartOutcome => {
        const batch = this.batch(batchId);
        if (!batch) return { kind: 'not_found' };
        if (batch.status === 'importing') return { kind: 'importing', batch };
        const current = this.run(batchId);
        if (current) return { kind: 'running', run: current, batch };
        this.insertAfterLatest(batchId, runId, actor, 'running', at, null, 0, null);
        const run: RunState = { id: runId, batchId, actor, startedAt: at, afterId: 0, checked: 0 };
        return { kind: 'started', run, batch };
      })
      .immediate();
  }

  async readChunk(batchId: string, afterId: number, limit: number): Promise<ChunkRow[]> {
    return this.stmts.chunk.all(batchId, afterId, limit);
  }

  async commitChunk(
    run: RunState,
    rows: ChunkRow[],
    verdicts: ValidationResult[],
    at: number,
  ): Promise<boolean> {
    return this.db.$client.transaction(() => {
      const current = this.stmts.running.get(run.batchId);
      const batch = this.stmts.batch.get(run.batchId);
      if (current?.id !== run.id || !batch) return false;
      const delta = zeroCounts();
      rows.forEach((row, i) => {
        const verdict = verdicts[i]!;
        const before = this.stmts.verdict.get(row.id, run.batchId);
        if (!before) return; // deleted meanwhile
        this.stmts.setVerdict.run(verdict, at, row.id);
        if (before.validation) delta[before.validation]--;
        delta[verdict]++;
      });
      const stored = toCounts(current);
      let counts: StoredCounts;
      if (!stored) {
        // No counts yet means no contact of the batch was ever validated: all were unchecked.
        counts = { ...delta, contactCount: batch.contactCount, finishedAt: null };
      } else if (stored.contactCount === batch.contactCount) {
        counts = { ...stored };
        for (const v of validationResults) counts[v] += delta[v];
      } else {
        counts = this.count(run.batchId, batch.contactCount, stored.finishedAt);
      }
      this.stmts.advance.run(...countsArgs(counts), rows.at(-1)!.id, rows.length, run.id);
      return true;
    })();
  }

  async finishRun(run: RunState, at: number): Promise<boolean> {
    return this.db.$client.transaction(() => {
      const current = this.stmts.running.get(run.batchId);
      const batch = this.stmts.batch.get(run.batchId);
      if (current?.id !== run.id || !batch) return false;
      const stored = toCounts(current);
      const counts =
        stored && stored.contactCount === batch.contactCount
          ? stored
          : this.count(run.batchId, batch.contactCount, null);
      this.stmts.finish.run(at, ...countsArgs({ ...counts, finishedAt: at }), run.id);
      return true;
    })();
  }

  async recordFailure(
    batchId: string,
    runId: string | null,
    newRunId: string,
    at: number,
    describe: (progress: { checked: number; total: number }) => string,
  ): Promise<StoredFailure | null> {
    return this.db.$client
      .transaction((): StoredFailure | null => {
        const batch = this.stmts.batch.get(batchId);
        const current = this.stmts.running.get(batchId);
        if (!batch || (current?.id ?? null) !== runId) return null;
        const checked = current?.checked ?? 0;
        const message = describe({ checked, total: batch.contactCount });
        if (current) this.stmts.fail.run(at, message, current.id);
        else this.insertAfterLatest(batchId, newRunId, 'system', 'dns_unavailable', at, at, 0, message);
        return { runId: current?.id ?? newRunId, status: 'dns_unavailable', message, at, checked };
      })
      .immediate();
  }

  private batch(batchId: string): ValidationBatch | undefined {
    const b = this.stmts.batch.get(batchId);
    return b && { ...b, includeInvalidDomains: b.includeInvalidDomains === 1 };
  }

  private run(batchId: string): RunState | null {
    const r = this.stmts.running.get(batchId);
    return r ? toRunState(r) : null;
  }

  /** A new row numbered after the batch's latest, carrying its counts forward. */
  private insertAfterLatest(
    batchId: string,
    id: string,
    actor: string,
    status: ValidationRunStatus,
    startedAt: number,
    endedAt: number | null,
    checked: number,
    message: string | null,
  ): void {
    const latest = this.stmts.latest.get(batchId);
    const counts = latest ? toCounts(latest) : null;
    this.stmts.insert.run(
      id,
      batchId,
      (latest?.seq ?? 0) + 1,
      actor,
      status,
      startedAt,
      endedAt,
      checked,
      message,
      ...countsArgs(counts),
    );
  }

  private count(batchId: string, contactCount: number, finishedAt: number | null): StoredCounts {
    const counts: StoredCounts = { ...zeroCounts(), contactCount, finishedAt };
    for (const { validation, n } of this.stmts.recount.all(batchId)) {
      if (validation && validation in counts) counts[validation] = n;
    }
    return counts;
  }
}
