import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { DomainError } from '../../errors.js';
import { type AudienceService, assertAudience } from '../audience/audience-service.js';
import { decodeCursor, newestFirstPage, pageLimit } from '../pagination.js';
import { tallySends } from '../sending/send-tally.js';
import type { Actor, CampaignStatus, CoreDeps } from '../types.js';
import {
  type Campaign,
  type CampaignCounts,
  type CampaignInput,
  isUnfinished,
  parseCampaignInput,
  type ScheduleInput,
  scheduleInputSchema,
  toCampaign,
} from './campaign.js';
import type { CampaignHistoryEntry, CampaignStore } from './campaign-store.js';
import { exportCampaignResultsCsv } from './export.js';
import { type DoctorHold, parseHeldChecks } from './held.js';
import { approvalPlan, assertReady, type CampaignSettings, planSchedule } from './plan.js';
import { type RetryFailedOptions, requeueFailed } from './retry-failed.js';
import { parseSender } from './sender.js';
import { assertCronAllowed, inputSteps, stepColumns } from './sequence-input.js';
import { CampaignStateMachine } from './state-machine.js';

export type { CampaignSettings } from './plan.js';

export { type RetryFailedOptions, resendUnknownConfirmation } from './retry-failed.js';

/** Actors that are not a person (REST token, CLI, the app itself): they can never be the second person. */
const notPeople = new Set(['api', 'cli', 'system', 'recipient']);

const newestCursor = z.tuple([z.number(), z.string()]);

/** Campaigns: saved with validated templates, scheduled, paused, resumed and cancelled. The send engine runs them. */
export class CampaignService {
  private readonly log;
  /** The one campaign state machine: this service and the send engine move campaigns only through it. */
  readonly machine: CampaignStateMachine;
  constructor(
    private readonly deps: Pick<CoreDeps, 'log' | 'clock' | 'webhooks'>,
    private readonly settings: CampaignSettings,
    private readonly store: CampaignStore,
    private readonly audience: AudienceService,
    /** The domain doctor's hold on a send that would start (absent: never held). */
    private readonly hold?: DoctorHold,
  ) {
    this.log = deps.log.child({ module: 'campaigns' });
    const { clock, webhooks } = deps;
    this.machine = new CampaignStateMachine(store, { clock, log: this.log, webhooks, hold });
  }

  /**
   * Re-queues the `failed` recipients of a completed campaign (and, with includeUnknown and
   * confirm 'resend-unknown', the `unknown` ones) and sets it sending again (retry-failed.ts).
   */
  async retryFailed(
    id: string,
    actor: Actor,
    opts: RetryFailedOptions = {},
  ): Promise<{ campaign: Campaign; requeued: number }> {
    const requeued = await requeueFailed(this.machine, this.log, this.deps.clock.now(), id, actor, opts);
    return { campaign: await this.get(id), requeued };
  }

  /** Saves a campaign; with sendAt or cron it is scheduled at once, otherwise it is a draft. */
  async create(raw: CampaignInput, actor: Actor): Promise<Campaign> {
    const input = parseCampaignInput(raw);
    const content = stepColumns(inputSteps(input)); // every step's templates checked
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
      input.sendAt !== undefined || input.cron !== undefined ? planSchedule(this.settings, input, now) : null;
    // Sending now to nobody is refused with the reasons; a later time or a drip may still get a batch.
    // One count of the active batch (the latest, figuresMaxStaleMs; recounted when it is empty) serves
    // both checks (refusal and approval; a run re-checks both as it starts) and the new campaign's figures.
    const reach = await this.audience.reach(now);
    const audience = schedule ? reach.audience : null;
    if (schedule && audience && schedule.nextRunAt <= now) assertAudience(audience);
    // A send that would start while a deliverability check fails is saved held (PRODUCT.md §9).
    const held = schedule && this.hold ? await this.hold.failing() : [];
    await this.machine.create(
      {
        id,
        name: input.name,
        ...content,
        fromAddress: from,
        status: schedule ? 'scheduled' : 'draft',
        createdBy: actor,
        createdAt: now,
        updatedAt: now,
        ...(schedule ?? { timezone: input.timezone ?? 'UTC' }),
        ...(audience ? approvalPlan(this.log, this.settings, id, now, audience.count) : {}),
      },
      held,
    );
    await this.audience.seed(id, reach);
    const status = schedule ? (held.length > 0 ? 'held' : 'scheduled') : 'draft';
    this.log.info({ campaignId: id, actor, status }, 'campaign created');
    return this.get(id);
  }

