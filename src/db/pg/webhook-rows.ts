import type { WebhookDelivery } from '../../core/webhooks/webhook-store.js';
import type { PgExec } from './client.js';

/** A transaction's client (or the pool): anything that can insert. */
export type Writer = PgExec;

/**
 * Inserts an event's pending deliveries with the caller's client (inside the change's
 * transaction): one statement for all of them.
 */
export async function insertWebhooks(
  exec: Writer,
  rows: readonly WebhookDelivery[] | undefined,
): Promise<void> {
  if (!rows || rows.length === 0) return;
  await exec.query(
    `INSERT INTO webhook_deliveries (event, url, payload, created_at, next_attempt_at)
     SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::bigint[])`,
    [
      rows.map((r) => r.event),
      rows.map((r) => r.url),
      rows.map((r) => r.payload),
      rows.map((r) => r.createdAt),
      rows.map((r) => r.nextAttemptAt),
    ],
  );
}

/** A forget: removes the deliveries (the delivery log) whose payload quotes `text` (lower-cased); how many. */
export async function deleteWebhooksQuoting(exec: PgExec, text: string): Promise<number> {
  const result = await exec.query('DELETE FROM webhook_deliveries WHERE strpos(lower(payload), $1) > 0', [
    text,
  ]);
  return result.rowCount ?? 0;
}
