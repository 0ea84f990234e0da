import type { BouncedSend } from '../sending/send-store.js';
import type { Actor, SuppressionReason } from '../types.js';
import type { WebhookDelivery } from '../webhooks/webhook-outbox.js';

/** A hard bounce (5xx) of one message of a campaign. */
export type HardBounce = {
  campaignId: string;
  contactId: number;
  email: string;
  emailHash: Buffer;
  /** The SMTP answer (code and text). */
  response: string;
  at: number;
};

/**
 * A hard bounce with the ledger row it settles: what the send engine hands over. The row becomes
 * `bounced` with `attempts` (counting the try that bounced) and the bounce's response and time.
 */
export type BounceRecord = HardBounce & { ledger: Pick<BouncedSend, 'sendId' | 'attempts'> };

/** A whole-domain rule as stored (`acme.com` or `*.acme.com`). */
export type DomainRuleRow = { pattern: string; actor: Actor; reason: string | null; createdAt: number };

/** One entry of the suppression list as exported: the address's SHA-256 (hex), why, who, when. */
export type SuppressionRow = {
  /** The entry's position in the list (export pages go after it). */
  id: number;
  hashHex: string;
  reason: SuppressionReason;
  actor: Actor;
  createdAt: number;
};

/** What a hard bounce writes besides the ledger row: the history row's reason and the webhook rows. */
export type BounceChange = { reason: string; webhooks: readonly WebhookDelivery[] };

/**
 * The suppression list (`suppressions`: hashed addresses never mailed again) and the whole-domain
 * rules (`domain_suppressions`). Each method is one atomic unit of work owning its transaction.
 */
export interface SuppressionStore {
  /**
   * The bounce rule's one transaction: the ledger row becomes `bounced`, the contact (if still
   * held) `bounced` with a history row, the address is suppressed ('bounced', unless it already
   * is) and the webhook rows are inserted.
   */
  recordHardBounce(bounce: BounceRecord, change: BounceChange): Promise<void>;
  /** Whether a hashed address is on the list. */
  isSuppressed(hash: Buffer): Promise<boolean>;
  /** Entries after `afterId`, in list order, at most `limit` (the CSV export's pages). */
  listPage(afterId: number, limit: number): Promise<SuppressionRow[]>;

  /**
   * Adds a rule and, in the same transaction, suppresses (reason `manual`, by `rule.actor`) every
   * contact held whose address it covers; null when the pattern already has a rule (nothing written).
   */
  addDomainRule(rule: DomainRuleRow): Promise<{ rule: DomainRuleRow; suppressedContacts: number } | null>;
  /** Removes a rule; the rule removed, or null when there was none. */
  removeDomainRule(pattern: string): Promise<DomainRuleRow | null>;
  /** Every rule, by pattern. */
  listDomainRules(): Promise<DomainRuleRow[]>;
}
