import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { z } from 'zod';
import { DomainError } from '../../errors.js';
import { type Contact, toContact, zeroByStatus } from '../contacts/contact.js';
import { newBatchId } from '../keys.js';
import { decodeCursor, encodeCursor, newestFirstPage, pageLimit } from '../pagination.js';
import type { Actor, BatchSource, BatchStatus, ContactStatus, CoreDeps } from '../types.js';
import type { WebhookDelivery } from '../webhooks/webhook-outbox.js';
import {
  type Batch,
  type BatchEvent,
  type FinishedImport,
  toBatch,
  type UndoImportOutcome,
} from './batch.js';
import {
  type Activated,
  batchNotFound,
  byHand,
  byImport,
  importedData,
  importFinish,
  invalidDomainsEvent,
  refuseActivation,
} from './batch-events.js';
import type { ActivationChange, ActivationOrder, BatchStore } from './batch-store.js';
import type { ContactFilter } from './contact-filter.js';
import { exportBatchCsv } from './export.js';

export type { BatchEvent, UndoImportOutcome } from './batch.js';
export type ListBatchesQuery = { limit?: number; cursor?: string; status?: BatchStatus };
export type BatchContactsQuery = { limit?: number; cursor?: string } & ContactFilter;
const contactCursor = z.number().int();
const newestCursor = z.tuple([z.number(), z.string()]);

/** Contacts deleted per step of a discarded import (an event-loop turn between steps). */
const discardChunk = 5000;
/** Starting an import records the file's name, where it came from, who, and which process fills it. */
type ImportOrder = { name: string; origin: BatchSource; actor: Actor; importer: string };

/**
 * The batches and their lifecycle: import (start, finish, discard), activation (by hand, by
 * schedule, by import), deactivation, undo and deletion. The only writer of `batches` and
 * `batch_events`, through its BatchStore.
 */
export class BatchService {
  private readonly log;
  constructor(
    private readonly deps: CoreDeps,
    private readonly store: BatchStore,
  ) {
    this.log = deps.log.child({ module: 'batches' });
  }

  /** Lists batches newest first, with contact counts, by cursor. */
  async list(query: ListBatchesQuery = {}): Promise<{ batches: Batch[]; nextCursor: string | null }> {
    const limit = pageLimit(query.limit, 200);
    const olderThan = query.cursor ? decodeCursor(query.cursor, newestCursor) : undefined;
    const rows = await this.store.listNewestFirst({ status: query.status, olderThan, limit: limit + 1 });
    const { page, nextCursor } = newestFirstPage(rows, limit);
    return { batches: page.map(toBatch), nextCursor };
  }

  /** Returns one batch, or throws not_found. */
  async get(id: string): Promise<Batch> {
    const batch = await this.find(id);
    if (!batch) throw batchNotFound(id);
    return batch;
  }

  /** The batch, or null when there is none with this id (deleted by retention, say). */
  async find(id: string): Promise<Batch | null> {
    const row = await this.store.find(id);
    return row ? toBatch(row) : null;
  }

  /** The active batch, if any. */
  async getActive(): Promise<Batch | null> {
    const row = await this.store.findActive();
    return row ? toBatch(row) : null;
  }

  /** The newest finished batch other than `exceptId` that holds a file with this SHA-256. */
  findByFile(sha256: string, exceptId: string): Promise<{ id: string; name: string } | null> {
    return this.store.findByFile(sha256, exceptId);
  }

  /** A page of a batch's contacts, filtered by status and free text (e-mail, name, company, position). */
  async contacts(
    id: string,
    query: BatchContactsQuery = {},
  ): Promise<{ batch: Batch; contacts: Contact[]; nextCursor: string | null }> {
    const batch = await this.get(id);
    const limit = pageLimit(query.limit);
    const after = query.cursor ? decodeCursor(query.cursor, contactCursor) : undefined;
    const rows = await this.store.listContacts(id, { filter: query, after, limit: limit + 1 });
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return {
      batch,
      contacts: page.map(({ validation: _, ...row }) => toContact(row)),
      nextCursor: rows.length > limit && last ? encodeCursor(last.id) : null,
    };
  }

