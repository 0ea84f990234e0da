import { and, desc, eq, inArray, lt } from 'drizzle-orm';
import type { WebhookDeliveryState } from '../../core/vocabulary.js';
import type { AttemptOutcome, DeliveryRow, WebhookStore } from '../../core/webhooks/webhook-store.js';
import type { Db } from '../client.js';
import { webhookDeliveries } from '../schema.js';

/**
 * The SQLite WebhookStore: the dispatcher's side of `webhook_deliveries` (claims, outcomes, the
 * log). Rows are inserted by the store of each change, in its transaction, and removed by a
 * forget, with the functions of webhook-rows.ts.
 */
export class SqliteWebhookStore implements WebhookStore {
  constructor(private readonly db: Db) {}

  async claimDue(q: { now: number; leaseUntil: number; limit: number }): Promise<DeliveryRow[]> {
    return this.db.transaction((tx) => {
      const rows = tx
        .select()
        .from(webhookDeliveries)
        .where(and(eq(webhookDeliveries.state, 'pending'), lt(webhookDeliveries.nextAttemptAt, q.now + 1)))
        .orderBy(webhookDeliveries.nextAttemptAt, webhookDeliveries.id)
        .limit(q.limit)
        .all();
      if (rows.length > 0) {
        tx.update(webhookDeliveries)
          .set({ nextAttemptAt: q.leaseUntil })
          .where(
            inArray(
              webhookDeliveries.id,
              rows.map((r) => r.id),
            ),
          )
          .run();
      }
      return rows;
    });
  }

  async settle(id: number, outcome: AttemptOutcome): Promise<void> {
    const change =
      outcome.kind === 'delivered'
        ? {
            state: 'delivered' as const,
            attempts: outcome.attempts,
            lastStatus: outcome.status,
            lastError: null,
            deliveredAt: outcome.at,
            nextAttemptAt: null,
          }
        : {
            state: outcome.retryAt === null ? ('failed' as const) : ('pending' as const),
            attempts: outcome.attempts,
            lastStatus: outcome.status,
            lastError: outcome.error,
            nextAttemptAt: outcome.retryAt,
          };
    this.db.update(webhookDeliveries).set(change).where(eq(webhookDeliveries.id, id)).run();
  }

  async listNewestFirst(q: {
    state?: WebhookDeliveryState;
    beforeId?: number;
    limit: number;
  }): Promise<DeliveryRow[]> {
    return this.db
      .select()
      .from(webhookDeliveries)
      .where(
        and(
          q.state ? eq(webhookDeliveries.state, q.state) : undefined,
          q.beforeId !== undefined ? lt(webhookDeliveries.id, q.beforeId) : undefined,
        ),
      )
      .orderBy(desc(webhookDeliveries.id))
      .limit(q.limit)
      .all();
  }
}