  /** Schedules a draft (or reschedules a paused campaign) with sendAt or cron. */
  async schedule(id: string, raw: ScheduleInput, actor: Actor): Promise<Campaign> {
    const input = scheduleInputSchema.parse(raw);
    const row = await this.machine.get(id);
    if (input.cron !== undefined) assertCronAllowed(row);
    if (row.status !== 'draft' && row.status !== 'paused' && row.status !== 'scheduled') {
      throw new DomainError(
        'conflict',
        `Campaign ${id} is ${row.status}; only a draft, scheduled or paused one can be scheduled.`,
      );
    }
    const now = this.deps.clock.now();
    const plan = planSchedule(this.settings, input, now);
    // The whole audience (a campaign that never started has reached nobody yet); one count for both
    // checks, the latest (figuresMaxStaleMs) and recounted when it is empty.
    const { audience } = await this.audience.reach(now);
    if (plan.nextRunAt <= now && row.startedAt === null) assertAudience(audience);
    // Held while a deliverability check fails, unless it already started or an admin sent it anyway.
    const first = row.startedAt === null && row.heldChecks === null;
    const held = first && this.hold ? await this.hold.failing() : [];
    const patch = { ...plan, ...approvalPlan(this.log, this.settings, id, now, audience.count) };
    await this.machine.schedule(
      id,
      { ...patch, statusReason: null, awaitingConfirmation: false, updatedAt: now },
      actor,
      held,
    );
    this.log.info({ campaignId: id, actor }, 'campaign scheduled');
    return this.get(id);
  }

  /**
   * The second person's approval under the two-person rule: refused to the campaign's creator and
   * to actors that are not people (the REST token). A send time that passed while it waited is
   * taken as now: the approval is a person deciding to send, so no missed-schedule confirmation.
   */
  async approve(id: string, actor: Actor): Promise<Campaign> {
    if (notPeople.has(actor)) {
      throw new DomainError(
        'forbidden',
        'Campaigns are approved in Slack by a second admin (the Approve button): an API token is not a person, so it cannot be the second one.',
      );
    }
    const row = await this.machine.get(id);
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
    const patch = {
      approvedBy: actor,
      approvedAt: now,
      updatedAt: now,
      // A scheduled campaign's reason was the hold for this approval (or the missed time it settles).
      ...(row.status === 'scheduled' ? { statusReason: null } : {}),
      ...(late ? { nextRunAt: now, awaitingConfirmation: false } : {}),
    };
    await this.machine.amend(id, patch, undefined, true, { kind: 'approved', actor });
    this.log.info({ campaignId: id, actor, createdBy: row.createdBy }, 'campaign approved');
    return this.get(id);
  }

  /** Pauses sending; the engine sees it before its next message. */
  async pause(id: string, actor: Actor, reason?: string): Promise<Campaign> {
    await this.machine.transition(
      id,
      ['scheduled', 'sending'],
      'paused',
      actor,
      reason ?? `paused by ${actor}`,
    );
    return this.get(id);
  }

  /** Resumes a paused campaign, or confirms one that waits after a missed schedule. */
  async resume(id: string, actor: Actor): Promise<Campaign> {
    const row = await this.machine.get(id);
    const now = this.deps.clock.now();
    if (row.status === 'scheduled' && row.awaitingConfirmation) {
      assertReady(this.settings);
      // Confirming a first run (e.g. one held because nobody could be reached) needs someone to reach.
      if (row.startedAt === null) assertAudience(await this.audience.summary(id));
      const patch = { awaitingConfirmation: false, statusReason: null, nextRunAt: now, updatedAt: now };
      await this.machine.amend(id, patch, undefined, undefined, { kind: 'confirmed', actor });
      this.log.info({ campaignId: id, actor }, 'missed schedule confirmed');
      return this.get(id);
    }
    assertReady(this.settings);
    // A run that was under way goes on; otherwise the campaign waits for its next run.
    const to: CampaignStatus = row.runStartedAt !== null ? 'sending' : 'scheduled';
    await this.machine.transition(id, ['paused'], to, actor, null);
    return this.get(id);
  }

