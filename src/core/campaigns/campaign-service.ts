import { randomBytes } from 'node:crypto';
import { and, desc, eq, inArray, isNull } from 'drizzle-orm';
import { type CampaignStatus, campaigns } from '../../db/schema.js';
import { DomainError } from '../../errors.js';
import {
  AudienceService,
  type AudienceSummary,
  assertAudience,
  audienceFrom,
  audienceRule,
} from '../audience/audience-service.js';
import { exportCampaignResultsCsv } from '../batches/export.js';
import { newestFirstPage, olderThan, pageLimit } from '../pagination.js';
import { type Actor, type CoreDeps, toIso } from '../types.js';
import {
  type Campaign,
  type CampaignCounts,
  type CampaignInput,
  campaignInputSchema,
  parseWindow,
  type ScheduleInput,
  scheduleInputSchema,
} from './campaign.js';
import { nextCronRun, validateCron } from './schedule.js';
import { parseSender } from './sender.js';
import { validateTemplate } from './template.js';

/** `confirm` for retryFailed with includeUnknown: those people may already have the message. */
export const resendUnknownConfirmation = 'resend-unknown';

export type RetryFailedOptions = { includeUnknown?: boolean; confirm?: string };

/** A campaign with its ledger figures and, until it is finished, who it would reach now. */
export type CampaignDetail = { campaign: Campaign; counts: CampaignCounts; audience?: AudienceSummary };

export type CampaignSettings = {
  /** MAIL_FROM: the sender when a campaign gives none. */
  defaultFrom: string | undefined;
  /** MAIL_POSTAL_ADDRESS: required in every footer; no campaign starts without it. */
  postalAddress: string | undefined;
  /** APPROVAL_THRESHOLD: a scheduled audience larger than this needs a second admin's approval. */
  approvalThreshold?: number | undefined;
};

type Row = typeof campaigns.$inferSelect;

export function toCampaign(r: Row): Campaign {
  return {
    id: r.id,
    name: r.name,
    subject: r.subject,
    body: r.body,
    html: r.html,
    from: r.fromAddress,
    sendAt: toIso(r.sendAt),
    cron: r.cron,
    timezone: r.timezone,
    dailyLimit: r.dailyLimit,
    ratePerMinute: r.ratePerMinute,
    window: parseWindow(r.sendWindow),
    status: r.status,
    statusReason: r.statusReason,
    awaitingConfirmation: r.awaitingConfirmation,
    nextRunAt: toIso(r.nextRunAt),
    runCount: r.runCount,
    createdBy: r.createdBy,
    createdAt: toIso(r.createdAt)!,
    startedAt: toIso(r.startedAt),
    completedAt: toIso(r.completedAt),
    approval:
      r.approvalRequiredAt === null
        ? null
        : {
            requiredAt: toIso(r.approvalRequiredAt)!,
            approvedBy: r.approvedBy,
            approvedAt: toIso(r.approvedAt),
          },
  };
}

/** Not completed or cancelled, and not sending again to a completed campaign's re-queued rows. */
const isUnfinished = (c: { status: CampaignStatus; completedAt: number | string | null }) =>
  c.status !== 'completed' && c.status !== 'cancelled' && c.completedAt === null;

/** Actors that are not a person (REST token, CLI, the app itself): they can never be the second person. */
const notPeople = new Set(['api', 'cli', 'system', 'recipient']);

