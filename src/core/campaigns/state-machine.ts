import type { Clock } from '../../clock.js';
import { DomainError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import { tallySends } from '../sending/send-tally.js';
import type { Actor, CampaignEventKind, CampaignStatus, SendStatus } from '../types.js';
import { campaignCompletedData, type WebhookOutbox } from '../webhooks/webhook-outbox.js';
import type {
  CampaignHistoryEntry,
  CampaignPatch,
  CampaignRecord,
  CampaignStore,
  NewCampaign,
  RequeueResult,
} from './campaign-store.js';
import { type DoctorHold, type HeldCheck, heldDetail, heldPatch, parseHeldChecks } from './held.js';

/**
 * The one campaign state machine: the only code that changes a campaign's status (and the
 * status reason that explains it). CampaignService moves it for people (pause, resume, cancel…);
 * the send engine asks it to start, hold, pause and finish runs. Every move is conditional on
 * the status it expects, so a pause or cancel always wins a race: a move that lost returns false.
 * Every status change writes a line of the campaign's history in the same transaction.
 */
export class CampaignStateMachine {
  constructor(
    private readonly store: CampaignStore,
    private readonly deps: {
      clock: Clock;
      log: Logger;
      webhooks?: WebhookOutbox | undefined;
      /** The domain doctor's hold on a campaign's first start (absent: never held). */
      hold?: DoctorHold | undefined;
    },
  ) {}

  /** A history line at the clock's now. */
  private event(kind: CampaignEventKind, actor: Actor, detail: string | null = null): CampaignHistoryEntry {
    return { at: this.deps.clock.now(), actor, kind, detail };
  }

  /** Saves a new campaign (`created` in its history); with failing checks it is saved `held` instead of scheduled. */
  async create(c: NewCampaign, held: readonly HeldCheck[]): Promise<void> {
    const row = held.length > 0 && c.status === 'scheduled' ? { ...c, ...heldPatch(held) } : c;
    const events = [this.event('created', c.createdBy, c.status === 'draft' ? 'draft' : planDetail(c))];
    if (row.status === 'held') events.push(this.event('held', c.createdBy, heldDetail(held)));
    await this.store.insert(row, events);
  }

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
    const kind = to === 'paused' || to === 'cancelled' ? to : 'resumed';
    if (!(await this.store.update(id, patch, { status: from }, this.event(kind, actor, reason)))) {
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
  reopen(id: string, statuses: readonly SendStatus[], now: number, actor: Actor): Promise<RequeueResult> {
    const patch = { status: 'sending' as const, statusReason: null, runStartedAt: now, updatedAt: now };
    const detail = `sending again to its ${statuses.join(' and ')} recipients`;
    return this.store.requeue(id, statuses, now, patch, this.event('started', actor, detail));
  }

  /** Changes a campaign in `from` without moving its status (approval, confirmation: `event` records it). */
  amend(
    id: string,
    patch: Omit<CampaignPatch, 'status'>,
    from?: CampaignStatus[],
    unapproved?: boolean,
    event?: { kind: CampaignEventKind; actor: Actor; detail?: string },
  ): Promise<boolean> {
    const guard = { ...(from ? { status: from } : {}), ...(unapproved ? { unapproved } : {}) };
    return this.store.update(id, patch, guard, event && this.event(event.kind, event.actor, event.detail));
  }

  /** Draft, scheduled or paused → scheduled with a new plan; → held instead while `held` checks fail. */
  async schedule(id: string, patch: CampaignPatch, actor: Actor, held: readonly HeldCheck[]): Promise<void> {
    if (held.length > 0) {
      await this.store.update(
        id,
        { ...patch, ...heldPatch(held) },
        {},
        this.event('held', actor, heldDetail(held)),
      );
      this.deps.log.warn(
        { campaignId: id, checks: held.map((c) => c.name) },
        'campaign held: a deliverability check fails',
      );
      return;
    }
    await this.store.update(
      id,
      { ...patch, status: 'scheduled' },
      {},
      this.event('scheduled', actor, planDetail(patch)),
    );
  }

  /**
   * held → scheduled: an admin sends anyway over the failing checks (`sent_anyway` with who and the
   * checks). The checks stay on the campaign: its first start does not hold it again. A one-off time
   * that passed meanwhile means now.
   */
  release(c: CampaignRecord, actor: Actor): Promise<boolean> {
    const now = this.deps.clock.now();
    const late = c.nextRunAt === null || c.nextRunAt < now;
    const patch = {
      status: 'scheduled' as const,
      heldReason: null,
      statusReason: null,
      awaitingConfirmation: false,
      updatedAt: now,
      ...(late ? { nextRunAt: now } : {}),
    };
    const detail = `sent anyway over: ${heldDetail(parseHeldChecks(c.heldChecks) ?? [])}`;
    return this.store.update(c.id, patch, { status: ['held'] }, this.event('sent_anyway', actor, detail));
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

  /**
   * scheduled → sending: a run starts. A first start (never released by an admin) asks the domain
   * doctor first: a failing check holds the campaign (scheduled → held) and nothing starts.
   */
  async startRun(c: CampaignRecord, now: number): Promise<boolean> {
    const hold = this.deps.hold;
    if (hold && c.startedAt === null && c.heldChecks === null) {
      const failing = await hold.failing();
      if (failing.length > 0) {
        const patch = { ...heldPatch(failing), updatedAt: this.deps.clock.now() };
        const held = this.event('held', 'system', heldDetail(failing));
        if (await this.store.update(c.id, patch, { status: ['scheduled'] }, held)) {
          this.deps.log.warn(
            { campaignId: c.id, checks: failing.map((x) => x.name) },
            'campaign held: a deliverability check fails',
          );
          hold.notify(c.id);
        }
        return false;
      }
    }
    const patch = {
      status: 'sending' as const,
      runCount: c.runCount + 1,
      runStartedAt: now,
      startedAt: c.startedAt ?? now,
      statusReason: null,
    };
    return this.move(c.id, 'scheduled', patch, this.event('started', 'system', `run ${c.runCount + 1}`));
  }

  /** sending → paused, saying why (the auto-pause on bounce rate). */
  pause(id: string, reason: string): Promise<boolean> {
    return this.move(
      id,
      'sending',
      { status: 'paused', statusReason: reason },
      this.event('paused', 'system', reason),
    );
  }

  /** sending → scheduled: a drip's run is done and the next one waits for `next`. */
  finishDripRun(id: string, next: number): Promise<boolean> {
    const detail = `run done; next run ${new Date(next).toISOString()}`;
    const patch = { status: 'scheduled' as const, runStartedAt: null, nextRunAt: next };
    return this.move(id, 'sending', patch, this.event('scheduled', 'system', detail));
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
      this.event('completed', 'system'),
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
  private move(
    id: string,
    from: CampaignStatus,
    patch: CampaignPatch,
    event?: CampaignHistoryEntry,
  ): Promise<boolean> {
    return this.store.update(id, { ...patch, updatedAt: this.deps.clock.now() }, { status: [from] }, event);
  }
}

/** The plan in a history line: "send at 2026-…", or "cron 0 9 * * 1-5 (UTC), next run 2026-…". */
function planDetail(p: Pick<CampaignPatch, 'sendAt' | 'cron' | 'timezone' | 'nextRunAt'>): string | null {
  const iso = (ms: number | null | undefined) => (ms == null ? null : new Date(ms).toISOString());
  if (p.cron) return `cron ${p.cron} (${p.timezone ?? 'UTC'}), next run ${iso(p.nextRunAt) ?? 'unknown'}`;
  const at = iso(p.sendAt ?? p.nextRunAt);
  return at ? `send at ${at}` : null;
}
