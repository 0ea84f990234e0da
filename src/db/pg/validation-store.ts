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
import { inTransaction, type PgDb, type PgExec, row, rows } from './client.js';
import { leaseLapsedSql, type PgClaimer } from './leases.js';
import {
  type BatchInfo,
  countsArgs,
  lockBatchValidation,
  type NewRun,
  type RunRow,
  runColumns,
  setCounts,
  toCounts,
  toRunState,
  zeroCounts,
} from './validation-rows.js';
import { adoptSettingsRuns } from './validation-settings.js';

const batchSql = `SELECT id, status, contact_count AS "contactCount", include_invalid_domains AS "includeInvalidDomains"
  FROM batches WHERE id = $1`;
const runningSql = `SELECT ${runColumns} FROM validation_runs WHERE batch_id = $1 AND status = 'running'`;
const latestSql = `SELECT ${runColumns} FROM validation_runs WHERE batch_id = $1 ORDER BY seq DESC LIMIT 1`;
const lapsedSql = `SELECT batch_id AS "batchId" FROM validation_runs
  WHERE status = 'running' AND ${leaseLapsedSql('validation_runs.carried_by')} ORDER BY batch_id COLLATE "C"`;

/**
 * The Postgres ValidationStore: runs and counts in `validation_runs`, verdicts on `contacts`, as
 * on SQLite. Every method that writes takes the batch's validation lock first (lockBatchValidation),
 * so the runs of one batch have one writer at a time as they had on SQLite: two instances
 * starting a run for one batch start one (the other gets it as `running`).
 *
 * Two instances may also both carry one run on (both resumed it, or `start` met it running and
 * took it up): each reads the chunk after the cursor it last saw, and commitChunk writes only
 * when the run's cursor is still there. The first to commit a stretch goes on; the other gets
 * false and stops, as it would for a run that ended, so no chunk is counted twice. A run names
 * the instance carrying it (`carried_by`, the lease: its starter, then whoever commits a chunk),
 * so the resume at start and the lease sweep (listRunning) take over only a dead instance's runs.
 */
export class PgValidationStore implements ValidationStore {
  /** The move of state kept in `settings` by an older version, once, before the first use. */
  private adopted: Promise<unknown> | null = null;

  /** `claimer`: the instance whose runs these are (`carried_by`); null: none, any resume takes them. */
  constructor(
    private readonly db: PgDb,
    private readonly claimer: PgClaimer = null,
  ) {}

  async getBatch(batchId: string): Promise<ValidationBatch | undefined> {
    return this.batch(await this.ready(), batchId);
  }

  async getRun(batchId: string): Promise<RunState | null> {
    const r = await row<RunRow>(await this.ready(), runningSql, [batchId]);
    return r ? toRunState(r) : null;
  }

  async getCounts(batchId: string): Promise<StoredCounts | null> {
    const r = await row<RunRow>(await this.ready(), latestSql, [batchId]);
    return r ? toCounts(r) : null;
  }

  async getFailure(batchId: string): Promise<StoredFailure | null> {
    const r = await row<RunRow>(await this.ready(), latestSql, [batchId]);
    if (r?.status !== 'dns_unavailable') return null;
    return {
      runId: r.id,
      status: r.status,
      message: r.message ?? '',
      at: r.endedAt ?? r.startedAt,
      checked: r.checked,
    };
  }

  /** Running runs no live instance carries (it stopped or died, or none is named); byte order, as SQLite. */
  async listRunning(): Promise<string[]> {
    const found = await rows<{ batchId: string }>(await this.ready(), lapsedSql);
    return found.map((r) => r.batchId);
  }

  async recount(batchId: string): Promise<StoredCounts | null> {
    return this.inBatch(batchId, async (tx) => {
      const batch = await this.batch(tx, batchId);
      const latest = await row<RunRow>(tx, latestSql, [batchId]);
      if (!batch || !latest) return null;
      const counts = await this.count(tx, batchId, batch.contactCount, toCounts(latest)?.finishedAt ?? null);
      await tx.query(`UPDATE validation_runs SET ${setCounts(1)} WHERE id = $8`, [
        ...countsArgs(counts),
        latest.id,
      ]);
      return counts;
    });
  }