/** Campaigns: saved with validated templates, scheduled, paused, resumed and cancelled. The send engine runs them. */
export class CampaignService {
  private readonly log;
  private readonly audience: AudienceService;
  private readonly remainingStmt;
  private readonly requeueStmt;
  constructor(
    private readonly deps: CoreDeps,
    private readonly settings: CampaignSettings,
  ) {
    this.log = deps.log.child({ module: 'campaigns' });
    this.audience = new AudienceService(deps);
    this.remainingStmt = deps.db.$client.prepare<[string], { n: number }>(
      `SELECT count(*) AS n ${audienceFrom}
         AND NOT EXISTS (SELECT 1 FROM sends x WHERE x.campaign_id = ? AND x.contact_id = c.id)`,
    );
    // Only people still in the audience (not unsubscribed, suppressed, deleted or in an inactive
    // batch); the ledger's staleRetries still drops any who leave it before the retry is sent.
    this.requeueStmt = deps.db.$client.prepare<[number, number, string, string, string]>(
      `UPDATE sends SET status = 'retry', attempts = 0, next_attempt_at = ?, updated_at = ?
       WHERE campaign_id = ? AND status IN (?, ?)
         AND EXISTS (SELECT 1 FROM contacts c JOIN batches b ON b.id = c.batch_id
           WHERE c.id = sends.contact_id AND ${audienceRule})`,
    );
  }

  /**
   * Re-queues the `failed` recipients of a completed campaign (and, with includeUnknown and
   * confirm 'resend-unknown', the `unknown` ones) and sets it sending again; only those rows go,
   * never new contacts. Returns how many were re-queued.
   */
  retryFailed(
    id: string,
    actor: Actor,
    opts: RetryFailedOptions = {},
  ): { campaign: Campaign; requeued: number } {
    if (opts.includeUnknown && opts.confirm !== resendUnknownConfirmation) {
      throw new DomainError(
        'invalid_input',
        `Recipients with status unknown may already have received the message. To send it to them again, confirm with confirm: "${resendUnknownConfirmation}".`,
      );
    }
    const now = this.deps.clock.now();
    const requeued = this.deps.db.$client.transaction(() => {
      const row = this.row(id);
      if (row.status !== 'completed') {
        throw new DomainError(
          'conflict',
          `Campaign ${id} is ${row.status}; only a completed campaign's failed sends can be retried.`,
        );
      }
      const n = this.requeueStmt.run(
        now,
        now,
        id,
        'failed',
        opts.includeUnknown ? 'unknown' : 'failed',
      ).changes;
      if (n === 0) {
        throw new DomainError(
          'conflict',
          `Campaign ${id} has no ${opts.includeUnknown ? 'failed or unknown' : 'failed'} recipients still in the audience to send to again.`,
        );
      }
      // completedAt stays set: the engine takes only the re-queued rows, never new contacts.
      this.deps.db
        .update(campaigns)
        .set({ status: 'sending', statusReason: null, runStartedAt: now, updatedAt: now })
        .where(and(eq(campaigns.id, id), eq(campaigns.status, 'completed')))
        .run();
      return n;
    })();
    this.log.info(
      { campaignId: id, actor, requeued, includeUnknown: opts.includeUnknown === true, to: 'sending' },
      'failed sends re-queued',
    );
    return { campaign: this.get(id), requeued };
  }

  /** Saves a campaign; with sendAt or cron it is scheduled at once, otherwise it is a draft. */
  create(raw: CampaignInput, actor: Actor): Campaign {
    const input = campaignInputSchema.parse(raw);
    validateTemplate(input.subject, 'subject');
    validateTemplate(input.body, 'body');
    if (input.html) validateTemplate(input.html, 'html', { html: true });
    const from = input.from || this.settings.defaultFrom;
    if (!from) {
      throw new DomainError('invalid_input', 'Say who the campaign is from: give "from", or set MAIL_FROM.');
    }
    const sender = parseSender(from);
    if (!sender.ok) {
      const where = input.from ? 'from' : 'MAIL_FROM';
      const message = `The sender (${where}) ${JSON.stringify(from)} ${sender.problem}.`;
      throw new DomainError('invalid_input', message, { field: 'from' });
    }
    const now = this.deps.clock.now();
    const id = `cmp_${randomBytes(4).toString('hex')}`;
    const schedule =
      input.sendAt !== undefined || input.cron !== undefined ? this.planSchedule(input, now) : null;
    // Sending now to nobody is refused with the reasons; a later time or a drip may still get a batch.
    // One pass over the active batch serves both checks (refusal and approval).
    const audience = schedule ? this.audience.summary() : null;
    if (schedule && audience && schedule.nextRunAt <= now) assertAudience(audience);
    this.deps.db
      .insert(campaigns)
      .values({
        id,
        name: input.name,
        subject: input.subject,
        body: input.body,
        html: input.html ?? null,
        fromAddress: from,
        status: schedule ? 'scheduled' : 'draft',
        createdBy: actor,
        createdAt: now,
        updatedAt: now,
        ...(schedule ?? { timezone: input.timezone ?? 'UTC' }),
        ...(audience ? this.approvalPlan(id, now, audience.count) : {}),
      })
      .run();
    this.log.info({ campaignId: id, actor, status: schedule ? 'scheduled' : 'draft' }, 'campaign created');
    return this.get(id);
  }

