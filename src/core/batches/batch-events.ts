import { DomainError } from '../../errors.js';
import type { Actor } from '../types.js';
import type { FinishedImport } from './batch.js';
import type { ActivationChange, ActivationResult, ImportFinish } from './batch-store.js';

/** The texts of the batch events the batch service writes, and the refusals activations share. */

export type { Activated } from './batch-store.js';

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

/** The refusal when there is nothing to activate (no such batch, or one still importing); else null. */
export function activationRefusal(done: ActivationResult, id: string): DomainError | null {
  if (done.kind === 'missing') return batchNotFound(id);
  if (done.kind === 'importing')
    return new DomainError(
      'conflict',
      `Batch ${id} is still importing; activate it once the import is done.`,
    );
  return null;
}

/** Throws when there is nothing to activate: no such batch, or one still importing. */
export function refuseActivation(done: ActivationResult, id: string): void {
  const refused = activationRefusal(done, id);
  if (refused) throw refused;
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

/** What a finished import writes on its batch, with its `imported` event. */
export const importFinish = (f: FinishedImport, at: number): ImportFinish => ({
  id: f.id,
  name: f.name,
  report: JSON.stringify(f.report),
  sha256: f.sha256,
  contactCount: f.report.imported,
  actor: f.actor,
  reason: `${f.report.imported} contacts from ${f.origin}`,
  at,
});

/** The `batch.imported` webhook's data. */
export const importedData = (f: FinishedImport) => ({
  batchId: f.id,
  name: f.name,
  origin: f.origin,
  rows: f.report.rows,
  imported: f.report.imported,
  activated: f.activate,
});
