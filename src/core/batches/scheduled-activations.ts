import { DomainError } from '../../errors.js';
import { instantAt, isTimezone } from '../campaigns/schedule.js';
import type { OpsEvent } from '../events.js';
import { type Actor, type CoreDeps, type ScheduledActivationState, toIso } from '../types.js';
import { activationRefusal } from './batch-events.js';
import type { BatchService } from './batch-service.js';
import type { ScheduledActivationRow, ScheduledActivationStore } from './scheduled-activation-store.js';

export type ScheduledActivation = {
  id: number;
  batchId: string;
  batchName: string;
  at: string;
  state: ScheduledActivationState;
  createdBy: string;
  createdAt: string;
  doneAt: string | null;
  doneBy: string | null;
  note: string | null;
};

/** What the scheduler did with one due activation, for the transports to announce. */
export type ActivationOutcome = { schedule: ScheduledActivation; applied: boolean; replaced: string | null };

/** How far ahead an activation may be scheduled. */
const maxAheadMs = 366 * 24 * 3_600_000;

const timeHelp =
  'Write the time as "2026-12-01 09:00" (UTC, or add a timezone: "2026-12-01 09:00 America/Sao_Paulo"), ' +
  'an ISO time with offset ("2026-12-01T09:00-03:00"), or "in 2h" / "in 30m" / "in 1d".';

/**
 * When `/batches activate <id> at …` means: "in 2h", an ISO instant with offset, or a local
 * "YYYY-MM-DD HH:MM" with an optional IANA timezone (default UTC). Throws invalid_input.
 */
export function parseActivationTime(text: string, now: number): number {
  const t = text.trim();
  const relative = /^in\s+(\d{1,4})\s*(m|min|minutes?|h|hours?|d|days?)$/i.exec(t);
  if (relative) {
    const unit = relative[2]!.toLowerCase()[0];
    const n = Number(relative[1]);
    return now + n * (unit === 'm' ? 60_000 : unit === 'h' ? 3_600_000 : 86_400_000);
  }
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/i.test(t)) {
    const ms = Date.parse(t);
    if (!Number.isNaN(ms)) return ms;
  }
  const local = /^(\d{4}-\d{2}-\d{2})[ T](\d{1,2}:\d{2})(?:\s+(\S+))?$/.exec(t);
  if (local) {
    const timezone = local[3] ?? 'UTC';
    if (!isTimezone(timezone))
      throw new DomainError('invalid_input', `Unknown timezone "${timezone}". ${timeHelp}`);
    const [y, mo, d] = local[1]!.split('-').map(Number);
    const [hh, mm] = local[2]!.split(':').map(Number);
    const real = new Date(Date.UTC(y!, mo! - 1, d!));
    if (real.getUTCDate() !== d || real.getUTCMonth() !== mo! - 1 || hh! > 23 || mm! > 59)
      throw new DomainError('invalid_input', `"${t}" is not a real date and time. ${timeHelp}`);
    return instantAt(timezone, local[1]!, local[2]!);
  }
  throw new DomainError('invalid_input', `Could not read "${t.slice(0, 80)}" as a time. ${timeHelp}`);
}

/**
 * Batch activations set for later: stored in the database (they survive restarts), at most one
 * pending per batch (a new one replaces it), applied by the scheduler's tick within a minute of
 * their time, in time order; listed and cancellable.
 */
export class ScheduledActivations {
  private readonly log;
  constructor(
    private readonly deps: Pick<CoreDeps, 'log' | 'clock'>,
    private readonly store: ScheduledActivationStore,
    private readonly batches: Pick<BatchService, 'get' | 'activationOrder'>,
    private readonly notify: (e: OpsEvent) => void = () => {},
  ) {
    this.log = deps.log.child({ module: 'scheduled-activations' });
  }