  /** Schedules a draft (or reschedules a paused campaign) with sendAt or cron. */
  schedule(id: string, raw: ScheduleInput, actor: Actor): Campaign {
    const input = scheduleInputSchema.parse(raw);
    const row = this.row(id);
    if (row.status !== 'draft' && row.status !== 'paused' && row.status !== 'scheduled') {
      throw new DomainError(
        'conflict',
        `Campaign ${id} is ${row.status}; only a draft, scheduled or paused one can be scheduled.`,
      );
    }
    const now = this.deps.clock.now();
    const plan = this.planSchedule(input, now);
    // The whole audience (a campaign that never started has reached nobody yet); one pass for both checks.
    const audience = this.audience.summary();
    if (plan.nextRunAt <= now && row.startedAt === null) assertAudience(audience);
    this.deps.db
      .update(campaigns)
      .set({
        ...plan,
        ...this.approvalPlan(id, now, audience.count),
        status: 'scheduled',
        statusReason: null,
        awaitingConfirmation: false,
        updatedAt: now,
      })
      .where(eq(campaigns.id, id))
      .run();
    this.log.info({ campaignId: id, actor }, 'campaign scheduled');
    return this.get(id);
  }

  /**
   * The second person's approval under the two-person rule: refused to the campaign's creator and
   * to actors that are not people (the REST token). A send time that passed while it waited is
   * taken as now: the approval is a person deciding to send, so no missed-schedule confirmation.
   */
  approve(id: string, actor: Actor): Campaign {
    if (notPeople.has(actor)) {
      throw new DomainError(
        'forbidden',
        'Campaigns are approved in Slack by a second admin (the Approve button): an API token is not a person, so it cannot be the second one.',
      );
    }
    const row = this.row(id);
    if (row.approvalRequiredAt === null) {
      throw new DomainError('conflict', `Campaign ${id} does not need an approval.`);
    }
    if (row.approvedBy !== null) return toCampaign(row);
    if (row.status === 'completed' || row.status === 'cancelled') {
      throw new DomainError('conflict', `Campaign ${id} is ${row.status}; there is nothing to approve.`);
    }
    if (actor === row.createdBy) {
      this.log.warn({ campaignId: id, actor }, 'approval refused: the creator cannot approve');
      throw new DomainError(
        'forbidden',
        `You created campaign ${id}, so you cannot approve it yourself: sends this large need a second admin. Ask another coldbatch admin to click Approve.`,
      );
    }
    const now = this.deps.clock.now();
    const late = row.status === 'scheduled' && row.nextRunAt !== null && row.nextRunAt < now;
    this.deps.db
      .update(campaigns)
      .set({
        approvedBy: actor,
        approvedAt: now,
        updatedAt: now,
        // A scheduled campaign's reason was the hold for this approval (or the missed time it settles).
        ...(row.status === 'scheduled' ? { statusReason: null } : {}),
        ...(late ? { nextRunAt: now, awaitingConfirmation: false } : {}),
      })
      .where(and(eq(campaigns.id, id), isNull(campaigns.approvedBy)))
      .run();
    this.log.info({ campaignId: id, actor, createdBy: row.createdBy }, 'campaign approved');
    return this.get(id);
  }

  /** Pauses sending; the engine sees it before its next message. */
  pause(id: string, actor: Actor, reason?: string): Campaign {
    return this.transition(id, ['scheduled', 'sending'], 'paused', actor, reason ?? `paused by ${actor}`);
  }

