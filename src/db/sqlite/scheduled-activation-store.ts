import { and, asc, eq, getTableColumns, lte, type SQL } from 'drizzle-orm';
import type { ActivationOrder, ActivationResult } from '../../core/batches/batch-store.js';
import type {
  ScheduleClose,
  ScheduledActivationRow,
  ScheduledActivationStore,
} from '../../core/batches/scheduled-activation-store.js';
import type { Db } from '../client.js';
import { batches, scheduledActivations } from '../schema.js';
import { activateBatch } from './batch-rows.js';
import { insertWebhooks } from './webhook-rows.js';

const t = scheduledActivations;
const pending = eq(t.state, 'pending');
const withName = { ...getTableColumns(t), batchName: batches.name };

/** The scheduled activations over SQLite: the only writer of `scheduled_activations`. */
export class SqliteScheduledActivationStore implements ScheduledActivationStore {
  constructor(private readonly db: Db) {}

  async schedule(s: {
    batchId: string;
    at: number;
    actor: string;
    createdAt: number;
    replaced: ScheduleClose;
  }): Promise<number> {
    return this.db.transaction((tx) => {
      tx.update(t)
        .set(closed('cancelled', s.replaced))
        .where(and(eq(t.batchId, s.batchId), pending))
        .run();
      return tx
        .insert(t)
        .values({
          batchId: s.batchId,
          at: s.at,
          state: 'pending',
          createdBy: s.actor,
          createdAt: s.createdAt,
        })
        .returning({ id: t.id })
        .get().id;
    });
  }

  async cancel(id: number, close: ScheduleClose): Promise<boolean> {
    return this.close(id, 'cancelled', close);
  }

  async find(id: number): Promise<ScheduledActivationRow | null> {
    return this.select(eq(t.id, id))[0] ?? null;
  }

  async findPending(batchId: string): Promise<ScheduledActivationRow | null> {
    return this.select(and(eq(t.batchId, batchId), pending)!)[0] ?? null;
  }

  async listPending(limit: number): Promise<ScheduledActivationRow[]> {
    return this.select(pending, limit);
  }

  async listDue(now: number): Promise<ScheduledActivationRow[]> {
    return this.select(and(pending, lte(t.at, now))!);
  }

  async apply(
    id: number,
    activation: ActivationOrder,
    done: { at: number; doneBy: string },
  ): Promise<ActivationResult> {
    return this.db.transaction((tx) => {
      const result = activateBatch(this.db.$client, activation.id, activation.change);
      if (result.kind === 'missing' || result.kind === 'importing') return result;
      if (result.kind === 'activated') insertWebhooks(tx, activation.webhooks(result));
      tx.update(t)
        .set({ state: 'applied', doneAt: done.at, doneBy: done.doneBy })
        .where(and(eq(t.id, id), pending))
        .run();
      return result;
    });
  }

  async fail(id: number, close: ScheduleClose): Promise<void> {
    this.close(id, 'failed', close);
  }

  /** Closes a pending activation; false when it was not pending any more. */
  private close(id: number, state: 'cancelled' | 'failed', close: ScheduleClose): boolean {
    return (
      this.db
        .update(t)
        .set(closed(state, close))
        .where(and(eq(t.id, id), pending))
        .run().changes > 0
    );
  }

  /** Activations with their batch's name, soonest first (`at`, id). */
  private select(where: SQL, limit?: number): ScheduledActivationRow[] {
    const q = this.db
      .select(withName)
      .from(t)
      .leftJoin(batches, eq(batches.id, t.batchId))
      .where(where)
      .orderBy(asc(t.at), asc(t.id));
    return limit === undefined ? q.all() : q.limit(limit).all();
  }
}

const closed = (state: 'cancelled' | 'failed', c: ScheduleClose) => ({
  state,
  doneAt: c.at,
  doneBy: c.actor,
  note: c.note,
});
