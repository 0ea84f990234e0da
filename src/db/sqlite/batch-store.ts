import { and, asc, desc, eq, lt, or, sql } from 'drizzle-orm';
import type {
  ActivationChange,
  ActivationOrder,
  ActivationResult,
  BatchEventRow,
  BatchRow,
  BatchStore,
  ChunkResult,
  ContactExportRow,
  ContactPageQuery,
  ImportFinish,
  ImportStart,
} from '../../core/batches/batch-store.js';
import type { BatchStatus, ContactStatus } from '../../core/vocabulary.js';
import type { WebhookDelivery } from '../../core/webhooks/webhook-store.js';
import type { Db } from '../client.js';
import { batchEvents, batches, contacts } from '../schema.js';
import { listBatchContacts } from './batch-contacts.js';
import {
  activateBatch,
  batchStatements,
  deactivateBatch,
  dropContactCount,
  insertBatchEvent,
} from './batch-rows.js';
import { insertWebhooks } from './webhook-rows.js';

/**
 * The SQLite BatchStore: writes with statements prepared once (batch-rows.ts, shared with the
 * stores that change a batch in their own transaction), transactions synchronous.
 */
export class SqliteBatchStore implements BatchStore {
  private readonly stmts;

  constructor(private readonly db: Db) {
    const s = db.$client;
    this.stmts = {
      ...batchStatements(s),
      importing: s.prepare<[], { id: string; importer: string | null }>(
        `SELECT id, importer FROM batches WHERE status = 'importing'`,
      ),
      sameFile: s.prepare<[string, string], { id: string; name: string }>(
        `SELECT id, name FROM batches WHERE file_sha256 = ? AND status != 'importing' AND id != ? ORDER BY created_at DESC LIMIT 1`,
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
      deleteBatch: s.prepare<[string, BatchStatus]>(`DELETE FROM batches WHERE id = ? AND status = ?`),
      setInclude: s.prepare<[number, string]>(`UPDATE batches SET include_invalid_domains = ? WHERE id = ?`),
    };
  }

  async find(id: string): Promise<BatchRow | null> {
    return this.row(id);
  }

  async listNewestFirst(q: {
    status?: BatchStatus;
    olderThan?: [number, string];
    limit: number;
  }): Promise<BatchRow[]> {
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

  async findActive(): Promise<BatchRow | null> {
    return this.db.select().from(batches).where(eq(batches.status, 'active')).get() ?? null;
  }

  async findByFile(sha256: string, exceptId: string): Promise<{ id: string; name: string } | null> {
    return this.stmts.sameFile.get(sha256, exceptId) ?? null;
  }

  async listImporting(): Promise<{ id: string; importer: string | null }[]> {
    return this.stmts.importing.all();
  }

  async countContactsByStatus(id: string): Promise<{ status: ContactStatus; count: number }[]> {
    return this.db
      .select({ status: contacts.status, count: sql<number>`count(*)` })
      .from(contacts)
      .where(eq(contacts.batchId, id))
      .groupBy(contacts.status)
      .all();
  }

  async listEvents(id: string): Promise<BatchEventRow[]> {
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

  async listContacts(batchId: string, q: ContactPageQuery): Promise<ContactExportRow[]> {
    return listBatchContacts(this.db, batchId, q);
  }

  async activate(order: ActivationOrder): Promise<ActivationResult> {
    return this.db.transaction(() => this.activation(order));
  }

  async deactivate(
    id: string,
    change: { actor: string; reason: string | null; at: number },
  ): Promise<'deactivated' | 'not_active' | 'missing'> {
    return this.db.transaction(() => {
      const status = this.stmts.status.get(id)?.status;
      if (!status) return 'missing';
      if (status !== 'active') return 'not_active';
      deactivateBatch(this.db.$client, id, change);
      return 'deactivated';
    });
  }

  async undoImport(
    batchId: string,
    undo: { actor: string; reason: string; at: number; reactivate?: ActivationOrder },
  ): Promise<{ kind: 'undone'; reactivated: ActivationResult | null } | { kind: 'not_active' | 'missing' }> {
    return this.db.transaction(() => {
      const status = this.stmts.status.get(batchId)?.status;
      if (!status) return { kind: 'missing' as const };
      if (status !== 'active') return { kind: 'not_active' as const };
      if (undo.reactivate) return { kind: 'undone' as const, reactivated: this.activation(undo.reactivate) };
      deactivateBatch(this.db.$client, batchId, undo);
      return { kind: 'undone' as const, reactivated: null };
    });
  }

  async startImport(start: ImportStart): Promise<void> {
    this.stmts.create.run(start.id, start.name, start.source, start.actor, start.at, start.importer);
  }

  async finishImport(
    finish: ImportFinish,
    then: {
      activate?: ActivationChange;
      webhooks: (activated: ActivationResult | null) => WebhookDelivery[];
    },
  ): Promise<ActivationResult | null> {
    return this.db.transaction((tx) => {
      const s = this.stmts;
      s.finish.run(finish.name, finish.report, finish.sha256, finish.contactCount, finish.id);
      s.event.run(finish.id, 'imported', finish.actor, finish.reason, finish.at);
      const activated = then.activate ? activateBatch(this.db.$client, finish.id, then.activate) : null;
      insertWebhooks(tx, then.webhooks(activated));
      return activated;
    });
  }

  async deleteContacts(id: string, status: BatchStatus, limit: number): Promise<ChunkResult> {
    return this.db.transaction((): ChunkResult => {
      const current = this.stmts.status.get(id)?.status ?? null;
      if (current !== status) return { kind: 'moved', status: current };
      const count = this.stmts.deleteContacts.run(id, limit).changes;
      dropContactCount(this.db.$client, id, count);
      return { kind: 'deleted', count };
    });
  }

  async deleteBatch(id: string, status: BatchStatus): Promise<void> {
    this.stmts.deleteBatch.run(id, status);
  }

  async setIncludeInvalidDomains(
    id: string,
    include: boolean,
    event: { kind: string; actor: string; reason: string; at: number },
  ): Promise<{ before: boolean; row: BatchRow } | null> {
    return this.db.transaction(() => {
      const before = this.row(id);
      if (!before) return null;
      if (before.includeInvalidDomains !== include) {
        this.stmts.setInclude.run(include ? 1 : 0, id);
        insertBatchEvent(this.db.$client, { batchId: id, ...event });
      }
      return { before: before.includeInvalidDomains, row: this.row(id)! };
    });
  }

  /** One activation with its webhook rows, inside the caller's transaction. */
  private activation(order: ActivationOrder): ActivationResult {
    const done = activateBatch(this.db.$client, order.id, order.change);
    if (done.kind === 'activated') insertWebhooks(this.db, order.webhooks(done));
    return done;
  }

  private row(id: string): BatchRow | null {
    return this.db.select().from(batches).where(eq(batches.id, id)).get() ?? null;
  }
}