  /** Makes this batch the only active one (every other is deactivated) in one transaction. */
  async activate(id: string, actor: Actor, reason?: string): Promise<Batch> {
    const now = this.deps.clock.now();
    const done = await this.store.activate(
      this.order(id, byHand(id, actor, reason ?? null, now), reason ?? null),
    );
    refuseActivation(done, id);
    const previous = done.kind === 'activated' ? (done.previous ?? undefined) : undefined;
    this.log.info({ batchId: id, previous, actor }, 'batch activated');
    return this.get(id);
  }

  /**
   * A manual activation (by hand, by schedule, by undo) to hand to a store method that commits it
   * with its own change, with its `batch.activated` webhook; `reason` is the event's and the webhook's.
   */
  activationOrder(id: string, actor: Actor, reason: string | null, now: number): ActivationOrder {
    return this.order(id, byHand(id, actor, reason, now), reason);
  }

  /** Deactivates a batch; afterwards no batch may be active. */
  async deactivate(id: string, actor: Actor, reason?: string): Promise<Batch> {
    const now = this.deps.clock.now();
    const done = await this.store.deactivate(id, { actor, reason: reason ?? null, at: now });
    if (done === 'missing') throw batchNotFound(id);
    if (done === 'deactivated') this.log.info({ batchId: id, actor }, 'batch deactivated');
    return this.get(id);
  }

  /**
   * Undoes an import's activation, only while its batch is still the active one: the batch it
   * replaced is active again (none, if it replaced none). Otherwise nothing changes and the
   * outcome says which batch is active now, so an old Undo never switches away from a newer choice.
   * The batch to bring back is the one core recorded at the import, never the caller's word.
   */
  async undoImport(batchId: string, actor: Actor): Promise<UndoImportOutcome> {
    const previousId = (await this.find(batchId))?.replacedBatchId ?? null;
    const now = this.deps.clock.now();
    const done = await this.store.undoImport(batchId, {
      actor,
      reason: 'undo import',
      at: now,
      reactivate: previousId
        ? this.activationOrder(previousId, actor, `undo import ${batchId}`, now)
        : undefined,
    });
    if (done.kind === 'missing') throw batchNotFound(batchId);
    if (done.kind === 'undone' && done.reactivated && previousId)
      refuseActivation(done.reactivated, previousId);
    const batch = await this.get(batchId);
    const previous = previousId ? await this.find(previousId) : null;
    if (done.kind === 'not_active')
      return { kind: 'not_active', batch, active: await this.getActive(), previous };
    this.log.info({ batchId, previous: previousId, actor }, 'import undone');
    return { kind: 'undone', batch, previous };
  }

  /** Creates the `importing` batch an import fills; returns its id. */
  async startImport(start: ImportOrder): Promise<string> {
    const now = this.deps.clock.now();
    const id = newBatchId(now);
    const { origin, ...rest } = start;
    await this.store.startImport({ id, source: origin, at: now, ...rest });
    return id;
  }

  /**
   * Finishes an import in one transaction: the batch gets its report and `imported` event, and
   * unless told not to becomes the active one by the same activation as a manual one.
   */
  async finishImport(f: FinishedImport): Promise<{ batch: Batch; replaced: Batch | null }> {
    const now = this.deps.clock.now();
    const activation = f.activate ? this.order(f.id, byImport(f.id, f.actor, now), 'import') : undefined;
    const done = await this.store.finishImport(importFinish(f, now), {
      activate: activation?.change,
      webhooks: (activated) => [
        ...this.webhooks('batch.imported', importedData(f), now),
        ...(activation && activated?.kind === 'activated' ? activation.webhooks(activated) : []),
      ],
    });
    if (done) refuseActivation(done, f.id);
    const replaced = done?.kind === 'activated' ? done.previous : null;
    return { batch: await this.get(f.id), replaced: replaced ? await this.get(replaced) : null };
  }

  /** Removes an unfinished import's batch and its contacts in steps, so the event loop keeps running. */
  async discardImport(id: string): Promise<void> {
    while ((await this.deleteChunk(id, 'importing', discardChunk)) > 0) await yieldToLoop();
    await this.store.deleteBatch(id, 'importing');
  }

