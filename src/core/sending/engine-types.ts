import type { ComposeSettings } from './compose.js';

export type SendEngineSettings = ComposeSettings & {
  /** The key that signs unsubscribe links (UnsubscribeKeys.signing: read once, then kept). */
  unsubscribeKey: () => Promise<string>;
  /** A run missed by more than this (the app was down) waits for a person to confirm. */
  missedGraceMs: number;
  /** Auto-pause when a run's bounce rate passes `rate` after `minSends` attempts. */
  bouncePause: { rate: number; minSends: number };
  /** Attempts for a 4xx / connection failure before the row is `failed`. */
  maxAttempts: number;
  /** Wait before each retry (last value repeats). */
  retryDelaysMs: number[];
  /** Messages in flight at once (the SMTP pool's size). */
  concurrency: number;
  /**
   * How long one pass over one campaign may keep sending before due runs are started and the other
   * sending campaigns have their turn (the same runDue call then goes on: no wait for a tick).
   */
  runBudgetMs: number;
  /**
   * APPROVAL_THRESHOLD: a run whose audience is larger waits for a second admin's approval, unless
   * one was given after the active batch was activated. Undefined: no two-person rule.
   */
  approvalThreshold?: number | undefined;
};

export type CampaignEvent =
  | { type: 'started' | 'progress' | 'completed' | 'run_finished'; campaignId: string }
  | { type: 'paused'; campaignId: string; reason: string }
  | { type: 'needs_confirmation'; campaignId: string; missedBy: number }
  /** A first run came due with nobody to send to: it waits for a person to confirm (the reason is on the campaign). */
  | { type: 'empty_audience'; campaignId: string; reason: string }
  /** A run came due with an audience over APPROVAL_THRESHOLD and no approval that covers it: it waits for one. */
  | { type: 'needs_approval'; campaignId: string; audience: number }
  /** Sending waits: the mail server cannot be reached (once per outage; the reason is on the campaign). */
  | { type: 'mail_unreachable'; campaignId: string; reason: string }
  /** The mail server answers again and the campaign's notice is gone. */
  | { type: 'mail_recovered'; campaignId: string };

/** How a campaign's status reason starts while the mail server cannot be reached. */
export const mailUnreachableNotice = 'The mail server cannot be reached';