  async startRun(batchId: string, runId: string, actor: Actor, at: number): Promise<StartOutcome> {
    return this.inBatch(batchId, async (tx): Promise<StartOutcome> => {
      const batch = await this.batch(tx, batchId);
      if (!batch) return { kind: 'not_found' };
      if (batch.status === 'importing') return { kind: 'importing', batch };
      const current = await row<RunRow>(tx, runningSql, [batchId]);
      if (current) return { kind: 'running', run: toRunState(current), batch };
      await this.insertAfterLatest(tx, batchId, runId, actor, 'running', at, null, 0, null);
      const run: RunState = { id: runId, batchId, actor, startedAt: at, afterId: 0, checked: 0 };
      return { kind: 'started', run, batch };
    });
  }

  async readChunk(batchId: string, afterId: number, limit: number): Promise<ChunkRow[]> {
    return rows<ChunkRow>(
      await this.ready(),
      `SELECT id, email FROM contacts WHERE batch_id = $1 AND id > $2 ORDER BY id LIMIT $3`,
      [batchId, afterId, limit],
    );
  }

  async commitChunk(
    run: RunState,
    chunk: ChunkRow[],
    verdicts: ValidationResult[],
    at: number,
  ): Promise<boolean> {
    return this.inBatch(run.batchId, async (tx) => {
      const current = await row<RunRow>(tx, runningSql, [run.batchId]);
      const batch = await this.batch(tx, run.batchId);
      // Another instance carrying the same run committed this stretch already (see the class).
      if (current?.id !== run.id || current.afterId !== run.afterId || !batch) return false;
      // One statement for the chunk. Only validation writes `validation`, under the batch's lock,
      // so the value read beside each row is the one replaced; a contact deleted meanwhile is
      // not updated, so not returned (nor counted).
      const changed = await rows<{ before: ValidationResult | null; after: ValidationResult }>(
        tx,
        `UPDATE contacts c SET validation = u.verdict, validated_at = $3
           FROM (SELECT o.id, o.validation AS before, v.verdict
                   FROM unnest($1::bigint[], $2::text[]) AS v(id, verdict)
                   JOIN contacts o ON o.id = v.id AND o.batch_id = $4) AS u
          WHERE c.id = u.id
         RETURNING u.before, u.verdict AS after`,
        [chunk.map((r) => r.id), verdicts.slice(0, chunk.length), at, run.batchId],
      );
      const delta = zeroCounts();
      for (const { before, after } of changed) {
        if (before) delta[before]--;
        delta[after]++;
      }
      const stored = toCounts(current);
      let counts: StoredCounts;
      if (!stored) {
        // No counts yet means no contact of the batch was ever validated: all were unchecked.
        counts = { ...delta, contactCount: batch.contactCount, finishedAt: null };
      } else if (stored.contactCount === batch.contactCount) {
        counts = { ...stored };
        for (const v of validationResults) counts[v] += delta[v];
      } else {
        counts = await this.count(tx, run.batchId, batch.contactCount, stored.finishedAt);
      }
      await tx.query(
        `UPDATE validation_runs SET ${setCounts(1)}, after_id = GREATEST(after_id, $8), checked = checked + $9,
           carried_by = $11 WHERE id = $10`,
        [...countsArgs(counts), chunk.at(-1)!.id, chunk.length, run.id, this.claimer?.id ?? null],
      );
      return true;
    });
  }

