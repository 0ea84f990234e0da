import type { Clock } from '../../clock.js';
import type { Logger } from '../../logger.js';
import type { Mailer } from '../../mail/mailer.js';
import type { AudienceService } from '../audience/audience-service.js';
import type { CampaignRecord } from '../campaigns/campaign-store.js';
import { isInWindow, nextCronRun } from '../campaigns/schedule.js';
import type { CampaignStateMachine } from '../campaigns/state-machine.js';
import type { BounceRule } from '../contacts/hard-bounce.js';
import { CampaignRun, type FreshCursor } from './campaign-run.js';
import { deliver } from './delivery.js';
import type { CampaignEvent, SendEngineSettings } from './engine-types.js';
import { MailOutage } from './mail-outage.js';
import { RateBuckets } from './rate-buckets.js';
import { mayStart } from './run-start.js';
import type { SendStore } from './send-store.js';

export { type CampaignEvent, mailUnreachableNotice, type SendEngineSettings } from './engine-types.js';

/** What the engine works with: the ledger, the mailer, and the campaign state machine it asks to move campaigns. */
export type SendEngineDeps = {
  log: Logger;
  clock: Clock;
  mailer: Mailer;
  store: SendStore;
  campaigns: CampaignStateMachine;
  audience: AudienceService;
  /** The bounce rule (contacts/hard-bounce.ts). */
  bounces: BounceRule;
};

/**
 * The one send engine: starts due runs, claims recipients in the ledger before each SMTP call,
 * settles every answer, paces by rate, window and daily limit, and stops the moment a campaign
 * is no longer `sending`. Campaigns change status only through the campaign state machine.
 */
