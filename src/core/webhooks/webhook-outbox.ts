import { randomUUID } from 'node:crypto';
import type { Db } from '../../db/client.js';
import { webhookDeliveries } from '../../db/schema.js';
import type { SendTally } from '../sending/send-tally.js';
import { publicWebhookUrl } from './webhook-url.js';

/** The events coldbatch tells CRMs about. */
export const webhookEvents = [
  'batch.imported',
  'batch.activated',
  'contact.bounced',
  'contact.unsubscribed',
  'campaign.completed',
] as const;
export type WebhookEvent = (typeof webhookEvents)[number];

/** The JSON body every webhook carries. */
export type WebhookBody = {
  id: string;
  type: WebhookEvent;
  createdAt: string;
  data: Record<string, unknown>;
};

/** The app's connection or a transaction on it: anything that can insert. */
export type Writer = Pick<Db, 'insert'>;

/**
 * The outbox: `record` writes one pending delivery per URL with the caller's writer, so the rows
 * commit (or roll back) with the change they report; then it asks the dispatcher to run soon.
 */
export class WebhookOutbox {
  constructor(
    private readonly urls: string[],
    private readonly kick: () => void = () => {},
  ) {}

  /** Inserts the event's deliveries (synchronous: call it inside the change's transaction). */
  record(db: Writer, type: WebhookEvent, data: Record<string, unknown>, now: number): void {
    if (this.urls.length === 0) return;
    const body: WebhookBody = {
      id: `evt_${randomUUID()}`,
      type,
      createdAt: new Date(now).toISOString(),
      data,
    };
    const payload = JSON.stringify(body);
    db.insert(webhookDeliveries)
      // Stored without credentials: the dispatcher takes them from WEBHOOK_URLS when it posts.
      .values(
        this.urls.map((url) => ({
          event: type,
          url: publicWebhookUrl(url),
          payload,
          createdAt: now,
          nextAttemptAt: now,
        })),
      )
      .run();
    // After the caller's commit (a rolled-back event finds nothing to send).
    setImmediate(this.kick);
  }
}

/** The `campaign.completed` data: the campaign and its ledger figures (no addresses). */
export function campaignCompletedData(
  c: { id: string; name: string; startedAt: number | null },
  figures: Pick<SendTally, 'sent' | 'failed' | 'bounced' | 'unknown' | 'unsubscribed'>,
  now: number,
): Record<string, unknown> {
  return {
    campaignId: c.id,
    name: c.name,
    startedAt: c.startedAt === null ? null : new Date(c.startedAt).toISOString(),
    completedAt: new Date(now).toISOString(),
    sent: figures.sent,
    failed: figures.failed,
    bounced: figures.bounced,
    unknown: figures.unknown,
    unsubscribed: figures.unsubscribed,
  };
}