  /** Batches left `importing` (by a crash, when read at start). */
  listImporting(): Promise<{ id: string; importer: string | null }[]> {
    return this.store.listImporting();
  }

  /** `discardImport` without pauses, for the start-up sweep (nothing else runs yet). */
  async removeImporting(id: string): Promise<void> {
    while ((await this.deleteChunk(id, 'importing', discardChunk)) > 0);
    await this.store.deleteBatch(id, 'importing');
  }

  /**
   * Deletes an inactive batch and its contacts, in chunks of `chunk` contacts per transaction;
   * its events, schedules and retention proposal go with the batch. Suppressions and the ledger's
   * hashes stay (the ledger's contact_id becomes null).
   */
  async delete(
    batchId: string,
    opts: { chunk?: number } = {},
  ): Promise<{ batchId: string; name: string; contacts: number }> {
    const batch = await this.store.find(batchId);
    if (!batch)
      throw new DomainError('not_found', `No batch ${batchId}: it may be deleted already.`, { batchId });
    if (batch.status !== 'inactive')
      throw new DomainError(
        'conflict',
        `Batch ${batchId} is ${batch.status}: only an inactive batch can be deleted.`,
        { batchId },
      );
    let deleted = 0;
    for (let n = -1; n !== 0; deleted += n)
      n = await this.deleteChunk(batchId, 'inactive', opts.chunk ?? 1000);
    await this.store.deleteBatch(batchId, 'inactive');
    return { batchId, name: batch.name, contacts: deleted };
  }

  /** Lets campaigns reach (or skip) the batch's contacts whose domain takes no mail; null: no batch. */
  async setIncludeInvalidDomains(
    batchId: string,
    include: boolean,
    actor: Actor,
  ): Promise<{ before: boolean; batch: Batch } | null> {
    const event = invalidDomainsEvent(include, actor, this.deps.clock.now());
    const done = await this.store.setIncludeInvalidDomains(batchId, include, event);
    return done && { before: done.before, batch: toBatch(done.row) };
  }

  /** The batch's history: imports, activations, deactivations, oldest first. */
  async events(id: string): Promise<BatchEvent[]> {
    await this.get(id);
    return (await this.store.listEvents(id)).map((e) => ({
      kind: e.kind,
      actor: e.actor,
      reason: e.reason,
      at: new Date(e.at).toISOString(),
    }));
  }

  /** Counts of a batch's contacts by status. */
  async statusCounts(id: string): Promise<Record<ContactStatus, number>> {
    const counts = zeroByStatus();
    for (const r of await this.store.countContactsByStatus(id)) counts[r.status] = r.count;
    return counts;
  }

  /** The batch's contacts (those the filter keeps) as CSV text (formula-safe), streamed page by page. */
  async exportCsv(id: string, filter: ContactFilter = {}): Promise<AsyncIterable<string>> {
    await this.get(id);
    return exportBatchCsv(this.store, id, filter);
  }

  /** One activation (manual, scheduled, import's, undo's) with its `batch.activated` webhook. */
  private order(id: string, change: ActivationChange, webhookReason: string | null): ActivationOrder {
    return {
      id,
      change,
      webhooks: (done: Activated) =>
        this.webhooks(
          'batch.activated',
          { batchId: id, name: done.name, previousBatchId: done.previous, reason: webhookReason },
          change.at,
        ),
    };
  }

  /** An event's webhook rows (none without WEBHOOK_URLS). */
  private webhooks(
    type: 'batch.imported' | 'batch.activated',
    data: Record<string, unknown>,
    at: number,
  ): WebhookDelivery[] {
    return this.deps.webhooks?.deliveries(type, data, at) ?? [];
  }

  /** Deletes one chunk of the batch's contacts while it is in `status`; throws if it left it. */
  private async deleteChunk(id: string, status: BatchStatus, limit: number): Promise<number> {
    const done = await this.store.deleteContacts(id, status, limit);
    if (done.kind === 'deleted') return done.count;
    throw new DomainError('conflict', `Batch ${id} became ${done.status ?? 'deleted'} meanwhile.`);
  }
}
