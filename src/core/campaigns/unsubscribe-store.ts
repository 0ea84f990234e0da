import type { WebhookDelivery } from '../webhooks/webhook-outbox.js';

/** The ledger row an unsubscribe link points at, as the confirmation page shows it. */
export type UnsubscribeTarget = { campaignName: string; alreadyUnsubscribed: boolean };

/** Who opted out, as the contact.unsubscribed webhook reports it (the address only while the contact exists). */
export type Unsubscribed = { email: string | null; contactId: number | null; campaignId: string };

/** What an opt-out writes besides the fixed rows: the history reason and the webhook rows. */
export type UnsubscribeEffects = {
  /** The contact history row's reason, from the campaign of the link. */
  reason(campaignId: string): string;
  /** The rows to insert the first time this ledger row unsubscribes. */
  webhooks(found: Unsubscribed): WebhookDelivery[];
};

/** Unsubscribe links' reads and the one-click opt-out, each one atomic unit of work. */
export interface UnsubscribeStore {
  /** The campaign of ledger row `sendId` and whether it unsubscribed already; null without such a row. */
  target(sendId: number): Promise<UnsubscribeTarget | null>;
  /**
   * Opts the recipient of ledger row `sendId` out in one transaction: the contact becomes
   * `unsubscribed` (with a history row, actor `recipient`), the address is suppressed, and the
   * first time the row's unsubscribed_at is set and the webhook rows are inserted. Idempotent;
   * false without such a row.
   */
  unsubscribe(sendId: number, now: number, effects: UnsubscribeEffects): Promise<boolean>;
}
