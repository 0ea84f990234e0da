import { and, asc, desc, eq, isNotNull, lt, or, sql } from 'drizzle-orm';
import type {
  ActivationChange,
  ActivationResult,
  BatchEventRow,
  BatchRow,
  BatchStore,
  ChunkResult,
  ImportFinish,
  ImportStart,
  Tx,
} from '../../core/batches/batch-store.js';
import type { BatchStatus, ContactStatus } from '../../core/vocabulary.js';
import type { Db } from '../client.js';
import { batchEvents, batches, contacts } from '../schema.js';

/**
 * The SQLite BatchStore: writes with statements prepared once, transactions synchronous. One
 * connection, so those statements run inside a caller's transaction (`…Within(tx)`) as well.
 */
export class SqliteBatchStore implements BatchStore {
  private readonly stmts;

  constructor(private readonly db: Db) {
    const s = db.$client;
    this.stmts = {
      status: s.prepare<[string], { status: BatchStatus }>(`SELECT status FROM batches WHERE id = ?`),
      activeId: s.prepare<[], { id: string }>(`SELECT id FROM batches WHERE status = 'active'`),
      importing: s.prepare<[], { id: string; importer: string | null }>(
        `SELECT id, importer FROM batches WHERE status = 'importing'`,
      ),
      sameFile: s.prepare<[string, string], { id: string; name: string }>(
        `SELECT id, name FROM batches WHERE file_sha256 = ? AND status != 'importing' AND id != ? ORDER BY created_at DESC LIMIT 1`,
      ),
      deactivate: s.prepare<[number, string]>(
        `UPDATE batches SET status = 'inactive', deactivated_at = ? WHERE id = ?`,
      ),
      activate: s.prepare<[number, string]>(
        `UPDATE batches SET status = 'active', activated_at = ? WHERE id = ?`,
      ),
      keepReplaced: s.prepare<[string | null, string]>(
        `UPDATE batches SET replaced_batch_id = ? WHERE id = ?`,
      ),
      event: s.prepare<[string, string, string, string | null, number]>(
        `INSERT INTO batch_events (batch_id, kind, actor, reason, at) VALUES (?, ?, ?, ?, ?)`,
      ),
      create: s.prepare<[string, string, string, string, number, string]>(
        `INSERT INTO batches (id, name, source, status, created_by, created_at, importer) VALUES (?, ?, ?, 'importing', ?, ?, ?)`,
      ),
      finish: s.prepare<[string, string, string, number, string]>(
        `UPDATE batches SET status = 'inactive', name = ?, report = ?, file_sha256 = ?, contact_count = ?
           WHERE id = ?`,
      ),
      deleteContacts: s.prepare<[string, number]>(
        `DELETE FROM contacts WHERE id IN (SELECT id FROM contacts WHERE batch_id = ? LIMIT ?)`,
      ),
      // Never below zero: an importing batch's count is written only when it finishes.
      dropCount: s.prepare<[number, string]>(
        `UPDATE batches SET contact_count = max(contact_count - ?, 0) WHERE id = ?`,
      ),
      deleteBatch: s.prepare<[string, BatchStatus]>(`DELETE FROM batches WHERE id = ? AND status = ?`),
    };
  }

  find(id: string, tx: Pick<Db, 'select'> = this.db): BatchRow | null {
    return tx.select().from(batches).where(eq(batches.id, id)).get() ?? null;
  }

  listNewestFirst(q: { status?: BatchStatus; olderThan?: [number, string]; limit: number }): BatchRow[] {
    const [at, last] = q.olderThan ?? [0, ''];
    return this.db
      .select()
      .from(batches)
      .where(
        and(
          q.status ? eq(batches.status, q.status) : undefined,
          q.olderThan
            ? or(lt(batches.createdAt, at), and(eq(batches.createdAt, at), lt(batches.id, last)))
            : undefined,
        ),
      )
      .orderBy(desc(batches.createdAt), desc(batches.id))
      .limit(q.limit)
      .all();
  }

  findActive(): BatchRow | null {
    return this.db.select().from(batches).where(eq(batches.status, 'active')).get() ?? null;
  }

  findByFile(sha256: string, exceptId: string): { id: string; name: string } | null {
    return this.stmts.sameFile.get(sha256, exceptId) ?? null;
  }

  listImporting(): { id: string; importer: string | null }[] {
    return this.stmts.importing.all();
  }

  countContactsByStatus(id: string): { status: ContactStatus; count: number }[] {
    return this.db
      .select({ status: contacts.status, count: sql<number>`count(*)` })
      .from(contacts)
      .where(eq(contacts.batchId, id))
      .groupBy(contacts.status)
      .all();
  }

  listEvents(id: string): BatchEventRow[] {
    return this.db
      .select({
        kind: batchEvents.kind,
        actor: batchEvents.actor,
        reason: batchEvents.reason,
        at: batchEvents.at,
      })
      .from(batchEvents)
      .where(eq(batchEvents.batchId, id))
      .orderBy(asc(batchEvents.at), asc(batchEvents.id))
      .all();
  }

