import type { CampaignEventKind, CampaignStatus, ContactInterest, SendStatus } from '../types.js';
import type { WebhookDelivery } from '../webhooks/webhook-outbox.js';

/** A campaign as stored (times in ms). */
export type CampaignRecord = {
  id: string;
  name: string;
  subject: string;
  body: string;
  html: string | null;
  /** JSON SequenceStep[] (sequence.ts) when the campaign has follow-ups or variants; null: one step. */
  steps: string | null;
  fromAddress: string;
  sendAt: number | null;
  cron: string | null;
  dailyLimit: number | null;
  ratePerMinute: number | null;
  /** JSON SendWindow, or null for any time. */
  sendWindow: string | null;
  timezone: string;
  status: CampaignStatus;
  statusReason: string | null;
  nextRunAt: number | null;
  awaitingConfirmation: boolean;
  runCount: number;
  runStartedAt: number | null;
  createdBy: string;
  createdAt: number;
  updatedAt: number;
  startedAt: number | null;
  completedAt: number | null;
  progressRef: string | null;
  approvalRequiredAt: number | null;
  approvedBy: string | null;
  approvedAt: number | null;
  /** Why it is `held` (`doctor`), and the failing checks as JSON (PRODUCT.md §9). */
  heldReason: string | null;
  heldChecks: string | null;
};

/** What a new campaign is saved with; the rest takes the column defaults. */
export type NewCampaign = Pick<
  CampaignRecord,
  | 'id'
  | 'name'
  | 'subject'
  | 'body'
  | 'html'
  | 'fromAddress'
  | 'status'
  | 'createdBy'
  | 'createdAt'
  | 'updatedAt'
> &
  Partial<CampaignRecord>;

/** One line of a campaign's history (`campaign_events`): a status change or an admin decision. */
export type CampaignHistoryEntry = {
  at: number;
  actor: string;
  kind: CampaignEventKind;
  /** Plain words: the reason, the failing checks, the run. */
  detail: string | null;
};

/** Columns a change may set (never the id or who created it). */
export type CampaignPatch = Partial<Omit<CampaignRecord, 'id' | 'createdBy' | 'createdAt'>>;

/** When a conditional change applies: the campaign is in one of `status`, and with `unapproved` nobody approved it yet. */
export type CampaignGuard = { status?: readonly CampaignStatus[]; unapproved?: boolean };

/**
 * What the mailbox found about a campaign's ledger rows (core/mailbox): rows with `replied_at`,
 * `complained_at`, `soft_bounced_at` set, and replied rows whose contact's interest is `interested`.
 */
export type InboxMarkCounts = {
  replied: number;
  complained: number;
  softBounced: number;
  interested: number;
};

/** One campaign's ledger rows by status, with how many of them unsubscribed and what the mailbox marked. */
/**
 * Ledger rows of one status, with how many unsubscribed; `accepted`: how many the SMTP server
 * had accepted (a Message-ID recorded) — for `bounced`, the ones a later DSN bounced.
 */
export type SendStatusCount = {
  status: string;
  n: number;
  unsub: number;
  accepted?: number;
} & InboxMarkCounts;

/** What re-queueing a completed campaign's failed rows found. */
export type RequeueResult =
  | { kind: 'missing' }
  | { kind: 'not_completed'; status: CampaignStatus }
  | { kind: 'nothing' }
  | { kind: 'requeued'; count: number };

/** One ledger row of a campaign as its results export shows it (a deleted contact has no email or name). */
export type CampaignResultRow = {
  id: number;
  email: string | null;
  emailHash: Buffer;
  name: string | null;
  status: SendStatus;
  attempts: number;
  messageId: string | null;
  updatedAt: number;
  unsubscribedAt: number | null;
  response: string | null;
  /** What the mailbox matched to the message (core/mailbox), and the contact's interest. */
  repliedAt: number | null;
  complainedAt: number | null;
  softBouncedAt: number | null;
  interest: ContactInterest | null;
};

/**
 * The campaigns table (and the ledger figures read with it). Every method is one atomic unit of
 * work owning its transaction. Only CampaignStateMachine and CampaignService call the writes.
 */
export interface CampaignStore {
  /** The campaign, or null. */
  find(id: string): Promise<CampaignRecord | null>;
  /** Its status alone (cheap: the send engine reads it before every message). */
  statusOf(id: string): Promise<CampaignStatus | null>;
  /** Newest first (created_at, id), older than `before`, at most `limit` rows. */
  list(query: {
    status?: CampaignStatus | undefined;
    before?: { createdAt: number; id: string } | undefined;
    limit: number;
  }): Promise<CampaignRecord[]>;
  /** Campaigns in one status. */
  listByStatus(status: CampaignStatus): Promise<CampaignRecord[]>;
  /** Scheduled campaigns whose run may start at `now`: not awaiting confirmation, approved where the two-person rule asks it. */
  listDue(now: number): Promise<CampaignRecord[]>;
  /** Saves a new campaign and its first history lines, in one transaction. */
  insert(campaign: NewCampaign, events?: readonly CampaignHistoryEntry[]): Promise<void>;
  /** Applies `patch` when `guard` holds, with `event` in its history in the same transaction. True when it applied. */
  update(
    id: string,
    patch: CampaignPatch,
    guard?: CampaignGuard,
    event?: CampaignHistoryEntry,
  ): Promise<boolean>;
  /**
   * Applies `patch` to a `sending` campaign and, once it applied, inserts the rows `webhooks`
   * builds from the campaign's final send counts, in one transaction. True when it applied.
   */
  complete(
    id: string,
    patch: CampaignPatch,
    webhooks?: (counts: SendStatusCount[]) => WebhookDelivery[],
    event?: CampaignHistoryEntry,
  ): Promise<boolean>;
  /** Sets the status reason of a sending campaign that has none. */
  setNotice(id: string, text: string, now: number): Promise<boolean>;
  /** Clears the status reason when it starts with `prefix`. */
  clearNotice(id: string, prefix: string, now: number): Promise<boolean>;
  /** The campaign's ledger rows by status (the one count: figures, webhooks, reports). */
  sendCounts(id: string): Promise<SendStatusCount[]>;
  /** Contacts of the audience the campaign has no ledger row for yet. */
  remaining(id: string): Promise<number>;
  /**
   * A completed campaign's rows in `statuses` whose contact is still in the audience go back to
   * `retry`, and `reopen` is applied to the campaign, in one transaction.
   */
  requeue(
    id: string,
    statuses: readonly SendStatus[],
    now: number,
    reopen: CampaignPatch,
    event?: CampaignHistoryEntry,
  ): Promise<RequeueResult>;
  /** The last `limit` lines of the campaign's history, oldest first, and how many it has in all. */
  history(id: string, limit: number): Promise<{ entries: CampaignHistoryEntry[]; total: number }>;
  /** Up to `limit` of the campaign's ledger rows with ids above `afterId`, by id (the results export). */
  results(id: string, afterId: number, limit: number): Promise<CampaignResultRow[]>;
}
