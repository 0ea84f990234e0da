import { randomUUID } from 'node:crypto';
import type { SendTally } from '../sending/send-tally.js';
import type { WebhookDelivery } from './webhook-store.js';
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

// Declared beside the WebhookStore (what db/ implements and may import).
export type { WebhookDelivery } from './webhook-store.js';

/**
 * The outbox: `deliveries` builds one pending delivery per URL for an event; the store that
 * makes the change inserts them in its own transaction, so they commit (or roll back) with the
 * change they report. It then asks the dispatcher to run soon.
 */
export class WebhookOutbox {
  constructor(
    private readonly urls: string[],
    private readonly kick: () => void = () => {},
  ) {}

  /** The event's deliveries, none without WEBHOOK_URLS (pure: call it inside the store's transaction). */
  deliveries(type: WebhookEvent, data: Record<string, unknown>, now: number): WebhookDelivery[] {
    if (this.urls.length === 0) return [];
    const body: WebhookBody = {
      id: `evt_${randomUUID()}`,
      type,
      createdAt: new Date(now).toISOString(),
      data,
    };
    const payload = JSON.stringify(body);
    // After the caller's commit (a rolled-back event finds nothing to send).
    setImmediate(this.kick);
    return this.urls.map((url) => ({
      event: type,
      url: publicWebhookUrl(url),
      payload,
      createdAt: now,
      nextAttemptAt: now,
    }));
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
