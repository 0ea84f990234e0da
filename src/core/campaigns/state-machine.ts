import type { Clock } from '../../clock.js';
import { DomainError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import { tallySends } from '../sending/send-tally.js';
import type { Actor, CampaignStatus, SendStatus } from '../types.js';
import { campaignCompletedData, type WebhookOutbox } from '../webhooks/webhook-outbox.js';
import type { CampaignPatch, CampaignRecord, CampaignStore, RequeueResult } from './campaign-store.js';

/**
 * The one campaign state machine: the only code that changes a campaign's status (and the
 * status reason that explains it). CampaignService moves it for people (pause, resume, cancel…);
 * the send engine asks it to start, hold, pause and finish runs. Every move is conditional on
 * the status it expects, so a pause or cancel always wins a race: a move that lost returns false.
 */
export class CampaignStateMachine {
  constructor(
    private readonly store: CampaignStore,
    private readonly deps: { clock: Clock; log: Logger; webhooks?: WebhookOutbox | undefined },
  ) {}

  /** The campaign, or throws not_found. */
  async get(id: string): Promise<CampaignRecord> {
    const row = await this.store.find(id);
    if (!row)
      throw new DomainError('not_found', `No campaign ${id}. /campaigns list shows the ids.`, {
        campaignId: id,
      });
    return row;
  }

  /** The campaign, or null (the engine's reads). */
  find(id: string): Promise<CampaignRecord | null> {
    return this.store.find(id);
  }

  /** Its status alone: read before every message. */
  statusOf(id: string): Promise<CampaignStatus | null> {
    return this.store.statusOf(id);
  }

  /** Campaigns with a run under way. */
  sending(): Promise<CampaignRecord[]> {
    return this.store.listByStatus('sending');
  }

  /** Scheduled campaigns whose run may start now. */
  due(now: number): Promise<CampaignRecord[]> {
    return this.store.listDue(now);
  }

  /** A person's move from one of `from` to `to`; the same status again is a no-op, any other a conflict. */
  async transition(
    id: string,
    from: CampaignStatus[],
    to: CampaignStatus,
    actor: Actor,
    reason: string | null,
  ): Promise<void> {
    const now = this.deps.clock.now();
    const done = to === 'cancelled' ? { completedAt: now } : {};
    const patch = { status: to, statusReason: reason, updatedAt: now, ...done };
    if (!(await this.store.update(id, patch, { status: from }))) {
      const row = await this.get(id);
      if (row.status === to) return;
      throw new DomainError('conflict', `Campaign ${id} is ${row.status}; it cannot become ${to}.`);
    }
    this.deps.log.info({ campaignId: id, actor, to }, 'campaign status changed');
  }

  /**
   * completed → sending again: its `statuses` rows whose contact is still in the audience are
   * re-queued in the same transaction. completedAt stays set: the engine takes only those rows.
   */
  reopen(id: string, statuses: readonly SendStatus[], now: number): Promise<RequeueResult> {
    const patch = { status: 'sending' as const, statusReason: null, runStartedAt: now, updatedAt: now };
    return this.store.requeue(id, statuses, now, patch);
  }

  /** Changes a campaign in `from` without moving its status (schedule, approval, confirmation). */
  amend(
    id: string,
    patch: Omit<CampaignPatch, 'status'>,
    from?: CampaignStatus[],
    unapproved?: boolean,
  ): Promise<boolean> {
    return this.store.update(id, patch, {
      ...(from ? { status: from } : {}),
      ...(unapproved ? { unapproved } : {}),
    });
  }

  /** Draft, scheduled or paused → scheduled with a new plan. */
  async schedule(id: string, patch: CampaignPatch): Promise<void> {
    await this.store.update(id, { ...patch, status: 'scheduled' });
  }

  /** A run that was missed, or found nobody to send to, waits (scheduled) for a person to confirm. */
  holdForConfirmation(id: string, reason: string): Promise<boolean> {
    return this.move(id, 'scheduled', { awaitingConfirmation: true, statusReason: reason });
  }

  /** A run over APPROVAL_THRESHOLD waits (scheduled) for a second admin's new approval. */
  holdForApproval(id: string, reason: string, now: number): Promise<boolean> {
    const patch = { approvalRequiredAt: now, approvedBy: null, approvedAt: null, statusReason: reason };
    return this.move(id, 'scheduled', patch);
  }

  /** scheduled → sending: a run starts. */
  startRun(c: CampaignRecord, now: number): Promise<boolean> {
    const patch = {
      status: 'sending' as const,
      runCount: c.runCount + 1,
      runStartedAt: now,
      startedAt: c.startedAt ?? now,
      statusReason: null,
    };
    return this.move(c.id, 'scheduled', patch);
  }

  /** sending → paused, saying why (the auto-pause on bounce rate). */
  pause(id: string, reason: string): Promise<boolean> {
    return this.move(id, 'sending', { status: 'paused', statusReason: reason });
  }

  /** sending → scheduled: a drip's run is done and the next one waits for `next`. */
  finishDripRun(id: string, next: number): Promise<boolean> {
    return this.move(id, 'sending', { status: 'scheduled', runStartedAt: null, nextRunAt: next });
  }

  /** sending → completed; the campaign.completed webhook (with the final figures) commits with it (outbox). */
  complete(c: CampaignRecord, now: number): Promise<boolean> {
    const patch = {
      status: 'completed' as const,
      runStartedAt: null,
      completedAt: now,
      nextRunAt: null,
      updatedAt: this.deps.clock.now(),
    };
    const webhooks = this.deps.webhooks;
    return this.store.complete(
      c.id,
      patch,
      webhooks &&
        ((counts) =>
          webhooks.deliveries('campaign.completed', campaignCompletedData(c, tallySends(counts), now), now)),
    );
  }

  /** Puts a notice on a sending campaign that has none (the mail server cannot be reached). */
  tellNotice(id: string, text: string): Promise<boolean> {
    return this.store.setNotice(id, text, this.deps.clock.now());
  }

  /** Takes the notice that starts with `prefix` away again. */
  clearNotice(id: string, prefix: string): Promise<boolean> {
    return this.store.clearNotice(id, prefix, this.deps.clock.now());
  }

  /** Conditional update: applies only if the campaign is still in `from` (a pause always wins). */
  private move(id: string, from: CampaignStatus, patch: CampaignPatch): Promise<boolean> {
    return this.store.update(id, { ...patch, updatedAt: this.deps.clock.now() }, { status: [from] });
  }
}