export class SendEngine {
  private readonly log;
  private readonly campaigns: CampaignStateMachine;
  private readonly buckets = new RateBuckets();
  private readonly outage: MailOutage;
  /** Where each sequence's last pass left its scan for new people (CampaignRun.cursor). */
  private readonly cursors = new Map<string, FreshCursor>();
  private running = false;
  /** Set by stop(): no new message is claimed; the pass under way settles what it sent. */
  private stopping = false;
  private current: Promise<void> = Promise.resolve();
  /** The last start-up sweep: runDue waits for it, so nothing is claimed before leftovers are marked. */
  private swept: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly deps: SendEngineDeps,
    private readonly settings: SendEngineSettings,
    private readonly notify: (e: CampaignEvent) => void = () => {},
  ) {
    this.log = deps.log.child({ module: 'send-engine' });
    this.campaigns = deps.campaigns;
    this.outage = new MailOutage(deps.campaigns, this.log, notify);
  }

  /** Rows a crash left claimed become `unknown`: reported, never re-sent blindly. Run once at start. */
  sweepInterrupted(): Promise<number> {
    const sweep = this.deps.store.markClaimedUnknown(this.deps.clock.now()).then((n) => {
      if (n > 0) this.log.warn({ count: n }, 'deliveries interrupted by a stop marked unknown');
      return n;
    });
    // Handled here too: a failed sweep makes every runDue fail (nothing is sent), not the process.
    this.swept = sweep;
    void sweep.catch(() => undefined);
    return sweep;
  }

  /** One scheduler tick: start due runs, then send for every campaign that is sending. */
  runDue(): Promise<void> {
    if (this.running || this.stopping) return Promise.resolve();
    this.current = this.runDueNow();
    return this.current;
  }

  /**
   * Stops claiming and waits for the pass under way: the messages in flight get their answers and
   * are settled before the app closes the mailer and the database (a rolling restart then leaves
   * nothing claimed behind it).
   */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.current.catch(() => undefined);
  }

  private async runDueNow(): Promise<void> {
    this.running = true;
    try {
      await this.swept;
      // A pass that used its whole budget goes on in a new round at once (due runs start between
      // rounds, each sending campaign has its turn): returning would idle the pool until the next tick.
      for (let more = true; more && !this.stopping; ) {
        more = false;
        await this.startDueRuns();
        for (const c of await this.campaigns.sending()) if (await this.work(c.id)) more = true;
      }
    } finally {
      this.running = false;
    }
  }

  private async startDueRuns(): Promise<void> {
    const now = this.deps.clock.now();
    for (const c of await this.campaigns.due(now)) {
      const missedBy = now - (c.nextRunAt ?? now);
      if (missedBy > this.settings.missedGraceMs) {
        const reason = `Its send time passed ${Math.round(missedBy / 60000)} min ago while coldbatch was not running: confirm to send now.`;
        await this.campaigns.holdForConfirmation(c.id, reason);
        this.log.warn({ campaignId: c.id, missedBy }, 'missed schedule waits for confirmation');
        this.notify({ type: 'needs_confirmation', campaignId: c.id, missedBy });
        continue;
      }
      const check = {
        audience: this.deps.audience,
        campaigns: this.campaigns,
        log: this.log,
        notify: this.notify,
        approvalThreshold: this.settings.approvalThreshold,
      };
      if (!(await mayStart(check, c, now))) continue;
      if (await this.campaigns.startRun(c, now)) {
        this.log.info({ campaignId: c.id, run: c.runCount + 1 }, 'campaign run started');
        this.notify({ type: 'started', campaignId: c.id });
      }
    }
  }

  /**
   * Sends for one campaign with a sliding window of messages in flight, for up to runBudgetMs:
   * true when it stopped on the budget (more may go at once). The campaign's status is read before
   * every claim, so a pause or cancel stops it at the next message.
   */
  private async work(id: string): Promise<boolean> {
    const started = performance.now();
    const c = await this.campaigns.find(id);
    if (c?.status !== 'sending') return false;
    const store = this.deps.store;
    const run = new CampaignRun(
      c,
      this.settings.concurrency,
      await store.runStats(c.id, c.runCount),
      await store.nextRetryAt(c.id),
      this.cursors.get(c.id) ?? { after: 0, scannedAt: this.deps.clock.now() },
    );
    this.outage.remember(c); // told before a restart
    const attemptedBefore = run.stats.attempted;
    try {
      while (!this.stopping && performance.now() - started <= this.settings.runBudgetMs) {
        if (!(await this.step(run))) return false;
      }
      return true;
    } finally {
      if (run.sequence) this.cursors.set(c.id, run.cursor);
      await run.drain();
      await this.deps.store.settleSent(run.takeSettled(), this.deps.clock.now());
      // Answers were told before being marked sent: once more now, or views miss the pass's last ones.
      if (run.stats.attempted > attemptedBefore) this.notify({ type: 'progress', campaignId: c.id });
    }
  }

  /** One turn of the window: claim what may go now and wait for one answer. False: this pass is over. */
  private async step(run: CampaignRun): Promise<boolean> {
    if (run.idle || run.room >= run.refillAt) {
      const over = await this.refill(run);
      if (over !== null) return over;
    }
    if (run.idle) return false; // nothing may go now (rate or limit): the next tick goes on
    await run.next();
    this.notify({ type: 'progress', campaignId: run.c.id });
    return !(await this.pauseOnBounces(run.c, run.stats));
  }

  /**
   * Claims and launches what may go now, after the checks that gate every claim (status, window,
   * mail server, limits). Null: go on; a boolean: the step's answer.
   */
  private async refill(run: CampaignRun): Promise<boolean | null> {
    const c = run.c;
    // A pause or cancel takes effect before the next message is claimed.
    if ((await this.campaigns.statusOf(c.id)) !== 'sending') return false;
    const now = this.deps.clock.now();
    if (!isInWindow(run.sendWindow, now)) return false;
    // The mail server cannot be reached: claim nothing until it is worth trying again.
    const down = this.outage.waiting(now);
    if (down !== null) {
      await this.outage.tell(c.id, down);
      return false;
    }
    const left = c.dailyLimit === null ? Number.POSITIVE_INFINITY : await run.limitRoom(this.deps.store, now);
    if (left <= 0 && run.idle) {
      if (c.cron) await this.finishRun(c);
      return false;
    }
    let room = Math.min(run.room, left);
    // Sending identities (SMTP_URLS): when every account is at today's cap or skipped, claim
    // nothing (from memory, no query); the next tick, or the next day, goes on.
    const mailRoom = this.deps.mailer.room?.(now);
    if (mailRoom !== undefined) {
      if (mailRoom <= 0 && run.idle) return false;
      room = Math.min(room, mailRoom);
    }
    if (!run.idle && room < run.refillAt) return null;
    if (room > 0) room = this.buckets.take(c, room, now);
    if (room <= 0) return null;
    // Due retries, then due follow-ups (a sequence), then new people: follow-ups go first.
    const claimStarted = performance.now();
    const batch = await this.deps.store.claim(
      run.target,
      room,
      now,
      run.after,
      run.takeSettled(),
      run.retriesDue(now),
    );
    const ms = Math.round((performance.now() - claimStarted) * 100) / 100;
    this.log.debug({ campaignId: c.id, claimed: batch.length, ms }, 'claimed');
    if (batch.length === 0 && run.idle) {
      if (run.rewind(now)) return true;
      // Retries or people waiting for a follow-up that is not due yet: the next tick looks again.
      if (!(await this.deps.store.hasPendingWork(c.id))) await this.finishRun(c);
      return false;
    }
    for (const item of batch) {
      const delivery = deliver(this.deliveryDeps, this.settings, this.outage, run, item);
      run.launch(item, delivery, () => this.outage.answered(c.id));
    }
    return null;
  }

  private get deliveryDeps() {
    const { mailer, store, clock, bounces } = this.deps;
    return { mailer, store, clock, bounces, log: this.log };
  }

  private async pauseOnBounces(
    c: CampaignRecord,
    stats: { attempted: number; bounced: number },
  ): Promise<boolean> {
    const { attempted, bounced } = stats;
    const { rate, minSends } = this.settings.bouncePause;
    if (attempted < minSends || bounced / attempted <= rate) return false;
    const pct = Math.round((bounced / attempted) * 1000) / 10;
    const reason = `Paused automatically: ${bounced} of ${attempted} messages bounced (${pct}%, over ${rate * 100}%). Check the list before resuming.`;
    if (await this.campaigns.pause(c.id, reason)) {
      this.log.warn({ campaignId: c.id, bounced, attempted }, 'campaign auto-paused on bounce rate');
      this.notify({ type: 'paused', campaignId: c.id, reason });
    }
    return true;
  }

  private async finishRun(c: CampaignRecord): Promise<void> {
    const now = this.deps.clock.now();
    if (c.cron) {
      const next = nextCronRun(c.cron, c.timezone, now);
      if (await this.campaigns.finishDripRun(c.id, next)) {
        this.log.info({ campaignId: c.id, run: c.runCount, next }, 'drip run finished');
        this.notify({ type: 'run_finished', campaignId: c.id });
      }
      return;
    }
    if (await this.campaigns.complete(c, now)) {
      this.log.info({ campaignId: c.id }, 'campaign completed');
      this.notify({ type: 'completed', campaignId: c.id });
    }
  }
}