  /** Schedules (or reschedules) the activation of a batch at `atMs`. */
  async schedule(batchId: string, atMs: number, actor: Actor): Promise<ScheduledActivation> {
    const now = this.deps.clock.now();
    if (atMs <= now)
      throw new DomainError(
        'invalid_input',
        `That time (${new Date(atMs).toISOString()}) has passed: pick a time in the future, or activate now.`,
      );
    if (atMs - now > maxAheadMs)
      throw new DomainError('invalid_input', 'An activation can be scheduled at most a year ahead.');
    const batch = await this.batches.get(batchId);
    if (batch.status === 'importing')
      throw new DomainError(
        'conflict',
        `Batch ${batchId} is still importing; schedule it once the import is done.`,
      );
    const id = await this.store.schedule({
      batchId,
      at: atMs,
      actor,
      createdAt: now,
      replaced: { at: now, actor, note: 'replaced by a new schedule' },
    });
    this.log.info(
      { batchId, at: new Date(atMs).toISOString(), actor, scheduleId: id },
      'batch activation scheduled',
    );
    return this.get(id);
  }

  /** Schedules from what a person wrote: "2026-12-01 09:00 Europe/Lisbon", "in 2h", an ISO time. */
  scheduleFromText(batchId: string, when: string, actor: Actor): Promise<ScheduledActivation> {
    return this.schedule(batchId, parseActivationTime(when, this.deps.clock.now()), actor);
  }

  /** Cancels the pending activation of a batch. */
  async cancel(batchId: string, actor: Actor): Promise<ScheduledActivation> {
    const pending = await this.pendingFor(batchId);
    if (!pending)
      throw new DomainError('not_found', `Batch ${batchId} has no scheduled activation to cancel.`, {
        batchId,
      });
    const now = this.deps.clock.now();
    const cancelled = await this.store.cancel(pending.id, { at: now, actor, note: `cancelled by ${actor}` });
    if (!cancelled) throw new DomainError('conflict', 'That activation was applied or cancelled meanwhile.');
    this.log.info({ batchId, scheduleId: pending.id, actor }, 'scheduled batch activation cancelled');
    return this.get(pending.id);
  }

  /** The pending activation of a batch, if any. */
  async pendingFor(batchId: string): Promise<ScheduledActivation | null> {
    const row = await this.store.findPending(batchId);
    return row ? toView(row) : null;
  }

  /** Pending activations, soonest first. */
  async listPending(limit = 100): Promise<ScheduledActivation[]> {
    return (await this.store.listPending(limit)).map(toView);
  }

  /** One scheduled activation, or throws not_found. */
  async get(id: number): Promise<ScheduledActivation> {
    const row = await this.store.find(id);
    if (!row) throw new DomainError('not_found', `No scheduled activation ${id}.`);
    return toView(row);
  }

  /**
   * Applies every pending activation whose time has come, oldest first, each in one transaction
   * with its activation (a crash leaves it either pending or applied with the batch active). One
   * that cannot apply (the batch is importing) is marked failed with the reason.
   */
  async applyDue(): Promise<ActivationOutcome[]> {
    const now = this.deps.clock.now();
    const outcomes: ActivationOutcome[] = [];
    for (const row of await this.store.listDue(now)) {
      const actor = `schedule:${row.createdBy}`;
      const order = this.batches.activationOrder(row.batchId, actor, `scheduled by ${row.createdBy}`, now);
      const done = await this.store.apply(row.id, order, { at: now, doneBy: 'scheduler' });
      const failure = activationRefusal(done, row.batchId)?.message ?? null;
      if (failure) await this.store.fail(row.id, { at: now, actor: 'scheduler', note: failure });
      const replaced = done.kind === 'activated' ? done.previous : null;
      const schedule = await this.get(row.id);
      if (failure)
        this.log.warn(
          { batchId: row.batchId, scheduleId: row.id, reason: failure },
          'scheduled activation failed',
        );
      else
        this.log.info({ batchId: row.batchId, scheduleId: row.id, replaced }, 'scheduled activation applied');
      const outcome = { schedule, applied: failure === null, replaced };
      this.notify({ type: 'scheduled_activation', outcome });
      outcomes.push(outcome);
    }
    return outcomes;
  }
}

function toView(row: ScheduledActivationRow): ScheduledActivation {
  return {
    id: row.id,
    batchId: row.batchId,
    batchName: row.batchName ?? row.batchId,
    at: toIso(row.at)!,
    state: row.state,
    createdBy: row.createdBy,
    createdAt: toIso(row.createdAt)!,
    doneAt: toIso(row.doneAt),
    doneBy: row.doneBy,
    note: row.note,
  };
}
