import { DomainError } from '../../errors.js';
import type { Actor } from '../types.js';
import type { ActivationChange, ActivationResult } from './batch-store.js';

/** The texts of the batch events the batch service writes, and the refusals activations share. */

export type Activated = Extract<ActivationResult, { kind: 'activated' }>;

export const batchNotFound = (id: string) =>
  new DomainError('not_found', `No batch ${id}. List batches to see the ids.`, { batchId: id });

/** A manual (or scheduled, or undo's) activation's events. */
export const byHand = (id: string, actor: Actor, reason: string | null, at: number): ActivationChange => ({
  actor,
  at,
  reason,
  replacedReason: `replaced by ${id}`,
  keepReplaced: false,
});

/** An import's activation's events; the batch keeps the one it replaced (for Undo). */
export const byImport = (id: string, actor: Actor, at: number): ActivationChange => ({
  actor,
  at,
  reason: 'new import',
  replacedReason: `replaced by import ${id}`,
  keepReplaced: true,
});

/** Throws when there is nothing to activate: no such batch, or one still importing. */
export function refuseActivation(done: ActivationResult, id: string): void {
  if (done.kind === 'missing') throw batchNotFound(id);
  if (done.kind === 'importing')
    throw new DomainError('conflict', `Batch ${id} is still importing; activate it once the import is done.`);
}

/** The event of an admin's choice to mail (or not) the batch's contacts whose domain takes no mail. */
export const invalidDomainsEvent = (include: boolean, actor: Actor, at: number) => ({
  kind: include ? 'included_invalid_domains' : 'excluded_invalid_domains',
  actor,
  reason: include
    ? 'campaigns also reach contacts whose domain receives no mail'
    : 'campaigns skip contacts whose domain receives no mail',
  at,
});