  activateWithin(tx: Tx, id: string, change: ActivationChange): ActivationResult {
    const row = this.find(id, tx);
    if (!row) return { kind: 'missing' };
    if (row.status === 'importing') return { kind: 'importing' };
    if (row.status === 'active') return { kind: 'already_active' };
    const s = this.stmts;
    const previous = s.activeId.get()?.id ?? null;
    if (previous) {
      s.deactivate.run(change.at, previous);
      s.event.run(previous, 'deactivated', change.actor, change.replacedReason, change.at);
    }
    s.activate.run(change.at, id);
    if (change.keepReplaced) s.keepReplaced.run(previous, id);
    s.event.run(id, 'activated', change.actor, change.reason, change.at);
    return { kind: 'activated', name: row.name, previous };
  }

  activate(
    id: string,
    change: ActivationChange,
    within?: (tx: Tx, done: Extract<ActivationResult, { kind: 'activated' }>) => void,
  ): ActivationResult {
    return this.db.transaction((tx) => {
      const done = this.activateWithin(tx, id, change);
      if (done.kind === 'activated') within?.(tx, done);
      return done;
    });
  }

  deactivate(
    id: string,
    change: { actor: string; reason: string | null; at: number },
  ): 'deactivated' | 'not_active' | 'missing' {
    return this.db.transaction(() => {
      const status = this.stmts.status.get(id)?.status;
      if (!status) return 'missing';
      if (status !== 'active') return 'not_active';
      this.stmts.deactivate.run(change.at, id);
      this.stmts.event.run(id, 'deactivated', change.actor, change.reason, change.at);
      return 'deactivated';
    });
  }

  undoImport(
    batchId: string,
    undo: { actor: string; reason: string; at: number; reactivate?: (tx: Tx) => void },
  ): 'undone' | 'not_active' | 'missing' {
    return this.db.transaction((tx) => {
      const status = this.stmts.status.get(batchId)?.status;
      if (!status) return 'missing';
      if (status !== 'active') return 'not_active';
      if (undo.reactivate) undo.reactivate(tx);
      else {
        this.stmts.deactivate.run(undo.at, batchId);
        this.stmts.event.run(batchId, 'deactivated', undo.actor, undo.reason, undo.at);
      }
      return 'undone';
    });
  }

  async startImport(start: ImportStart): Promise<void> {
    this.stmts.create.run(start.id, start.name, start.source, start.actor, start.at, start.importer);
  }

  async finishImport(finish: ImportFinish, within?: (tx: Tx) => void): Promise<void> {
    this.db.transaction((tx) => {
      const s = this.stmts;
      s.finish.run(finish.name, finish.report, finish.sha256, finish.contactCount, finish.id);
      s.event.run(finish.id, 'imported', finish.actor, finish.reason, finish.at);
      within?.(tx);
    });
  }

  deleteContacts(id: string, status: BatchStatus, limit: number): ChunkResult {
    return this.db.transaction((): ChunkResult => {
      const current = this.stmts.status.get(id)?.status ?? null;
      if (current !== status) return { kind: 'moved', status: current };
      const count = this.stmts.deleteContacts.run(id, limit).changes;
      if (count > 0) this.stmts.dropCount.run(count, id);
      return { kind: 'deleted', count };
    });
  }

  deleteBatch(id: string, status: BatchStatus, within?: (tx: Tx) => void): void {
    this.db.transaction((tx) => {
      this.stmts.deleteBatch.run(id, status);
      within?.(tx);
    });
  }

  setIncludeInvalidDomains(
    id: string,
    include: boolean,
    event: { kind: string; actor: string; reason: string; at: number },
  ): { before: boolean; row: BatchRow } | null {
    return this.db.transaction((tx) => {
      const before = this.find(id, tx);
      if (!before) return null;
      if (before.includeInvalidDomains !== include) {
        tx.update(batches).set({ includeInvalidDomains: include }).where(eq(batches.id, id)).run();
        this.stmts.event.run(id, event.kind, event.actor, event.reason, event.at);
      }
      return { before: before.includeInvalidDomains, row: this.find(id, tx)! };
    });
  }

  eraseTextWithin(tx: Tx, text: string, replacement: string): { events: number; reports: number } {
    const events = tx
      .update(batchEvents)
      .set({ reason: replacement })
      .where(and(isNotNull(batchEvents.reason), sql`instr(lower(${batchEvents.reason}), ${text}) > 0`))
      .run().changes;
    const reports = tx
      .select({ id: batches.id, report: batches.report })
      .from(batches)
      .where(sql`instr(lower(${batches.report}), ${text}) > 0`)
      .all();
    const pattern = new RegExp(text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'gi');
    for (const b of reports) {
      tx.update(batches)
        .set({ report: (b.report ?? '').replace(pattern, replacement) })
        .where(eq(batches.id, b.id))
        .run();
    }
    return { events, reports: reports.length };
  }
}