  /** Resumes a paused campaign, or confirms one that waits after a missed schedule. */
  resume(id: string, actor: Actor): Campaign {
    const row = this.row(id);
    const now = this.deps.clock.now();
    if (row.status === 'scheduled' && row.awaitingConfirmation) {
      this.assertReady();
      // Confirming a first run (e.g. one held because nobody could be reached) needs someone to reach.
      if (row.startedAt === null) assertAudience(this.audience.summary(id));
      this.deps.db
        .update(campaigns)
        .set({ awaitingConfirmation: false, statusReason: null, nextRunAt: now, updatedAt: now })
        .where(eq(campaigns.id, id))
        .run();
      this.log.info({ campaignId: id, actor }, 'missed schedule confirmed');
      return this.get(id);
    }
    this.assertReady();
    // A run that was under way goes on; otherwise the campaign waits for its next run.
    const to: CampaignStatus = row.runStartedAt !== null ? 'sending' : 'scheduled';
    return this.transition(id, ['paused'], to, actor, null);
  }

  /** Cancels for good: nothing more is sent. */
  cancel(id: string, actor: Actor): Campaign {
    return this.transition(
      id,
      ['draft', 'scheduled', 'sending', 'paused'],
      'cancelled',
      actor,
      `cancelled by ${actor}`,
    );
  }

  /** Per-recipient results (who got it, when, Message-ID, status) as CSV, streamed. */
  exportResults(id: string): AsyncIterable<string> {
    return exportCampaignResultsCsv(this.deps, id);
  }

  get(id: string): Campaign {
    return toCampaign(this.row(id));
  }

  /**
   * The campaign, its figures and, until it is finished, its audience now (who it would reach and
   * why the others are left out). One GROUP BY over the active batch: for one campaign, not lists.
   */
  detail(id: string): CampaignDetail {
    const campaign = this.get(id);
    if (!isUnfinished(campaign)) return { campaign, counts: this.counts(id) };
    const audience = this.audience.summary(id);
    return { campaign, counts: this.counts(id, audience.count), audience };
  }

  /** Newest first, by cursor. */
  list(query: { limit?: number; cursor?: string; status?: CampaignStatus } = {}): {
    campaigns: Campaign[];
    nextCursor: string | null;
  } {
    const limit = pageLimit(query.limit, 200);
    const rows = this.deps.db
      .select()
      .from(campaigns)
      .where(
        and(
          query.status ? eq(campaigns.status, query.status) : undefined,
          olderThan(query.cursor, campaigns.createdAt, campaigns.id),
        ),
      )
      .orderBy(desc(campaigns.createdAt), desc(campaigns.id))
      .limit(limit + 1)
      .all();
    const { page, nextCursor } = newestFirstPage(rows, limit);
    return { campaigns: page.map(toCampaign), nextCursor };
  }

  /** Ledger figures: sent, failed, bounced, unknown, unsubscribed, and what is still to go. */
  counts(id: string, remainingNow?: number): CampaignCounts {
    const row = this.row(id);
    const sqlite = this.deps.db.$client;
    const byStatus = sqlite
      .prepare<[string], { status: string; n: number; unsub: number }>(
        `SELECT status, count(*) AS n, sum(unsubscribed_at IS NOT NULL) AS unsub FROM sends WHERE campaign_id = ? GROUP BY status`,
      )
      .all(id);
    const c: CampaignCounts = {
      total: 0,
      pending: 0,
      sent: 0,
      failed: 0,
      bounced: 0,
      unsubscribed: 0,
      unknown: 0,
    };
    for (const r of byStatus) {
      c.total += r.n;
      c.unsubscribed += r.unsub;
      if (r.status === 'sent') c.sent += r.n;
      else if (r.status === 'failed') c.failed += r.n;
      else if (r.status === 'bounced') c.bounced += r.n;
      else if (r.status === 'unknown') c.unknown += r.n;
      else c.pending += r.n;
    }
    if (isUnfinished(row)) {
      const remaining = remainingNow ?? this.remainingAudience(id);
      c.pending += remaining;
      c.total += remaining;
    }
    return c;
  }

