import type { ContactFields } from '../contacts/contact-store.js';
import type {
  Actor,
  BatchEventKind,
  BatchStatus,
  CampaignStatus,
  InboxMessageKind,
  SendStatus,
  SuppressionReason,
  ValidationResult,
} from '../types.js';

/** What `why`, the export and a forget read about one address, as the people store returns it. */
export type PersonContact = ContactFields & {
  validation: ValidationResult | null;
  validatedAt: number | null;
  createdAt: number;
  updatedAt: number;
};
export type PersonBatch = {
  id: string;
  name: string;
  status: BatchStatus;
  activatedAt: number | null;
  deactivatedAt: number | null;
  includeInvalidDomains: boolean;
};
export type PersonBatchEvent = { kind: BatchEventKind; actor: Actor; reason: string | null; at: number };
export type PersonHistoryRow = {
  fromStatus: string | null;
  toStatus: string;
  actor: Actor;
  reason: string | null;
  at: number;
};
export type PersonSuppression = { reason: SuppressionReason; actor: Actor; createdAt: number };
export type SendRow = {
  campaignId: string;
  campaignName: string;
  run: number;
  status: SendStatus;
  attempts: number;
  messageId: string | null;
  response: string | null;
  account: string | null;
  claimedAt: number;
  updatedAt: number;
  unsubscribedAt: number | null;
  /** When the mailbox matched a human reply, a complaint, a soft bounce to this message. */
  repliedAt: number | null;
  complainedAt: number | null;
  softBouncedAt: number | null;
};

/** A message read from a mailbox (core/mailbox) about the person: theirs, or a bounce naming them. */
export type PersonInboxMessage = {
  id: number;
  kind: InboxMessageKind;
  fromAddress: string | null;
  subject: string | null;
  snippet: string | null;
  receivedAt: number;
  campaignId: string | null;
};
export type PersonCampaign = {
  id: string;
  name: string;
  status: CampaignStatus;
  startedAt: number | null;
  runStartedAt: number | null;
  nextRunAt: number | null;
};

export type PersonRows = {
  email: string;
  hash: Buffer;
  contact: PersonContact | null;
  batch: PersonBatch | null;
  /** The batch's events, oldest first. */
  batchEvents: PersonBatchEvent[];
  /** The contact's status changes, oldest first. */
  history: PersonHistoryRow[];
  suppression: PersonSuppression | null;
  /** Ledger rows of the contact or of its address hash (kept after a deletion), newest first. */
  sends: SendRow[];
  /** Campaigns, newest first (at most the limit given). */
  campaigns: PersonCampaign[];
  /** Messages read from the mailbox matched to the contact or bouncing the address, newest first (bounded). */
  inbox: PersonInboxMessage[];
};

/** Whether anything at all is held about the address (a contact, a suppression, a ledger row). */
export const isKnown = (r: Pick<PersonRows, 'contact' | 'suppression' | 'sends'>): boolean =>
  r.contact != null || r.suppression != null || r.sends.length > 0;

/** What a forget erased, by place. */
export type ForgetCounts = {
  contacts: number;
  ledgerRows: number;
  historyTexts: number;
  batchEventTexts: number;
  importReports: number;
  /** Outgoing webhook deliveries (the delivery log) whose payload held the address: removed. */
  webhookDeliveries: number;
  /** Messages read from the mailbox from or about them: address, subject, text blanked (the row stays so it is not read again). */
  inboxMessages: number;
  /** The hashed suppression ('deleted') was added now; false: the address was already suppressed. */
  suppressionAdded: boolean;
};

/** A forget: the normalized address, its hash, who, when, and the text that replaces free text naming it. */
export type ForgetRequest = { email: string; hash: Buffer; actor: Actor; at: number; replacement: string };

/**
 * What is held about one person across the tables (contact, batch, history, suppression, ledger,
 * webhook log), read for `why` and the export, and erased by a forget. Each method is one atomic
 * unit of work owning its transaction.
 */
export interface PeopleStore {
  /**
   * Everything held about a normalized address and its hash; the newest `campaignLimit` campaigns
   * and `inboxLimit` mailbox messages.
   */
  load(email: string, hash: Buffer, limits: { campaigns: number; inbox: number }): Promise<PersonRows>;
  /**
   * Erases the person everywhere in one transaction: free text naming them (history, batch events,
   * import reports, mailbox messages) replaced, webhook deliveries quoting them removed, ledger answers dropped, the
   * contact deleted, the hash suppressed ('deleted') unless it already is. Null (nothing written)
   * when nothing is held about the address; else the forgotten contact's id and the counts.
   */
  forget(req: ForgetRequest): Promise<{ contactId: number | null; counts: ForgetCounts } | null>;
  /**
   * Clears older copies of erased rows out of the database's side files (SQLite: truncates the WAL).
   * False when a reader (a backup under way) kept it from finishing: a later checkpoint does it.
   */
  compact(): Promise<boolean>;
}
