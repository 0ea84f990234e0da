import { and, eq, isNotNull, isNull, or } from 'drizzle-orm';
import { batches, campaigns, sends, suppressions } from '../../db/schema.js';
import { MailError, type Mailer } from '../../mail/mailer.js';
import { signUnsubscribeToken } from '../../mail/unsubscribe-token.js';
import { AudienceService, type AudienceSummary, emptyAudienceMessage } from '../audience/audience-service.js';
import { parseWindow } from '../campaigns/campaign.js';
import { isInWindow, nextCronRun, startOfDayIn } from '../campaigns/schedule.js';
import { changeStatus } from '../contacts/contact-service.js';
import type { CoreDeps } from '../types.js';
import { campaignCompletedData } from '../webhooks/outbox.js';
import { type ComposeSettings, composeMessage } from './compose.js';
import { type Claimed, Ledger, type SentResult } from './ledger.js';

export type SendEngineSettings = ComposeSettings & {
  /** Signing keys for unsubscribe links; the first signs, all verify. */
  unsubscribeSecrets: string[];
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
  /** How long one runDue call may keep sending before it returns to the scheduler. */
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

type Row = typeof campaigns.$inferSelect;

/**
 * The one send engine: starts due runs, claims recipients in the ledger before each SMTP call,
 * settles every answer, paces by rate, window and daily limit, and stops the moment a campaign
 * is no longer `sending`.
 */
export class SendEngine {
  private readonly log;
  private readonly ledger: Ledger;
  private readonly audience: AudienceService;
  private readonly activeBatchSince;
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private readonly statusOf;
  private readonly notice;
  private running = false;
  /**
   * While the mail server cannot be reached, nothing is claimed until `until` (then the rows due
   * for retry probe it). In memory: pacing only, the rows are in the ledger.
   */
  private mailDown: { until: number; reason: string } | null = null;
  /** Campaigns whose status reason says the mail server cannot be reached. */
  private readonly toldDown = new Set<string>();

  constructor(
    private readonly deps: CoreDeps & { mailer: Mailer },
    private readonly settings: SendEngineSettings,
    private readonly notify: (e: CampaignEvent) => void = () => {},
  ) {
    this.log = deps.log.child({ module: 'send-engine' });
    this.ledger = new Ledger(deps);
    this.audience = new AudienceService(deps);
    this.activeBatchSince = deps.db
      .select({ at: batches.activatedAt })
      .from(batches)
      .where(eq(batches.status, 'active'))
      .prepare();
    this.statusOf = deps.db.$client.prepare<[string], { status: string }>(
      'SELECT status FROM campaigns WHERE id = ?',
    );
    this.notice = {
      tell: deps.db.$client.prepare<[string, number, string]>(
        `UPDATE campaigns SET status_reason = ?, updated_at = ? WHERE id = ? AND status = 'sending' AND status_reason IS NULL`,
      ),
      clear: deps.db.$client.prepare<[number, string]>(
        `UPDATE campaigns SET status_reason = NULL, updated_at = ? WHERE id = ? AND status_reason LIKE '${mailUnreachableNotice}%'`,
      ),
    };
  }

  /** Rows a crash left claimed become `unknown`: reported, never re-sent blindly. Run once at start. */
  sweepInterrupted(): number {
    const n = this.ledger.markClaimedUnknown(this.deps.clock.now());
    if (n > 0) this.log.warn({ count: n }, 'deliveries interrupted by a stop marked unknown');
    return n;
  }

  /** One scheduler tick: start due runs, then send for every campaign that is sending. */
  async runDue(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      const started = performance.now();
      this.startDueRuns();
      const sending = this.deps.db.select().from(campaigns).where(eq(campaigns.status, 'sending')).all();
      for (const c of sending) {
        if (performance.now() - started > this.settings.runBudgetMs) break;
        await this.work(c.id, started);
      }
    } finally {
      this.running = false;
    }
  }

  private startDueRuns(): void {
    const now = this.deps.clock.now();
    const due = this.deps.db
      .select()
      .from(campaigns)
      .where(
        and(
          eq(campaigns.status, 'scheduled'),
          eq(campaigns.awaitingConfirmation, false),
          // Two-person rule: a campaign that needs an approval waits (scheduled) until it has one.
          or(isNull(campaigns.approvalRequiredAt), isNotNull(campaigns.approvedBy)),
        ),
      )
      .all()
      .filter((c) => c.nextRunAt !== null && c.nextRunAt <= now);
    for (const c of due) {
      const missedBy = now - (c.nextRunAt ?? now);
      if (missedBy > this.settings.missedGraceMs) {
        this.update(c.id, 'scheduled', {
          awaitingConfirmation: true,
          statusReason: `Its send time passed ${Math.round(missedBy / 60000)} min ago while coldbatch was not running: confirm to send now.`,
        });
        this.log.warn({ campaignId: c.id, missedBy }, 'missed schedule waits for confirmation');
        this.notify({ type: 'needs_confirmation', campaignId: c.id, missedBy });
        continue;
      }
      if (!this.mayStart(c, now)) continue;
      if (
        this.update(c.id, 'scheduled', {
          status: 'sending',
          runCount: c.runCount + 1,
          runStartedAt: now,
          startedAt: c.startedAt ?? now,
          statusReason: null,
        })
      ) {
        this.log.info({ campaignId: c.id, run: c.runCount + 1 }, 'campaign run started');
        this.notify({ type: 'started', campaignId: c.id });
      }
    }
  }

  /**
   * Checks, as a run starts, the audience it would reach now (the active batch may have changed
   * since the campaign was scheduled). A first run with nobody to send to does not complete
   * silently: it waits for a person to confirm, with the reasons on the campaign. A run over
   * APPROVAL_THRESHOLD waits for a second admin unless an approval was given after the active batch
   * was activated. One pass over the active batch per run start (only when there is a check).
   */
  private mayStart(c: Row, now: number): boolean {
    const threshold = this.settings.approvalThreshold;
    const first = c.startedAt === null;
    if (!first && threshold === undefined) return true;
    // A first run has reached nobody yet: the plain count will do, the reasons only when it is 0.
    const count = first ? this.audience.count() : this.audience.summary(c.id).count;
    if (first && count === 0) {
      this.holdEmpty(c, this.audience.summary());
      return false;
    }
    if (threshold === undefined || count <= threshold || this.approvalCovers(c)) return true;
    const again = c.approvedBy !== null ? ' and approved' : '';
    const reason =
      `Held for approval: it would now reach ${count} people, over APPROVAL_THRESHOLD (${threshold}); ` +
      `its audience grew after it was scheduled${again} (e.g. another batch was activated). Nothing is sent until an admin other than its creator approves it.`;
    if (
      this.update(c.id, 'scheduled', {
        approvalRequiredAt: now,
        approvedBy: null,
        approvedAt: null,
        statusReason: reason,
      })
    ) {
      this.log.warn(
        { campaignId: c.id, run: c.runCount + 1, audience: count, threshold },
        'campaign run held for approval: audience over the threshold',
      );
      this.notify({ type: 'needs_approval', campaignId: c.id, audience: count });
    }
    return false;
  }

  /** An approval covers the audience when it was given after the active batch was activated. */
  private approvalCovers(c: Row): boolean {
    if (c.approvedBy === null || c.approvedAt === null) return false;
    const since = this.activeBatchSince.get()?.at ?? null;
    return since === null || since <= c.approvedAt;
  }

  /** A first run with nobody to send to waits for a person to confirm, saying why (never completes with 0). */
  private holdEmpty(c: Row, audience: AudienceSummary): void {
    const reason = `${emptyAudienceMessage(audience)} Nothing was sent: fix that, then confirm to send (Confirm: send now, or POST /campaigns/${c.id}/resume).`;
    if (this.update(c.id, 'scheduled', { awaitingConfirmation: true, statusReason: reason })) {
      this.log.warn(
        { campaignId: c.id, batchId: audience.batch?.id ?? null, excluded: audience.excluded },
        'campaign held: nobody to send to',
      );
      this.notify({ type: 'empty_audience', campaignId: c.id, reason });
    }
  }

  /**
   * Sends for one campaign with a sliding window of `concurrency` messages in flight: a new
   * recipient is claimed as soon as one settles. The campaign row is read before every claim, so a
   * pause or cancel stops it at the next message. Daily-limit and bounce figures are read once per
   * call and then kept up to date in memory (no recount per message).
   */
  private async work(id: string, started: number): Promise<void> {
    const c = this.deps.db.select().from(campaigns).where(eq(campaigns.id, id)).get();
    if (c?.status !== 'sending') return;
    // Twice the pool size in flight keeps every SMTP connection busy while we settle and claim.
    const window = this.settings.concurrency * 2;
    const inFlight = new Set<Promise<unknown>>();
    // Accepted by the SMTP server, not yet marked sent: settled with the next claim (a crash before
    // that leaves them `claimed`, reported as unknown at the next start, never re-sent).
    let settled: SentResult[] = [];
    let after = 0;
    let limitKey = '';
    let used = 0;
    const stats = this.ledger.runStats(c.id, c.runCount);
    const sendWindow = parseWindow(c.sendWindow);
    if (c.statusReason?.startsWith(mailUnreachableNotice)) this.toldDown.add(c.id); // told before a restart
    try {
      for (;;) {
        if (performance.now() - started > this.settings.runBudgetMs) return;
        // A pause or cancel takes effect before the next message.
        if (this.statusOf.get(id)?.status !== 'sending') return;
        const now = this.deps.clock.now();
        if (!isInWindow(sendWindow, now)) return;
        // The mail server cannot be reached: claim nothing until it is worth trying again.
        if (this.mailDown && now < this.mailDown.until) {
          this.tellMailDown(c.id, this.mailDown.reason);
          return;
        }
        let room = window - inFlight.size;
        if (c.dailyLimit !== null) {
          const dayStart = c.cron ? 0 : startOfDayIn(c.timezone, now);
          const key = c.cron ? `run:${c.runCount}` : `day:${dayStart}`;
          if (key !== limitKey) {
            limitKey = key;
            used = c.cron ? this.ledger.countRun(c.id, c.runCount) : this.ledger.countSince(c.id, dayStart);
          }
          if (used >= c.dailyLimit && inFlight.size === 0) {
            if (c.cron) this.finishRun(c);
            return;
          }
          room = Math.min(room, c.dailyLimit - used);
        }
        // Sending identities (SMTP_URLS): when every account is at today's cap or skipped, claim
        // nothing (from memory, no query); the next tick, or the next day, goes on.
        const mailRoom = this.deps.mailer.room?.(now);
        if (mailRoom !== undefined) {
          if (mailRoom <= 0 && inFlight.size === 0) return;
          room = Math.min(room, mailRoom);
        }
        // Claim when half the window is free (or nothing is in flight): one transaction per few
        // messages rather than one per message, while the pool always has work queued.
        const refill = inFlight.size === 0 || room >= Math.max(1, Math.floor(window / 2));
        if (refill && room > 0) room = this.takeTokens(c, room, now);
        if (refill && room > 0) {
          const batch = this.ledger.claim(c, room, now, after, settled);
          settled = [];
          if (batch.length === 0 && inFlight.size === 0) {
            // The cursor only skips contacts already claimed in this call, unless the audience
            // changed under it (another batch activated, with lower ids): look once more from the
            // start before calling the campaign done.
            if (after > 0) {
              after = 0;
              continue;
            }
            if (!this.ledger.hasPendingRetries(c.id)) this.finishRun(c);
            return;
          }
          for (const item of batch) {
            if (!item.retry) {
              after = Math.max(after, item.contactId);
              used++;
            }
            const p: Promise<unknown> = this.deliver(c, item).then((outcome) => {
              inFlight.delete(p);
              if (typeof outcome === 'object') settled.push(outcome);
              if (outcome !== 'retry' && outcome !== 'unreachable') stats.attempted++;
              if (outcome === 'bounced') stats.bounced++;
              if (outcome !== 'unreachable') this.mailReachable(c.id);
            });
            inFlight.add(p);
          }
        }
        if (inFlight.size === 0) return; // nothing may go now (rate or limit): the next tick goes on
        await Promise.race(inFlight);
        this.notify({ type: 'progress', campaignId: c.id });
        if (this.pauseOnBounces(c, stats)) return;
      }
    } finally {
      await Promise.all(inFlight);
      this.ledger.settleSent(settled, this.deps.clock.now());
    }
  }

  /**
   * One message: compose and send. A bounce or a failure is settled in the ledger here; an accepted
   * message is returned, to be marked sent with the next claim. Never throws.
   */
  private async deliver(
    c: Row,
    item: Claimed,
  ): Promise<SentResult | 'bounced' | 'retry' | 'failed' | 'unknown' | 'unreachable'> {
    const s = this.settings;
    try {
      const message = composeMessage(s, {
        campaign: { id: c.id, subject: c.subject, body: c.body, html: c.html, from: c.fromAddress },
        recipient: item.recipient,
        sendId: item.sendId,
        token: signUnsubscribeToken(item.sendId, s.unsubscribeSecrets[0]!),
      });
      const info = await this.deps.mailer.send(message);
      return {
        sendId: item.sendId,
        messageId: info.messageId,
        response: info.response,
        account: info.account,
      };
    } catch (e) {
      const now = this.deps.clock.now();
      if (e instanceof MailError && e.kind === 'permanent') {
        this.bounce(c, item, `${e.responseCode ?? ''} ${e.response}`.trim(), now);
        return 'bounced';
      }
      if (e instanceof MailError && e.kind === 'unknown') {
        // Sent, then no answer: the server may have it. Reported, never re-sent (at-most-once).
        this.ledger.settleUnknown(item.sendId, e.response, now);
        this.log.warn({ campaignId: c.id, sendId: item.sendId }, 'delivery unknown: no answer after sending');
        return 'unknown';
      }
      if (e instanceof MailError && e.unreachable) {
        // Nothing left this machine and it says nothing about the recipient: the row waits for the
        // server without spending one of its attempts, so an outage of any length loses no one.
        const retryAt = now + (s.retryDelaysMs[0] ?? 60_000);
        this.ledger.settleRetry(item.sendId, item.attempts, retryAt, e.response, now);
        if (!this.mailDown) this.log.warn({ campaignId: c.id }, 'mail server unreachable: sending waits');
        this.mailDown = { until: retryAt, reason: e.response };
        return 'unreachable';
      }
      if (e instanceof MailError) {
        const attempts = item.attempts + 1;
        const delays = s.retryDelaysMs;
        const delay = delays[Math.min(attempts - 1, delays.length - 1)] ?? 60_000;
        const last = attempts >= s.maxAttempts;
        this.ledger.settleRetry(item.sendId, attempts, last ? null : now + delay, e.response, now);
        return last ? 'failed' : 'retry';
      }
      this.log.error({ err: e, campaignId: c.id, sendId: item.sendId }, 'delivery failed unexpectedly');
      this.ledger.settleRetry(
        item.sendId,
        item.attempts + 1,
        null,
        `internal error: ${String(e).slice(0, 200)}`,
        now,
      );
      return 'failed';
    }
  }

  /** Says once per outage, on the campaign (its Slack message shows it), that sending waits for the mail server. */
  private tellMailDown(id: string, reason: string): void {
    if (this.toldDown.has(id)) return;
    const text = `${mailUnreachableNotice} (${reason.slice(0, 120)}): sending waits and tries again until it answers. No one is skipped or e-mailed twice.`;
    if (this.notice.tell.run(text, this.deps.clock.now(), id).changes === 0) return;
    this.toldDown.add(id);
    this.notify({ type: 'mail_unreachable', campaignId: id, reason });
  }

  /** The mail server answered (whatever it said): sending goes on and the campaign's notice goes. */
  private mailReachable(id: string): void {
    if (this.mailDown) {
      this.mailDown = null;
      this.log.info({ campaignId: id }, 'mail server reachable again');
    }
    if (!this.toldDown.delete(id)) return;
    if (this.notice.clear.run(this.deps.clock.now(), id).changes > 0)
      this.notify({ type: 'mail_recovered', campaignId: id });
  }

  /** A hard bounce: the ledger row, the contact's status and the suppression list change together. */
  private bounce(c: Row, item: Claimed, response: string, now: number): void {
    this.deps.db.transaction((tx) => {
      tx.update(sends)
        .set({
          status: 'bounced',
          attempts: item.attempts + 1,
          response: response.slice(0, 500),
          updatedAt: now,
        })
        .where(eq(sends.id, item.sendId))
        .run();
      if (item.contactId) {
        changeStatus(
          tx,
          item.contactId,
          'bounced',
          'system',
          `hard bounce in ${c.id}: ${response.slice(0, 200)}`,
          now,
        );
      }
      tx.insert(suppressions)
        .values({ emailHash: item.emailHash, reason: 'bounced', actor: 'system', createdAt: now })
        .onConflictDoNothing()
        .run();
      const data = {
        email: item.recipient.email,
        contactId: item.contactId,
        campaignId: c.id,
        smtpResponse: response.slice(0, 200),
      };
      this.deps.webhooks?.record(tx, 'contact.bounced', data, now);
    });
    this.log.info({ campaignId: c.id, sendId: item.sendId }, 'hard bounce: contact suppressed');
  }

  private pauseOnBounces(c: Row, stats: { attempted: number; bounced: number }): boolean {
    const { attempted, bounced } = stats;
    const { rate, minSends } = this.settings.bouncePause;
    if (attempted < minSends || bounced / attempted <= rate) return false;
    const pct = Math.round((bounced / attempted) * 1000) / 10;
    const reason = `Paused automatically: ${bounced} of ${attempted} messages bounced (${pct}%, over ${rate * 100}%). Check the list before resuming.`;
    if (this.update(c.id, 'sending', { status: 'paused', statusReason: reason })) {
      this.log.warn({ campaignId: c.id, bounced, attempted }, 'campaign auto-paused on bounce rate');
      this.notify({ type: 'paused', campaignId: c.id, reason });
    }
    return true;
  }

  private finishRun(c: Row): void {
    const now = this.deps.clock.now();
    if (c.cron) {
      const next = nextCronRun(c.cron, c.timezone, now);
      if (this.update(c.id, 'sending', { status: 'scheduled', runStartedAt: null, nextRunAt: next })) {
        this.log.info({ campaignId: c.id, run: c.runCount, next }, 'drip run finished');
        this.notify({ type: 'run_finished', campaignId: c.id });
      }
      return;
    }
    // The campaign.completed webhook commits with the status change (outbox).
    const completed = this.deps.db.transaction(() => {
      const done = this.update(c.id, 'sending', {
        status: 'completed',
        runStartedAt: null,
        completedAt: now,
        nextRunAt: null,
      });
      if (done) {
        const data = campaignCompletedData(this.deps.db, c, now);
        this.deps.webhooks?.record(this.deps.db, 'campaign.completed', data, now);
      }
      return done;
    });
    if (completed) {
      this.log.info({ campaignId: c.id }, 'campaign completed');
      this.notify({ type: 'completed', campaignId: c.id });
    }
  }

  /** Token bucket per campaign for ratePerMinute (pacing only: nothing that matters lives here). */
  private takeTokens(c: Row, want: number, now: number): number {
    const rate = c.ratePerMinute;
    if (!rate) return want;
    const capacity = Math.max(1, Math.floor(rate / 12));
    const b = this.buckets.get(c.id) ?? { tokens: capacity, at: now };
    b.tokens = Math.min(capacity, b.tokens + ((now - b.at) * rate) / 60_000);
    b.at = now;
    const take = Math.min(want, Math.floor(b.tokens));
    b.tokens -= take;
    this.buckets.set(c.id, b);
    return take;
  }

  /** Conditional update: applies only if the campaign is still in `from` (a pause always wins). */
  private update(id: string, from: Row['status'], set: Partial<typeof campaigns.$inferInsert>): boolean {
    const r = this.deps.db
      .update(campaigns)
      .set({ ...set, updatedAt: this.deps.clock.now() })
      .where(and(eq(campaigns.id, id), eq(campaigns.status, from)))
      .run();
    return r.changes === 1;
  }
}
