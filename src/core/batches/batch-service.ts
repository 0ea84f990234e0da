import { randomBytes } from 'node:crypto';
import { and, asc, desc, eq, gt, sql } from 'drizzle-orm';
import { z } from 'zod';
import { type BatchStatus, batchEvents, batches, type ContactStatus, contacts } from '../../db/schema.js';
import { DomainError } from '../../errors.js';
import { type Contact, contactColumns, toContact } from '../contacts/contact.js';
import { decodeCursor, encodeCursor, newestFirstPage, olderThan, pageLimit } from '../pagination.js';
import type { Actor, CoreDeps } from '../types.js';
import { type Batch, toBatch } from './batch.js';
import { type ContactFilter, filterConditions } from './contact-filter.js';
import { exportBatchCsv } from './export.js';

export type ListBatchesQuery = { limit?: number; cursor?: string; status?: BatchStatus };
export type BatchContactsQuery = { limit?: number; cursor?: string } & ContactFilter;
export type BatchEvent = { kind: string; actor: string; reason: string | null; at: string };
/** What an import's Undo did: undone, or nothing because its batch is no longer the active one. */
export type UndoImportOutcome =
  | { kind: 'undone'; batch: Batch; previous: Batch | null }
  | { kind: 'not_active'; batch: Batch; active: Batch | null; previous: Batch | null };

const contactCursor = z.number().int();

export function newBatchId(nowMs: number): string {
  return `batch_${randomBytes(4).toString('hex')}_${Math.floor(nowMs / 1000)}`;
}

/** A drizzle transaction (or the database itself) on the app's connection. */
export type Tx = Parameters<Parameters<CoreDeps['db']['transaction']>[0]>[0];

export class BatchService {
  private readonly log;
  constructor(private readonly deps: CoreDeps) {
    this.log = deps.log.child({ module: 'batches' });
  }

  /** Lists batches newest first, with contact counts, by cursor. */
  list(query: ListBatchesQuery = {}): { batches: Batch[]; nextCursor: string | null } {
    const limit = pageLimit(query.limit, 200);
    const rows = this.deps.db
      .select()
      .from(batches)
      .where(
        and(
          query.status ? eq(batches.status, query.status) : undefined,
          olderThan(query.cursor, batches.createdAt, batches.id),
        ),
      )
      .orderBy(desc(batches.createdAt), desc(batches.id))
      .limit(limit + 1)
      .all();
    const { page, nextCursor } = newestFirstPage(rows, limit);
    return { batches: page.map(toBatch), nextCursor };
  }

  /** Returns one batch, or throws not_found. */
  get(id: string): Batch {
    return toBatch(this.row(id));
  }

  /** The active batch, if any. */
  getActive(): Batch | null {
    const row = this.deps.db.select().from(batches).where(eq(batches.status, 'active')).get();
    return row ? toBatch(row) : null;
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
    let previous: string | undefined;
    this.deps.db.transaction((tx) => {
      previous = this.activateWithin(tx, id, actor, reason ?? null, now);
    });
    this.log.info({ batchId: id, previous, actor }, 'batch activated');
    return this.get(id);
  }

  /**
   * The activation itself, inside the caller's transaction (a scheduled activation marks its
   * schedule applied in the same one). Returns the batch it replaced, if any.
   */
  activateWithin(tx: Tx, id: string, actor: Actor, reason: string | null, now: number): string | undefined {
    const row = this.row(id, tx);
    if (row.status === 'importing') {
      throw new DomainError(
        'conflict',
        `Batch ${id} is still importing; activate it once the import is done.`,
      );
    }
    if (row.status === 'active') return undefined;
    const current = tx.select({ id: batches.id }).from(batches).where(eq(batches.status, 'active')).get();
    if (current) {
      tx.update(batches)
        .set({ status: 'inactive', deactivatedAt: now })
        .where(eq(batches.id, current.id))
        .run();
      tx.insert(batchEvents)
        .values({ batchId: current.id, kind: 'deactivated', actor, reason: `replaced by ${id}`, at: now })
        .run();
    }
    tx.update(batches).set({ status: 'active', activatedAt: now }).where(eq(batches.id, id)).run();
    tx.insert(batchEvents).values({ batchId: id, kind: 'activated', actor, reason, at: now }).run();
    const data = { batchId: id, name: row.name, previousBatchId: current?.id ?? null, reason };
    this.deps.webhooks?.record(tx, 'batch.activated', data, now);
    return current?.id;
  }

