import type { ScheduledActivationState } from '../vocabulary.js';
import type { ActivationOrder, ActivationResult } from './batch-store.js';

/** A scheduled activation as stored, with its batch's name (null once the batch is gone). */
export type ScheduledActivationRow = {
  id: number;
  batchId: string;
  batchName: string | null;
  at: number;
  state: ScheduledActivationState;
  createdBy: string;
  createdAt: number;
  doneAt: number | null;
  doneBy: string | null;
  note: string | null;
};

/** Who closes a pending activation, when, and why. */
export type ScheduleClose = { at: number; actor: string; note: string | null };

/**
 * The activations set for later (`scheduled_activations`): the only code that writes them. Each
 * method is one atomic unit of work owning its transaction.
 */
export interface ScheduledActivationStore {
  /**
   * Cancels the batch's pending activation (if any, with `replaced`) and adds a pending one at
   * `at`, in one transaction; returns the new one's id.
   */
  schedule(s: {
    batchId: string;
    at: number;
    actor: string;
    createdAt: number;
    replaced: ScheduleClose;
  }): Promise<number>;
  /** Cancels the activation if it is still pending; false when it was applied or cancelled meanwhile. */
  cancel(id: number, close: ScheduleClose): Promise<boolean>;
  /** One activation, or null. */
  find(id: number): Promise<ScheduledActivationRow | null>;
  /** The batch's pending activation, if any. */
  findPending(batchId: string): Promise<ScheduledActivationRow | null>;
  /** Pending activations, soonest first (`at`, id). */
  listPending(limit: number): Promise<ScheduledActivationRow[]>;
  /** Pending activations due at `now`, oldest first. */
  listDue(now: number): Promise<ScheduledActivationRow[]>;
  /**
   * Applies a due activation in one transaction: the batch's activation (with its webhook rows)
   * and the row marked `applied` by `doneBy` at `at`. When the batch cannot be activated (missing,
   * importing) nothing is written and the result says why.
   */
  apply(
    id: number,
    activation: ActivationOrder,
    done: { at: number; doneBy: string },
  ): Promise<ActivationResult>;
  /** Marks a pending activation `failed` with the reason. */
  fail(id: number, close: ScheduleClose): Promise<void>;
}