  async finishRun(run: RunState, at: number): Promise<boolean> {
    return this.inBatch(run.batchId, async (tx) => {
      const current = await row<RunRow>(tx, runningSql, [run.batchId]);
      const batch = await this.batch(tx, run.batchId);
      if (current?.id !== run.id || !batch) return false;
      const stored = toCounts(current);
      const counts =
        stored && stored.contactCount === batch.contactCount
          ? stored
          : await this.count(tx, run.batchId, batch.contactCount, null);
      await tx.query(
        `UPDATE validation_runs SET status = 'finished', ended_at = $1, ${setCounts(2)} WHERE id = $9`,
        [at, ...countsArgs({ ...counts, finishedAt: at }), run.id],
      );
      return true;
    });
  }

  async recordFailure(
    batchId: string,
    runId: string | null,
    newRunId: string,
    at: number,
    describe: (progress: { checked: number; total: number }) => string,
  ): Promise<StoredFailure | null> {
    return this.inBatch(batchId, async (tx): Promise<StoredFailure | null> => {
      const batch = await this.batch(tx, batchId);
      const current = await row<RunRow>(tx, runningSql, [batchId]);
      if (!batch || (current?.id ?? null) !== runId) return null;
      const checked = current?.checked ?? 0;
      const message = describe({ checked, total: batch.contactCount });
      if (current) {
        await tx.query(
          `UPDATE validation_runs SET status = 'dns_unavailable', ended_at = $1, message = $2 WHERE id = $3`,
          [at, message, current.id],
        );
      } else {
        await this.insertAfterLatest(tx, batchId, newRunId, 'system', 'dns_unavailable', at, at, 0, message);
      }
      return { runId: current?.id ?? newRunId, status: 'dns_unavailable', message, at, checked };
    });
  }

  /**
   * The pool, once the state an older version kept in `settings` has been moved (the SQLite store
   * does it in its constructor; here it needs a query, so it runs before the first call). A
   * failed move is tried again at the next call.
   */
  private async ready(): Promise<PgExec> {
    this.adopted ??= adoptSettingsRuns(this.db.$client).catch((e: unknown) => {
      this.adopted = null;
      throw e;
    });
    await this.adopted;
    return this.db.$client;
  }

  /** One transaction holding the batch's validation lock. */
  private async inBatch<T>(batchId: string, fn: (tx: PgExec) => Promise<T>): Promise<T> {
    await this.ready();
    return inTransaction(this.db.$client, async (tx) => {
      await lockBatchValidation(tx, batchId);
      return fn(tx);
    });
  }

  private async batch(exec: PgExec, batchId: string): Promise<ValidationBatch | undefined> {
    return row<BatchInfo>(exec, batchSql, [batchId]);
  }

  /** A new row numbered after the batch's latest, carrying its counts forward; a running one is ours. */
  private async insertAfterLatest(
    tx: PgExec,
    batchId: string,
    id: string,
    actor: string,
    status: ValidationRunStatus,
    startedAt: number,
    endedAt: number | null,
    checked: number,
    message: string | null,
  ): Promise<void> {
    const latest = await row<RunRow>(tx, latestSql, [batchId]);
    const counts = latest ? toCounts(latest) : null;
    const values: NewRun = [
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
    ];
    await tx.query(
      `INSERT INTO validation_runs (id, batch_id, seq, actor, status, started_at, ended_at, checked, message,
         valid, role, disposable, no_mail_domain, unknown, counted_of, validated_at, carried_by)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)`,
      [...values, status === 'running' ? (this.claimer?.id ?? null) : null],
    );
  }

  private async count(
    exec: PgExec,
    batchId: string,
    contactCount: number,
    finishedAt: number | null,
  ): Promise<StoredCounts> {
    const counts: StoredCounts = { ...zeroCounts(), contactCount, finishedAt };
    const found = await rows<{ validation: ValidationResult | null; n: number }>(
      exec,
      `SELECT validation, count(*) AS n FROM contacts WHERE batch_id = $1 GROUP BY validation`,
      [batchId],
    );
    for (const { validation, n } of found) {
      if (validation && validation in counts) counts[validation] = n;
    }
    return counts;
  }
}
