import { parseWindow } from '../campaigns/campaign.js';
import type { CampaignRecord } from '../campaigns/campaign-store.js';
import { type SendWindow, startOfDayIn } from '../campaigns/schedule.js';
import { campaignSteps, isSequence, type SequenceStep, variantFor } from '../campaigns/sequence.js';
import type { Outcome } from './delivery.js';
import type { Claimed, ClaimTarget, SendStore, SentResult } from './send-store.js';

/** Where a pass's scan for new people stands: contacts up to `after` claimed, from the start at `scannedAt`. */
export type FreshCursor = { after: number; scannedAt: number };

/**
 * A sequence waits days between steps, with a pass every tick: its passes go on from the last
 * one's cursor and look again from the first contact (someone set active again, a batch with lower
 * ids) at most this often, not on every tick over the whole audience.
 */
const rescanMs = 10 * 60_000;

/**
 * One pass of the engine over one sending campaign: a sliding window of messages in flight, the
 * accepted messages waiting to be marked sent, the ledger cursor, the daily-limit count and the
 * run's bounce figures. The limit and bounce figures are read once per pass and then kept up to
 * date in memory (no recount per message).
 */
export class CampaignRun {
  /** Twice the pool size in flight keeps every SMTP connection busy while we settle and claim. */
  readonly window: number;
  /**
   * Free places in the window at which more are claimed: one transaction per few messages rather
   * than one per message, while the pool still has messages queued when the claim runs.
   */
  readonly refillAt: number;
  /** Contacts up to this id were claimed (the claims' keyset cursor): in this pass, or a sequence's earlier ones. */
  after = 0;
  /** When the scan last started from the first contact. */
  private scannedAt: number;
  private readonly inFlight = new Set<Promise<unknown>>();
  /**
   * Accepted by the SMTP server, not yet marked sent: settled with the next claim (a crash before
   * that leaves them `claimed`, reported as unknown at the next start, never re-sent).
   */
  private settled: SentResult[] = [];
  private limitKey = '';
  private used = 0;
  /** The campaign's steps and send window, parsed once per pass. */
  readonly steps: SequenceStep[];
  readonly sendWindow: SendWindow | null;
  /** Follow-ups or variants: claims and settlements keep the sequence's bookkeeping. */
  readonly sequence: boolean;
  /** What the claims are for: the campaign itself, or with its sequence (variants, follow-ups). */
  readonly target: ClaimTarget;

  /**
   * @param retryAt when the campaign's first retry is due (SendStore.nextRetryAt, read as the pass
   *   starts); null: none waits, and the claims skip the retry queries until a message of this
   *   pass is put back for a retry. Rows re-queued by someone else during the pass wait for the next.
   */
  constructor(
    readonly c: CampaignRecord,
    concurrency: number,
    readonly stats: { attempted: number; bounced: number },
    private retryAt: number | null = 0,
    cursor: FreshCursor = { after: 0, scannedAt: 0 },
  ) {
    this.window = concurrency * 2;
    this.refillAt = Math.max(1, Math.floor(this.window / 2));
    this.sendWindow = parseWindow(c.sendWindow);
    this.steps = campaignSteps(c);
    this.sequence = isSequence(this.steps);
    this.scannedAt = cursor.scannedAt;
    if (this.sequence) this.after = cursor.after;
    const steps = this.steps;
    this.target = this.sequence
      ? {
          ...c,
          sequence: {
            steps: steps.length,
            variantOf: (step, contactId) =>
              variantFor(c.id, contactId, steps[step - 1]?.variants?.length ?? 0),
          },
        }
      : c;
  }

  /** Whether a claim at `now` must look for due retries. */
  retriesDue(now: number): boolean {
    return this.retryAt !== null && this.retryAt <= now;
  }

  /** Nothing in flight. */
  get idle(): boolean {
    return this.inFlight.size === 0;
  }

  /** Free places in the window. */
  get room(): number {
    return this.window - this.inFlight.size;
  }

  /**
   * Recipients the campaign may still claim under dailyLimit (a drip: per run; Infinity without a
   * limit). The count is loaded from the ledger when the day (or run) changed since the last look.
   */
  async limitRoom(store: SendStore, now: number): Promise<number> {
    const c = this.c;
    if (c.dailyLimit === null) return Number.POSITIVE_INFINITY;
    const dayStart = c.cron ? 0 : startOfDayIn(c.timezone, now);
    const key = c.cron ? `run:${c.runCount}` : `day:${dayStart}`;
    if (key !== this.limitKey) {
      this.limitKey = key;
      this.used = c.cron ? await store.countRun(c.id, c.runCount) : await store.countSince(c.id, dayStart);
    }
    return c.dailyLimit - this.used;
  }

  /** The accepted messages to mark sent now (with the next claim, or at the end of the pass). */
  takeSettled(): SentResult[] {
    const out = this.settled;
    this.settled = [];
    return out;
  }

  /**
   * The cursor only skips contacts already claimed, unless the audience changed under it (another
   * batch activated, with lower ids): true once, to look again from the start (a sequence: at most
   * every `rescanMs`).
   */
  rewind(now: number): boolean {
    if (this.after === 0) return false;
    if (this.sequence && now - this.scannedAt < rescanMs) return false;
    this.after = 0;
    this.scannedAt = now;
    return true;
  }

  /** Where this pass leaves the scan for new people (a sequence's next pass goes on from it). */
  get cursor(): FreshCursor {
    return { after: this.after, scannedAt: this.scannedAt };
  }

  /** Puts a delivery in the window; when it settles its outcome is counted and `answered` told. */
  launch(item: Claimed, delivery: Promise<Outcome>, answered: () => Promise<void>): void {
    if (!item.retry) {
      // The cursor is over new people (step 1); a follow-up counts against the limit all the same.
      if (item.step === 1) this.after = Math.max(this.after, item.contactId);
      this.used++;
    }
    const p: Promise<unknown> = delivery
      .then(async (outcome) => {
        if (typeof outcome === 'object') this.settled.push(outcome);
        // A row put back for a retry: from now on every claim looks for due retries again.
        else if (outcome === 'retry' || outcome === 'unreachable') this.retryAt = 0;
        if (outcome !== 'retry' && outcome !== 'unreachable') this.stats.attempted++;
        if (outcome === 'bounced') this.stats.bounced++;
        if (outcome !== 'unreachable') await answered();
      })
      .finally(() => this.inFlight.delete(p));
    this.inFlight.add(p);
  }

  /** Waits for the first message in flight to settle. */
  async next(): Promise<void> {
    await Promise.race(this.inFlight);
  }

  /** Waits for every message in flight. */
  async drain(): Promise<void> {
    await Promise.all(this.inFlight);
  }
}
