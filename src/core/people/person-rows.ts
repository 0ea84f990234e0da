import type { ContactStatus } from '../types.js';

import {
  isKnown,
  type PersonBatch,
  type PersonBatchEvent,
  type PersonCampaign,
  type PersonContact,
  type PersonHistoryRow,
  type PersonRows,
  type PersonSuppression,
  type SendRow,
} from './people-store.js';

export type {
  PersonBatch,
  PersonBatchEvent,
  PersonCampaign,
  PersonContact,
  PersonHistoryRow,
  PersonRows,
  PersonSuppression,
  SendRow,
};
export { isKnown };

/** Whether the batch was the active one at `at`, from its activations and deactivations. */
export function wasActiveAt(batch: PersonBatch, events: PersonRows['batchEvents'], at: number): boolean {
  const toggles = events.filter((e) => e.kind === 'activated' || e.kind === 'deactivated');
  if (toggles.length === 0) {
    // No events (an old database): the batch's own dates.
    if (batch.activatedAt == null || batch.activatedAt > at) return false;
    return batch.deactivatedAt == null || batch.deactivatedAt > at || batch.deactivatedAt < batch.activatedAt;
  }
  const last = toggles.filter((e) => e.at <= at).at(-1);
  return last?.kind === 'activated';
}

/** The contact's status at `at` from its history, and the change that set it (null: never changed). */
export function statusAt(
  current: ContactStatus,
  history: PersonRows['history'],
  at: number,
): { status: string; by: { actor: string; at: number } | null } {
  const before = history.filter((h) => h.at <= at).at(-1);
  if (before) return { status: before.toStatus, by: { actor: before.actor, at: before.at } };
  const after = history[0];
  if (after?.fromStatus) return { status: after.fromStatus, by: null };
  return { status: current, by: null };
}
