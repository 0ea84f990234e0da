/** A message the SMTP server accepted, waiting to be marked `sent` in the ledger. */
export type SentResult = {
  sendId: number;
  messageId: string;
  response: string;
  /** The sending identity that took it (SMTP_URLS); absent with one transport. */
  account?: string;
  /**
   * A step of a sequence (a campaign with follow-ups): the person's place is recorded with the
   * sent mark, in the same commit (`sequence_people`: this step, when the next is due or null).
   */
  sequence?: { campaignId: string; contactId: number; step: number; nextDueAt: number | null };
};

/** A recipient claimed in the ledger (row `claimed`) before its SMTP call. */
export type Claimed = {
  sendId: number;
  contactId: number;
  emailHash: Buffer;
  attempts: number;
  retry: boolean;
  recipient: { email: string; name: string | null; company: string | null; position: string | null };
  /** The sequence step (1-based; 1 for a one-step campaign) and its A/B variant (null: none). */
  step: number;
  variant: number | null;
  /** Step 1's variant for this person (a follow-up's `Re:` subject); null: none or step 1 itself. */
  firstVariant: number | null;
  /** Message-IDs of this person's earlier steps, oldest first (In-Reply-To: the last; References: all). */
  thread: string[];
  /** The identity that sent this person's previous step: a follow-up goes from the same mailbox. */
  account?: string;
};

/**
 * The campaign a claim is for: its run, and whether it completed (then only re-queued rows go).
 * `sequence`: a campaign with follow-ups or variants — due follow-ups are claimed (after due retries,
 * before new people) and every new row gets its variant from `variantOf`; absent: a one-step
 * campaign without variants, whose claims never look at `sequence_people`.
 */
export type ClaimTarget = {
  id: string;
  runCount: number;
  completedAt: number | null;
  sequence?: {
    steps: number;
    /** The variant (1-based) of `step` for a contact, or null: the step has none (sequence.ts variantFor). */
    variantOf: (step: number, contactId: number) => number | null;
  };
};

/**
 * A hard bounce's ledger row, as data: the store that applies the bounce rule (contact status,
 * suppression, webhook) marks it `bounced`, with `attempts` counting the try that bounced, in
 * the same transaction.
 */
export type BouncedSend = { sendId: number; attempts: number; response: string; at: number };

/**
 * The send ledger (`sends`): claims before the SMTP call, settlements after, figures for pacing.
 * `attempts` counts every delivery try the mail server saw or may have seen: each 4xx, and the try
 * that settled the row (sent, bounced, unknown). A try that never reached a server is not one.
 * Each method is one atomic unit of work. A claim is one transaction (one statement batch) per few
 * messages, run between SMTP answers, never one per message. A hard bounce's row is settled by
 * the bounce rule's own store method (contacts/hard-bounce.ts), in its transaction.
 */
export interface SendStore {
  /**
   * Claims up to `limit` recipients in one transaction: due retries first (rows whose contact left
   * the audience become `failed`), then contacts of the audience after `afterContactId` the
   * campaign has no row for. `settled` (messages accepted since the last claim) are marked sent in
   * the same commit. `retries` false: the caller knows no retry is due, the retry rows are not
   * looked at (default true).
   */
  claim(
    c: ClaimTarget,
    limit: number,
    now: number,
    afterContactId: number,
    settled: SentResult[],
    retries?: boolean,
  ): Promise<Claimed[]>;
  /** Marks accepted messages sent, in one transaction. */
  settleSent(results: SentResult[], now: number): Promise<void>;
  /** A transient failure: retried at `nextAttemptAt`, or `failed` when that is null. */
  settleRetry(
    sendId: number,
    attempts: number,
    nextAttemptAt: number | null,
    response: string,
    now: number,
  ): Promise<void>;
  /** The server may or may not have taken the message (no answer after it was sent): never re-sent blindly. */
  settleUnknown(sendId: number, response: string, now: number): Promise<void>;
  /** Rows a crash left `claimed` become `unknown`; how many. Run once at start. */
  markClaimedUnknown(now: number): Promise<number>;
  /**
   * Whether the campaign has rows waiting for a retry or still claimed (being sent, maybe by
   * another instance), or people waiting for a follow-up.
   */
  hasPendingWork(campaignId: string): Promise<boolean>;
  /** When the campaign's first row waiting for a retry is due; null: none waits. */
  nextRetryAt(campaignId: string): Promise<number | null>;
  /** Rows claimed in one run (a drip's per-run limit). */
  countRun(campaignId: string, run: number): Promise<number>;
  /** Recipients first claimed since a moment (a retry does not count twice against a daily limit). */
  countSince(campaignId: string, since: number): Promise<number>;
  /** Attempts and bounces of one run (the auto-pause on bounce rate). */
  runStats(campaignId: string, run: number): Promise<{ attempted: number; bounced: number }>;
}
