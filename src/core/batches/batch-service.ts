import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { and, asc, eq, gt } from 'drizzle-orm';
import { z } from 'zod';
import { contacts } from '../../db/schema.js';
import { SqliteBatchStore } from '../../db/sqlite/batch-store.js';
import { DomainError } from '../../errors.js';
import { type Contact, contactColumns, toContact } from '../contacts/contact.js';
import { newBatchId } from '../keys.js';
import { decodeCursor, encodeCursor, newestFirstPage, pageLimit } from '../pagination.js';
import type { Actor, BatchSource, BatchStatus, ContactStatus, CoreDeps } from '../types.js';
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
  invalidDomainsEvent,
  refuseActivation,
} from './batch-events.js';
import type { ActivationChange, BatchStore, Tx } from './batch-store.js';
import { type ContactFilter, filterConditions } from './contact-filter.js';
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
    private readonly store: BatchStore = new SqliteBatchStore(deps.db),
  ) {
    this.log = deps.log.child({ module: 'batches' });
  }

  /** Lists batches newest first, with contact counts, by cursor. */
  list(query: ListBatchesQuery = {}): { batches: Batch[]; nextCursor: string | null } {
    const limit = pageLimit(query.limit, 200);
    const olderThan = query.cursor ? decodeCursor(query.cursor, newestCursor) : undefined;
    const rows = this.store.listNewestFirst({ status: query.status, olderThan, limit: limit + 1 });
    const { page, nextCursor } = newestFirstPage(rows, limit);
    return { batches: page.map(toBatch), nextCursor };
  }

  /** Returns one batch, or throws not_found. */
  get(id: string): Batch {
    const row = this.store.find(id);
    if (!row) throw batchNotFound(id);
    return toBatch(row);
  }

  /** The active batch, if any. */
  getActive(): Batch | null {
    const row = this.store.findActive();
    return row ? toBatch(row) : null;
  }

  /** The newest finished batch other than `exceptId` that holds a file with this SHA-256. */
  findByFile(sha256: string, exceptId: string): { id: string; name: string } | null {
    return this.store.findByFile(sha256, exceptId);
  }

  /** A page of a batch's contacts, filtered by status and free text (e-mail, name, company, position). */
  contacts(
    id: string,
    query: BatchContactsQuery = {},
  ): { batch: Batch; contacts: Contact[]; nextCursor: string | null } {
    const batch = this.get(id);
    const limit = pageLimit(query.limit);
    const conds = [eq(contacts.batchId, id), ...filterConditions(query)];
    if (query.cursor) conds.push(gt(contacts.id, decodeCursor(query.cursor, contactCursor)));
    const rows = this.deps.db
      .select(contactColumns)
      .from(contacts)
      .where(and(...conds))
      .orderBy(asc(contacts.id))
      .limit(limit + 1)
      .all();
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return {
      batch,
      contacts: page.map(toContact),
      nextCursor: rows.length > limit && last ? encodeCursor(last.id) : null,
    };
  }

  /** Makes this batch the only active one (every other is deactivated) in one transaction. */
  activate(id: string, actor: Actor, reason?: string): Batch {
    const now = this.deps.clock.now();
    const change = byHand(id, actor, reason ?? null, now);
    const done = this.store.activate(id, change, (tx, d) => this.announce(tx, id, d, change.reason, now));
    refuseActivation(done, id);
    const previous = done.kind === 'activated' ? (done.previous ?? undefined) : undefined;
    this.log.info({ batchId: id, previous, actor }, 'batch activated');
    return this.get(id);
  }

  /**
   * The activation itself, inside the caller's transaction (a scheduled activation marks its
   * schedule applied in the same one). Returns the batch it replaced, if any.
   */
  activateWithin(tx: Tx, id: string, actor: Actor, reason: string | null, now: number): string | undefined {
    return this.activation(tx, id, byHand(id, actor, reason, now), reason);
  }

  /** Deactivates a batch; afterwards no batch may be active. */
  deactivate(id: string, actor: Actor, reason?: string): Batch {
    const now = this.deps.clock.now();
    const done = this.store.deactivate(id, { actor, reason: reason ?? null, at: now });
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
  undoImport(batchId: string, actor: Actor): UndoImportOutcome {
    const previousId = this.find(batchId)?.replacedBatchId ?? null;
    const now = this.deps.clock.now();
    const done = this.store.undoImport(batchId, {
      actor,
      reason: 'undo import',
      at: now,
      reactivate: previousId
        ? (tx) => this.activateWithin(tx, previousId, actor, `undo import ${batchId}`, now)
        : undefined,
    });
    if (done === 'missing') throw batchNotFound(batchId);
    const batch = this.get(batchId);
    const previous = previousId ? this.find(previousId) : null;
    if (done === 'not_active') return { kind: 'not_active', batch, active: this.getActive(), previous };
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
    let replaced: string | undefined;
    const finish = {
      id: f.id,
      name: f.name,
      report: JSON.stringify(f.report),
      sha256: f.sha256,
      contactCount: f.report.imported,
      actor: f.actor,
      reason: `${f.report.imported} contacts from ${f.origin}`,
      at: now,
    };
    await this.store.finishImport(finish, (tx) => {
      const { rows, imported } = f.report;
      const data = { batchId: f.id, name: f.name, origin: f.origin, rows, imported, activated: f.activate };
      this.deps.webhooks?.record(tx, 'batch.imported', data, now);
      if (f.activate) replaced = this.activation(tx, f.id, byImport(f.id, f.actor, now), 'import');
    });
    return { batch: this.get(f.id), replaced: replaced ? this.get(replaced) : null };
  }

  /** Removes an unfinished import's batch and its contacts in steps, so the event loop keeps running. */
  async discardImport(id: string): Promise<void> {
    while (this.deleteChunk(id, 'importing', discardChunk) > 0) await yieldToLoop();
    this.store.deleteBatch(id, 'importing');
  }

  /** Batches left `importing` (by a crash, when read at start). */
  listImporting(): { id: string; importer: string | null }[] {
    return this.store.listImporting();
  }

  /** `discardImport` without pauses, for the start-up sweep (nothing else runs yet). */
  removeImporting(id: string): void {
    while (this.deleteChunk(id, 'importing', discardChunk) > 0);
    this.store.deleteBatch(id, 'importing');
  }

  /**
   * Deletes an inactive batch and its contacts, in chunks of `chunk` contacts per transaction;
   * `within(tx)` runs in the transaction that removes the batch. Suppressions and the ledger's
   * hashes stay (the ledger's contact_id becomes null).
   */
  delete(
    batchId: string,
    opts: { chunk?: number; within?: (tx: Tx) => void } = {},
  ): { batchId: string; name: string; contacts: number } {
    const batch = this.store.find(batchId);
    if (!batch)
      throw new DomainError('not_found', `No batch ${batchId}: it may be deleted already.`, { batchId });
    if (batch.status !== 'inactive')
      throw new DomainError(
        'conflict',
        `Batch ${batchId} is ${batch.status}: only an inactive batch can be deleted.`,
        { batchId },
      );
    let deleted = 0;
    for (let n = -1; n !== 0; deleted += n) n = this.deleteChunk(batchId, 'inactive', opts.chunk ?? 1000);
    this.store.deleteBatch(batchId, 'inactive', opts.within);
    return { batchId, name: batch.name, contacts: deleted };
  }

  /** Lets campaigns reach (or skip) the batch's contacts whose domain takes no mail; null: no batch. */
  setIncludeInvalidDomains(
    batchId: string,
    include: boolean,
    actor: Actor,
  ): { before: boolean; batch: Batch } | null {
    const event = invalidDomainsEvent(include, actor, this.deps.clock.now());
    const done = this.store.setIncludeInvalidDomains(batchId, include, event);
    return done && { before: done.before, batch: toBatch(done.row) };
  }

  /** Erases a forgotten person's address from batch events and import reports (caller's transaction). */
  eraseAddressWithin(tx: Tx, address: string, replacement: string): { events: number; reports: number } {
    return this.store.eraseTextWithin(tx, address, replacement);
  }

  /** The batch, or null when there is none with this id (deleted by retention, say). */
  private find(id: string): Batch | null {
    const row = this.store.find(id);
    return row ? toBatch(row) : null;
  }

  /** The batch's history: imports, activations, deactivations, oldest first. */
  events(id: string): BatchEvent[] {
    this.get(id);
    return this.store
      .listEvents(id)
      .map((e) => ({ kind: e.kind, actor: e.actor, reason: e.reason, at: new Date(e.at).toISOString() }));
  }

  /** Counts of a batch's contacts by status. */
  statusCounts(id: string): Record<ContactStatus, number> {
    const counts: Record<ContactStatus, number> = { active: 0, inactive: 0, bounced: 0, unsubscribed: 0 };
    for (const r of this.store.countContactsByStatus(id)) counts[r.status] = r.count;
    return counts;
  }

  /** The batch's contacts (those the filter keeps) as CSV text (formula-safe), streamed page by page. */
  exportCsv(id: string, filter: ContactFilter = {}): AsyncIterable<string> {
    this.get(id);
    return exportBatchCsv(this.deps, id, filter);
  }

  /** One activation (manual, scheduled, import's, undo's) in the caller's transaction, with its webhook. */
  private activation(tx: Tx, id: string, change: ActivationChange, webhookReason: string | null) {
    const done = this.store.activateWithin(tx, id, change);
    refuseActivation(done, id);
    if (done.kind !== 'activated') return undefined;
    this.announce(tx, id, done, webhookReason, change.at);
    return done.previous ?? undefined;
  }

  /** The `batch.activated` webhook, in the activation's transaction. */
  private announce(tx: Tx, id: string, done: Activated, reason: string | null, at: number): void {
    const data = { batchId: id, name: done.name, previousBatchId: done.previous, reason };
    this.deps.webhooks?.record(tx, 'batch.activated', data, at);
  }

  /** Deletes one chunk of the batch's contacts while it is in `status`; throws if it left it. */
  private deleteChunk(id: string, status: BatchStatus, limit: number): number {
    const done = this.store.deleteContacts(id, status, limit);
    if (done.kind === 'deleted') return done.count;
    throw new DomainError('conflict', `Batch ${id} became ${done.status ?? 'deleted'} meanwhile.`);
  }
}
