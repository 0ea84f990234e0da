import type { CampaignStatus, CoreDeps, SendStatus } from '../types.js';

/** A transaction on the app's connection, handed to the `then` hooks that commit with a change. */
export type Tx = Parameters<Parameters<CoreDeps['db']['transaction']>[0]>[0];

/** A campaign as stored (times in ms). */
export type CampaignRecord = {
  id: string;
  name: string;
  subject: string;
  body: string;
  html: string | null;
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

/** Columns a change may set (never the id or who created it). */
export type CampaignPatch = Partial<Omit<CampaignRecord, 'id' | 'createdBy' | 'createdAt'>>;

/** When a conditional change applies: the campaign is in one of `status`, and with `unapproved` nobody approved it yet. */
export type CampaignGuard = { status?: readonly CampaignStatus[]; unapproved?: boolean };

/** One campaign's ledger rows by status, with how many of them unsubscribed. */
export type SendStatusCount = { status: string; n: number; unsub: number };

/** What re-queueing a completed campaign's failed rows found. */
export type RequeueResult =
  | { kind: 'missing' }
  | { kind: 'not_completed'; status: CampaignStatus }
  | { kind: 'nothing' }
  | { kind: 'requeued'; count: number };

/**
 * The campaigns table (and the ledger figures read with it). Every method is one atomic unit of
 * work owning its transaction; a `then(tx)` hook runs last inside it (webhooks that commit with
 * the change). Only CampaignStateMachine and CampaignService call the writes.
 *
 * Synchronous: every CampaignService method is, and its callers (REST, Slack, CLI, the send
 * engine's loop, which reads the status before every message) use the answers at once;
 * better-sqlite3 transactions cannot await anyway.
 */
export interface CampaignStore {
  /** The campaign, or null. */
  find(id: string): CampaignRecord | null;
  /** Its status alone (prepared once: the send engine reads it before every message). */
  statusOf(id: string): CampaignStatus | null;
  /** Newest first (created_at, id), older than `before`, at most `limit` rows. */
  list(query: {
    status?: CampaignStatus | undefined;
    before?: { createdAt: number; id: string } | undefined;
    limit: number;
  }): CampaignRecord[];
  /** Campaigns in one status. */
  listByStatus(status: CampaignStatus): CampaignRecord[];
  /** Scheduled campaigns whose run may start at `now`: not awaiting confirmation, approved where the two-person rule asks it. */
  listDue(now: number): CampaignRecord[];
  insert(campaign: NewCampaign): void;
  /** Applies `patch` when `guard` holds; `then` runs in the same transaction once it applied. True when it applied. */
  update(id: string, patch: CampaignPatch, guard?: CampaignGuard, then?: (tx: Tx) => void): boolean;
  /** Sets the status reason of a sending campaign that has none. */
  setNotice(id: string, text: string, now: number): boolean;
  /** Clears the status reason when it starts with `prefix`. */
  clearNotice(id: string, prefix: string, now: number): boolean;
  /** The campaign's ledger rows by status (the one count: figures, webhooks, reports). */
  sendCounts(id: string): SendStatusCount[];
  /** Contacts of the audience the campaign has no ledger row for yet. */
  remaining(id: string): number;
  /**
   * A completed campaign's rows in `statuses` whose contact is still in the audience go back to
   * `retry`, and `reopen` is applied to the campaign, in one transaction.
   */
  requeue(id: string, statuses: readonly SendStatus[], now: number, reopen: CampaignPatch): RequeueResult;
}
