import type { CampaignRecord } from '../campaigns/campaign-store.js';
import { startOfDayIn } from '../campaigns/schedule.js';
import type { Outcome } from './delivery.js';
import type { Claimed, SendStore, SentResult } from './send-store.js';

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
  /** Contacts up to this id were claimed in this pass (the claims' keyset cursor). */
  after = 0;
  private readonly inFlight = new Set<Promise<unknown>>();
  /**
   * Accepted by the SMTP server, not yet marked sent: settled with the next claim (a crash before
   * that leaves them `claimed`, reported as unknown at the next start, never re-sent).
   */
  private settled: SentResult[] = [];
  private limitKey = '';
  private used = 0;

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
  ) {
    this.window = concurrency * 2;
    this.refillAt = Math.max(1, Math.floor(this.window / 2));
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
   * The cursor only skips contacts already claimed in this pass, unless the audience changed under
   * it (another batch activated, with lower ids): true once, to look again from the start.
   */
  rewind(): boolean {
    if (this.after === 0) return false;
    this.after = 0;
    return true;
  }

  /** Puts a delivery in the window; when it settles its outcome is counted and `answered` told. */
  launch(item: Claimed, delivery: Promise<Outcome>, answered: () => Promise<void>): void {
    if (!item.retry) {
      this.after = Math.max(this.after, item.contactId);
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
