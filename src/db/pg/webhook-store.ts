import type pg from 'pg';
import type { WebhookDeliveryState } from '../../core/vocabulary.js';
import type { AttemptOutcome, DeliveryRow, WebhookStore } from '../../core/webhooks/webhook-store.js';
import { inTransaction, type PgDb, rows } from './client.js';

/** Every column of a DeliveryRow, camelCase aliases quoted. */
const deliveryColumns = `id, event, url, payload, state, attempts, next_attempt_at AS "nextAttemptAt",
  last_status AS "lastStatus", last_error AS "lastError", created_at AS "createdAt", delivered_at AS "deliveredAt"`;

/**
 * The Postgres WebhookStore: the dispatcher's side of `webhook_deliveries` (claims, outcomes, the
 * log). Rows are inserted by the store of each change, in its transaction (webhook-rows.ts).
 * Several instances dispatch at once: a claim locks its rows and skips those another holds.
 */
export class PgWebhookStore implements WebhookStore {
  private readonly pool: pg.Pool;

  constructor(db: PgDb) {
    this.pool = db.$client;
  }

  async claimDue(q: { now: number; leaseUntil: number; limit: number }): Promise<DeliveryRow[]> {
    return inTransaction(this.pool, async (tx) => {
      // SKIP LOCKED: rows another instance is claiming right now are left to it. Once it commits,
      // their next attempt is its lease, no longer due, so they are not taken here either.
      const due = await rows<DeliveryRow>(
        tx,
        `SELECT ${deliveryColumns} FROM webhook_deliveries
          WHERE state = 'pending' AND next_attempt_at < $1
          ORDER BY next_attempt_at, id LIMIT $2
          FOR UPDATE SKIP LOCKED`,
        [q.now + 1, q.limit],
      );
      if (due.length > 0) {
        await tx.query('UPDATE webhook_deliveries SET next_attempt_at = $1 WHERE id = ANY($2::bigint[])', [
          q.leaseUntil,
          due.map((r) => r.id),
        ]);
      }
      // As read before the lease, like SQLite's claim.
      return due;
    });
  }

  async settle(id: number, outcome: AttemptOutcome): Promise<void> {
    if (outcome.kind === 'delivered') {
      await this.pool.query(
        `UPDATE webhook_deliveries SET state = 'delivered', attempts = $2, last_status = $3, last_error = NULL,
           delivered_at = $4, next_attempt_at = NULL
         WHERE id = $1`,
        [id, outcome.attempts, outcome.status, outcome.at],
      );
      return;
    }
    await this.pool.query(
      `UPDATE webhook_deliveries SET state = $2, attempts = $3, last_status = $4, last_error = $5,
         next_attempt_at = $6
       WHERE id = $1`,
      [
        id,
        outcome.retryAt === null ? 'failed' : 'pending',
        outcome.attempts,
        outcome.status,
        outcome.error,
        outcome.retryAt,
      ],
    );
  }

  async listNewestFirst(q: {
    state?: WebhookDeliveryState;
    beforeId?: number;
    limit: number;
  }): Promise<DeliveryRow[]> {
    const values: unknown[] = [];
    const where: string[] = [];
    if (q.state) {
      values.push(q.state);
      where.push(`state = $${values.length}`);
    }
    if (q.beforeId !== undefined) {
      values.push(q.beforeId);
      where.push(`id < $${values.length}`);
    }
    values.push(q.limit);
    return rows(
      this.pool,
      `SELECT ${deliveryColumns} FROM webhook_deliveries ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY id DESC LIMIT $${values.length}`,
      values,
    );
  }
}