  /** Cancels for good: nothing more is sent. */
  async cancel(id: string, actor: Actor): Promise<Campaign> {
    const from: CampaignStatus[] = ['draft', 'scheduled', 'sending', 'paused', 'held'];
    await this.machine.transition(id, from, 'cancelled', actor, `cancelled by ${actor}`);
    return this.get(id);
  }

  /**
   * An admin's "send anyway" for a campaign the domain doctor held: it goes on to scheduled (its
   * time or cron as given; a one-off time that passed means now), recorded with who and the checks.
   */
  async sendAnyway(id: string, actor: Actor): Promise<Campaign> {
    const row = await this.machine.get(id);
    if (row.status !== 'held' || !(await this.machine.release(row, actor))) {
      const { status } = await this.machine.get(id);
      throw new DomainError(
        'conflict',
        `Campaign ${id} is ${status}; only a held campaign can be sent anyway.`,
      );
    }
    const checks = parseHeldChecks(row.heldChecks) ?? [];
    this.log.warn({ campaignId: id, actor, checks: checks.map((c) => c.name) }, 'held campaign sent anyway');
    return this.get(id);
  }

  /** The last `limit` lines of the campaign's history, oldest first, and how many earlier ones were left out. */
  async history(id: string, limit = 100): Promise<{ history: CampaignHistoryEntry[]; omitted: number }> {
    await this.machine.get(id);
    const { entries, total } = await this.store.history(id, limit);
    return { history: entries, omitted: total - entries.length };
  }

  /** Per-recipient results (who got it, when, Message-ID, status) as CSV, streamed; not_found first. */
  exportResults(id: string): Promise<AsyncIterable<string>> {
    return exportCampaignResultsCsv(this.store, id);
  }

  /** The campaign, or not_found. */
  async get(id: string): Promise<Campaign> {
    return toCampaign(await this.machine.get(id));
  }

  /** Newest first, by cursor. */
  async list(query: { limit?: number; cursor?: string; status?: CampaignStatus } = {}): Promise<{
    campaigns: Campaign[];
    nextCursor: string | null;
  }> {
    const limit = pageLimit(query.limit, 200);
    const cursor = query.cursor ? decodeCursor(query.cursor, newestCursor) : undefined;
    const before = cursor ? { createdAt: cursor[0], id: cursor[1] } : undefined;
    const rows = await this.store.list({ status: query.status, before, limit: limit + 1 });
    const { page, nextCursor } = newestFirstPage(rows, limit);
    return { campaigns: page.map(toCampaign), nextCursor };
  }

  /** Ledger figures: sent, failed, bounced, unknown, unsubscribed, and what is still to go. */
  async counts(id: string, remainingNow?: number): Promise<CampaignCounts> {
    const row = await this.machine.get(id);
    const c = tallySends(await this.store.sendCounts(id));
    if (isUnfinished(row)) {
      const remaining = remainingNow ?? (await this.remainingAudience(id));
      c.pending += remaining;
      c.total += remaining;
    }
    return c;
  }

  /** Contacts of the audience this campaign has not reached yet. */
  remainingAudience(id: string): Promise<number> {
    return this.store.remaining(id);
  }

  /** Stores where a transport shows this campaign's progress. */
  async setProgressRef(id: string, ref: string): Promise<void> {
    await this.store.update(id, { progressRef: ref });
  }

  /** Where a transport shows this campaign's progress, if it stored it. */
  async progressRef(id: string): Promise<string | null> {
    return (await this.machine.get(id)).progressRef;
  }
}
