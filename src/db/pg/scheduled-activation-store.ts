import type pg from 'pg';
import type { ActivationOrder, ActivationResult } from '../../core/batches/batch-store.js';
import type {
  ScheduleClose,
  ScheduledActivationRow,
  ScheduledActivationStore,
} from '../../core/batches/scheduled-activation-store.js';
import type { ScheduledActivationState } from '../../core/vocabulary.js';
import { activateBatch } from './batch-rows.js';
import { inTransaction, type PgDb, type PgExec, row, rows } from './client.js';
import { insertWebhooks } from './webhook-rows.js';

/** An activation with its batch's name, camelCase aliases quoted. */
const withName = `SELECT t.id, t.batch_id AS "batchId", b.name AS "batchName", t.at, t.state,
  t.created_by AS "createdBy", t.created_at AS "createdAt", t.done_at AS "doneAt", t.done_by AS "doneBy", t.note
  FROM scheduled_activations t LEFT JOIN batches b ON b.id = t.batch_id`;

/** How often `schedule` starts over after another instance's schedule of the same batch won the race. */
const scheduleAttempts = 3;

/**
 * The scheduled activations over Postgres: the only writer of `scheduled_activations`. Several
 * instances may list the same due row; `apply` locks it first, so exactly one applies it.
 */
export class PgScheduledActivationStore implements ScheduledActivationStore {
  private readonly pool: pg.Pool;

  constructor(db: PgDb) {
    this.pool = db.$client;
  }

  async schedule(s: {
    batchId: string;
    at: number;
    actor: string;
    createdAt: number;
    replaced: ScheduleClose;
  }): Promise<number> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await inTransaction(this.pool, async (tx) => {
          await tx.query(
            `UPDATE scheduled_activations SET state = 'cancelled', done_at = $2, done_by = $3, note = $4
             WHERE batch_id = $1 AND state = 'pending'`,
            [s.batchId, s.replaced.at, s.replaced.actor, s.replaced.note],
          );
          const added = await row<{ id: number }>(
            tx,
            `INSERT INTO scheduled_activations (batch_id, at, state, created_by, created_at)
             VALUES ($1, $2, 'pending', $3, $4) RETURNING id`,
            [s.batchId, s.at, s.actor, s.createdAt],
          );
          return added!.id;
        });
      } catch (e) {
        // Two schedules of one batch at once: the later insert meets the earlier's pending row
        // (committed after this transaction's cancel looked). SQLite ran them one after the
        // other, the second replacing the first: starting over does the same.
        if (attempt < scheduleAttempts && uniqueViolation(e, 'scheduled_activations_one_pending')) continue;
        throw e;
      }
    }
  }

  async cancel(id: number, close: ScheduleClose): Promise<boolean> {
    return this.close(id, 'cancelled', close);
  }

  async find(id: number): Promise<ScheduledActivationRow | null> {
    return (await row<ScheduledActivationRow>(this.pool, `${withName} WHERE t.id = $1`, [id])) ?? null;
  }

  async findPending(batchId: string): Promise<ScheduledActivationRow | null> {
    const r = await row<ScheduledActivationRow>(
      this.pool,
      `${withName} WHERE t.batch_id = $1 AND t.state = 'pending' ORDER BY t.at, t.id`,
      [batchId],
    );
    return r ?? null;
  }

  async listPending(limit: number): Promise<ScheduledActivationRow[]> {
    return rows(this.pool, `${withName} WHERE t.state = 'pending' ORDER BY t.at, t.id LIMIT $1`, [limit]);
  }

  async listDue(now: number): Promise<ScheduledActivationRow[]> {
    return rows(this.pool, `${withName} WHERE t.state = 'pending' AND t.at <= $1 ORDER BY t.at, t.id`, [now]);
  }

  async apply(
    id: number,
    activation: ActivationOrder,
    done: { at: number; doneBy: string },
  ): Promise<ActivationResult> {
    return inTransaction(this.pool, async (tx) => {
      // The claim: the row locked, then read. An instance applying it at the same moment waits
      // here and then finds it applied (its batch is active: already_active); one cancelled or
      // failed meanwhile, or gone with its batch, is not applied (missing). Nothing is written.
      const state = await lockedState(tx, id);
      if (state === 'applied') return { kind: 'already_active' as const };
      if (state !== 'pending') return { kind: 'missing' as const };
      const result = await activateBatch(tx, activation.id, activation.change);
      if (result.kind === 'missing' || result.kind === 'importing') return result;
      if (result.kind === 'activated') await insertWebhooks(tx, activation.webhooks(result));
      await tx.query(
        `UPDATE scheduled_activations SET state = 'applied', done_at = $2, done_by = $3
         WHERE id = $1 AND state = 'pending'`,
        [id, done.at, done.doneBy],
      );
      return result;
    });
  }

  async fail(id: number, close: ScheduleClose): Promise<void> {
    await this.close(id, 'failed', close);
  }

  /** Closes a pending activation; false when it was not pending any more (one statement: atomic). */
  private async close(id: number, state: 'cancelled' | 'failed', close: ScheduleClose): Promise<boolean> {
    const r = await this.pool.query(
      `UPDATE scheduled_activations SET state = $2, done_at = $3, done_by = $4, note = $5
       WHERE id = $1 AND state = 'pending'`,
      [id, state, close.at, close.actor, close.note],
    );
    return (r.rowCount ?? 0) > 0;
  }
}

/** The activation's state with its row locked until the transaction ends; null when there is no such row. */
async function lockedState(tx: PgExec, id: number): Promise<ScheduledActivationState | null> {
  const r = await row<{ state: ScheduledActivationState }>(
    tx,
    'SELECT state FROM scheduled_activations WHERE id = $1 FOR UPDATE',
    [id],
  );
  return r?.state ?? null;
}

/** Whether `e` is Postgres's unique violation of the index `constraint`. */
function uniqueViolation(e: unknown, constraint: string): boolean {
  return (
    typeof e === 'object' &&
    e !== null &&
    (e as { code?: unknown }).code === '23505' &&
    (e as { constraint?: unknown }).constraint === constraint
  );
}
