import type {
  BounceChange,
  BounceRecord,
  HardBounce,
  SuppressionStore,
} from '../suppression/suppression-store.js';
import type { WebhookOutbox } from '../webhooks/webhook-outbox.js';

export type { BounceRecord, HardBounce } from '../suppression/suppression-store.js';

/**
 * The bounce rule as the send engine calls it: one awaited call that settles the ledger row,
 * makes the contact `bounced` (with a history row), suppresses the address and records the
 * contact.bounced webhook, all in one transaction.
 */
export type BounceRule = (bounce: BounceRecord) => Promise<void>;

/** The contact.bounced webhook's data (the SMTP answer cut to 200 characters). */
export function bouncedData(b: HardBounce): Record<string, unknown> {
  return {
    email: b.email,
    contactId: b.contactId,
    campaignId: b.campaignId,
    smtpResponse: b.response.slice(0, 200),
  };
}

/** The reason written on the contact's history row. */
export const bounceReason = (b: HardBounce) => `hard bounce in ${b.campaignId}: ${b.response.slice(0, 200)}`;

/** What a hard bounce writes besides the fixed rows: the history reason and the contact.bounced webhook rows. */
export function bounceChange(b: HardBounce, webhooks?: WebhookOutbox): BounceChange {
  return {
    reason: bounceReason(b),
    webhooks: webhooks?.deliveries('contact.bounced', bouncedData(b), b.at) ?? [],
  };
}

/**
 * The bounce rule, in one place: the ledger row, the contact (`bounced`, with a history row), the
 * suppression and the contact.bounced webhook commit together or not at all (one store method).
 * A bounce read from the mailbox (core/mailbox) writes the same rows with the same bounceChange.
 */
export function hardBounceRule(store: SuppressionStore, webhooks?: WebhookOutbox): BounceRule {
  return (b) => store.recordHardBounce(b, bounceChange(b, webhooks));
}