  /** Deactivates a batch; afterwards no batch may be active. */
  deactivate(id: string, actor: Actor, reason?: string): Batch {
    const now = this.deps.clock.now();
    let changed = false;
    this.deps.db.transaction((tx) => {
      const row = this.row(id, tx);
      if (row.status !== 'active') return;
      tx.update(batches).set({ status: 'inactive', deactivatedAt: now }).where(eq(batches.id, id)).run();
      tx.insert(batchEvents)
        .values({ batchId: id, kind: 'deactivated', actor, reason: reason ?? null, at: now })
        .run();
      changed = true;
    });
    if (changed) this.log.info({ batchId: id, actor }, 'batch deactivated');
    return this.get(id);
  }

  /**
   * Undoes an import's activation, only while its batch is still the active one: the batch it
   * replaced is active again (none, if it replaced none). Otherwise nothing changes and the
   * outcome says which batch is active now, so an old Undo never switches away from a newer choice.
   */
  undoImport(batchId: string, previousId: string | null, actor: Actor): UndoImportOutcome {
    const now = this.deps.clock.now();
    let undone = false;
    this.deps.db.transaction((tx) => {
      if (this.row(batchId, tx).status !== 'active') return;
      if (previousId) this.activateWithin(tx, previousId, actor, `undo import ${batchId}`, now);
      else {
        tx.update(batches)
          .set({ status: 'inactive', deactivatedAt: now })
          .where(eq(batches.id, batchId))
          .run();
        tx.insert(batchEvents)
          .values({ batchId, kind: 'deactivated', actor, reason: 'undo import', at: now })
          .run();
      }
      undone = true;
    });
    const batch = this.get(batchId);
    const previous = previousId ? this.find(previousId) : null;
    if (!undone) return { kind: 'not_active', batch, active: this.getActive(), previous };
    this.log.info({ batchId, previous: previousId, actor }, 'import undone');
    return { kind: 'undone', batch, previous };
  }

  /** The batch, or null when there is none with this id (deleted by retention, say). */
  private find(id: string): Batch | null {
    const row = this.deps.db.select().from(batches).where(eq(batches.id, id)).get();
    return row ? toBatch(row) : null;
  }

  /** The batch's history: imports, activations, deactivations, oldest first. */
  events(id: string): BatchEvent[] {
    this.row(id);
    return this.deps.db
      .select()
      .from(batchEvents)
      .where(eq(batchEvents.batchId, id))
      .orderBy(asc(batchEvents.at), asc(batchEvents.id))
      .all()
      .map((e) => ({ kind: e.kind, actor: e.actor, reason: e.reason, at: new Date(e.at).toISOString() }));
  }

  /** Counts of a batch's contacts by status. */
  statusCounts(id: string): Record<ContactStatus, number> {
    const counts: Record<ContactStatus, number> = { active: 0, inactive: 0, bounced: 0, unsubscribed: 0 };
    const rows = this.deps.db
      .select({ status: contacts.status, n: sql<number>`count(*)` })
      .from(contacts)
      .where(eq(contacts.batchId, id))
      .groupBy(contacts.status)
      .all();
    for (const r of rows) counts[r.status] = r.n;
    return counts;
  }

  /** The batch's contacts (those the filter keeps) as CSV text (formula-safe), streamed page by page. */
  exportCsv(id: string, filter: ContactFilter = {}): AsyncIterable<string> {
    this.row(id);
    return exportBatchCsv(this.deps, id, filter);
  }

  private row(id: string, tx: Pick<CoreDeps['db'], 'select'> = this.deps.db) {
    const row = tx.select().from(batches).where(eq(batches.id, id)).get();
    if (!row)
      throw new DomainError('not_found', `No batch ${id}. List batches to see the ids.`, { batchId: id });
    return row;
  }
}
