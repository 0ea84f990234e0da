import { sql } from 'drizzle-orm';
import type { WebhookDelivery } from '../../core/webhooks/webhook-store.js';
import type { Db } from '../client.js';
import { webhookDeliveries } from '../schema.js';

/** The app's connection or a transaction on it: anything that can insert. */
export type Writer = Pick<Db, 'insert'>;

/** Inserts an event's pending deliveries with the caller's writer (inside the change's transaction). */
export function insertWebhooks(db: Writer, rows: readonly WebhookDelivery[] | undefined): void {
  if (!rows || rows.length === 0) return;
  db.insert(webhookDeliveries)
    .values([...rows])
    .run();
}

/** A forget: removes the deliveries (the delivery log) whose payload quotes `text` (lower-cased); how many. */
export function deleteWebhooksQuoting(db: Pick<Db, 'delete'>, text: string): number {
  return db
    .delete(webhookDeliveries)
    .where(sql`instr(lower(${webhookDeliveries.payload}), ${text}) > 0`)
    .run().changes;
}
