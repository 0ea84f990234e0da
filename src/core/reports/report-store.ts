import type { InboxMarkCounts } from '../campaigns/campaign-store.js';
import type { CampaignStatus, ContactStatus } from '../types.js';

/**
 * Ledger rows by status (`unsub`: how many of them unsubscribed through the campaign's link), with
 * what the mailbox marked on them (replies, complaints, soft bounces, interested repliers).
 */
export type StatusCount = { status: string; n: number; unsub: number } & InboxMarkCounts;

/** One campaign's ledger rows for a batch's contacts. */
export type CampaignLedger = {
  id: string;
  name: string;
  status: CampaignStatus;
  byStatus: StatusCount[];
  /** `sent` rows by UTC day number (ms / 86 400 000), days without any left out. */
  sentPerDay: { day: number; n: number }[];
  /**
   * A sequence's (a campaign with `steps`) rows of a later step or with a variant, by step, variant
   * (null: the step has none) and status; absent for a one-step campaign.
   */
  byStep?: StepStatusCount[];
};

/** Ledger rows of one step and variant by status. */
export type StepStatusCount = StatusCount & { step: number; variant: number | null };

/** A batch's contacts by status (statuses with none may be left out). */
export type ContactCounts = { status: ContactStatus; n: number }[];

/** What a full report of one batch counts, read together. */
export type BatchFigures = {
  contacts: ContactCounts;
  /** Contacts by validation verdict as stored (null: not checked yet). */
  validation: { validation: string | null; n: number }[];
  /** Every campaign with a ledger row for a contact of the batch, oldest first. */
  campaigns: CampaignLedger[];
  /** Contacts of the batch sent at least one message (any campaign). */
  peopleSent: number;
};

/** The few figures of the App Home: contacts by status, and the ledger rows of every campaign by status. */
export type QuickFigures = { contacts: ContactCounts; sends: { status: string; n: number }[] };

/**
 * The batch report's reads (contacts and the send ledger seen from one batch). Read-only; each
 * method reads one consistent state, and its cost follows the batch's rows, not the whole ledger.
 */
export interface ReportStore {
  /** Everything a full report counts (an implementation may read it off the event loop: it can take a second). */
  batchFigures(batchId: string): Promise<BatchFigures>;
  /** The App Home's figures, cheaply (no unsubscribes, no days). */
  quickFigures(batchId: string): Promise<QuickFigures>;
}