  /** Contacts of the audience this campaign has not reached yet. */
  remainingAudience(id: string): number {
    return this.remainingStmt.get(id)?.n ?? 0;
  }

  /** Stores where a transport shows this campaign's progress. */
  setProgressRef(id: string, ref: string): void {
    this.deps.db.update(campaigns).set({ progressRef: ref }).where(eq(campaigns.id, id)).run();
  }

  progressRef(id: string): string | null {
    return this.row(id).progressRef;
  }

  /** Whether scheduling now needs an approval (audience over APPROVAL_THRESHOLD); clears an earlier one. */
  private approvalPlan(id: string, now: number, audience: number) {
    const threshold = this.settings.approvalThreshold;
    if (threshold === undefined) return { approvalRequiredAt: null, approvedBy: null, approvedAt: null };
    if (audience <= threshold) return { approvalRequiredAt: null, approvedBy: null, approvedAt: null };
    this.log.info({ campaignId: id, audience, threshold }, 'campaign needs a second admin to approve it');
    return { approvalRequiredAt: now, approvedBy: null, approvedAt: null };
  }

  private planSchedule(input: Omit<ScheduleInput, never>, now: number) {
    this.assertReady();
    const timezone = input.timezone ?? input.window?.timezone ?? 'UTC';
    if (input.sendAt !== undefined && input.cron !== undefined) {
      throw new DomainError('invalid_input', 'Give either sendAt (one send) or cron (a drip), not both.');
    }
    if (input.cron !== undefined) {
      validateCron(input.cron, timezone);
      if (input.dailyLimit === undefined) {
        throw new DomainError(
          'invalid_input',
          'A cron drip needs dailyLimit: how many contacts each run may reach.',
        );
      }
      return {
        sendAt: null,
        cron: input.cron,
        timezone,
        dailyLimit: input.dailyLimit,
        ratePerMinute: input.ratePerMinute ?? null,
        sendWindow: input.window ? JSON.stringify(input.window) : null,
        nextRunAt: nextCronRun(input.cron, timezone, now),
      };
    }
    const at = input.sendAt === 'now' || input.sendAt === undefined ? now : Date.parse(input.sendAt);
    return {
      sendAt: at,
      cron: null,
      timezone,
      dailyLimit: input.dailyLimit ?? null,
      ratePerMinute: input.ratePerMinute ?? null,
      sendWindow: input.window ? JSON.stringify(input.window) : null,
      nextRunAt: Math.max(at, now),
    };
  }

  private assertReady(): void {
    if (!this.settings.postalAddress) {
      throw new DomainError(
        'mail_not_configured',
        'Set MAIL_POSTAL_ADDRESS (the postal address every cold e-mail must carry in its footer) before a campaign can start.',
      );
    }
  }

  private transition(
    id: string,
    from: CampaignStatus[],
    to: CampaignStatus,
    actor: Actor,
    reason: string | null,
  ): Campaign {
    const now = this.deps.clock.now();
    const done = to === 'cancelled' ? { completedAt: now } : {};
    const r = this.deps.db
      .update(campaigns)
      .set({ status: to, statusReason: reason, updatedAt: now, ...done })
      .where(and(eq(campaigns.id, id), inArray(campaigns.status, from)))
      .run();
    if (r.changes === 0) {
      const row = this.row(id);
      if (row.status === to) return toCampaign(row);
      throw new DomainError('conflict', `Campaign ${id} is ${row.status}; it cannot become ${to}.`);
    }
    this.log.info({ campaignId: id, actor, to }, 'campaign status changed');
    return this.get(id);
  }

  private row(id: string): Row {
    const row = this.deps.db.select().from(campaigns).where(eq(campaigns.id, id)).get();
    if (!row)
      throw new DomainError('not_found', `No campaign ${id}. /campaigns list shows the ids.`, {
        campaignId: id,
      });
    return row;
  }
}
