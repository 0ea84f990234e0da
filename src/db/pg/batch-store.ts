import type pg from 'pg';
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
import { listBatchContacts } from './batch-contacts.js';
import {
  activateBatch,
  activationLock,
  deactivateBatch,
  dropContactCount,
  insertBatchEvent,
} from './batch-rows.js';
import { inTransaction, type PgDb, type PgExec, row, rows } from './client.js';
import { leaseLapsedSql, type PgClaimer } from './leases.js';
import { insertWebhooks } from './webhook-rows.js';

/**
 * Every column of `batches`, as SQLite's `select()` reads them (the importer too, beyond BatchRow),
 * camelCase aliases quoted (Postgres folds unquoted ones to lower case).
 */
const batchRowColumns = `id, name, source, status, created_by AS "createdBy", created_at AS "createdAt",
  activated_at AS "activatedAt", deactivated_at AS "deactivatedAt", report, file_sha256 AS "fileSha256",
  contact_count AS "contactCount", replaced_batch_id AS "replacedBatchId",
  include_invalid_domains AS "includeInvalidDomains", importer`;

/**
 * The batch's status, its row locked until the transaction ends: SQLite had one writer, so its
 * read-then-write needed no lock; here another instance could change the status in between.
 * NO KEY UPDATE: contacts inserted into the batch meanwhile (their foreign key check) do not wait.
 */
async function lockedStatus(tx: PgExec, id: string): Promise<BatchStatus | null> {
  const r = await row<{ status: BatchStatus }>(
    tx,
    'SELECT status FROM batches WHERE id = $1 FOR NO KEY UPDATE',
    [id],
  );
  return r?.status ?? null;
}

/** The Postgres BatchStore: raw SQL, each change one transaction on one connection of the pool. */
export class PgBatchStore implements BatchStore {
  private readonly pool: pg.Pool;

  /** `claimer`: the instance whose imports these are (`importing_instance`, the lease); null: none. */
  constructor(
    db: PgDb,
    private readonly claimer: PgClaimer = null,
  ) {
    this.pool = db.$client;
  }

  async find(id: string): Promise<BatchRow | null> {
    return this.row(this.pool, id);
  }

  async listNewestFirst(q: {
    status?: BatchStatus;
    olderThan?: [number, string];
    limit: number;
  }): Promise<BatchRow[]> {
    const values: unknown[] = [];
    const where: string[] = [];
    if (q.status) {
      values.push(q.status);
      where.push(`status = $${values.length}`);
    }
    if (q.olderThan) {
      // Ids compared as SQLite does (bytes), whatever the database's locale.
      values.push(q.olderThan[0], q.olderThan[1]);
      const at = `$${values.length - 1}`;
      const last = `$${values.length}`;
      where.push(`(created_at < ${at} OR (created_at = ${at} AND id COLLATE "C" < ${last}))`);
    }
    values.push(q.limit);
    return rows<BatchRow>(
      this.pool,
      `SELECT ${batchRowColumns} FROM batches ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY created_at DESC, id COLLATE "C" DESC LIMIT $${values.length}`,
      values,
    );
  }

  async findActive(): Promise<BatchRow | null> {
    const r = await row<BatchRow>(
      this.pool,
      `SELECT ${batchRowColumns} FROM batches WHERE status = 'active'`,
    );
    return r ?? null;
  }

  async findByFile(sha256: string, exceptId: string): Promise<{ id: string; name: string } | null> {
    const r = await row<{ id: string; name: string }>(
      this.pool,
      `SELECT id, name FROM batches WHERE file_sha256 = $1 AND status <> 'importing' AND id <> $2
       ORDER BY created_at DESC LIMIT 1`,
      [sha256, exceptId],
    );
    return r ?? null;
  }

  /**
   * Only batches whose importing instance is no longer alive (or none was named): another live
   * instance may be filling its own right now, on any host. The service then applies its importer
   * check to these (a live process on this host without an instance).
   */
  async listImporting(): Promise<{ id: string; importer: string | null }[]> {
    return rows(
      this.pool,
      `SELECT id, importer FROM batches
       WHERE status = 'importing' AND ${leaseLapsedSql('batches.importing_instance')}`,
    );
  }

  async countContactsByStatus(id: string): Promise<{ status: ContactStatus; count: number }[]> {
    // Ordered as SQLite's group-by over contacts_batch_status gives them.
    return rows(
      this.pool,
      `SELECT status, count(*) AS count FROM contacts WHERE batch_id = $1
       GROUP BY status ORDER BY status COLLATE "C"`,
      [id],
    );
  }

  async listEvents(id: string): Promise<BatchEventRow[]> {
    return rows(
      this.pool,
      'SELECT kind, actor, reason, at FROM batch_events WHERE batch_id = $1 ORDER BY at, id',
      [id],
    );
  }

  async listContacts(batchId: string, q: ContactPageQuery): Promise<ContactExportRow[]> {
    return listBatchContacts(this.pool, batchId, q);
  }

  async activate(order: ActivationOrder): Promise<ActivationResult> {
    return inTransaction(this.pool, (tx) => activation(tx, order));
  }

  async deactivate(
    id: string,
    change: { actor: string; reason: string | null; at: number },
  ): Promise<'deactivated' | 'not_active' | 'missing'> {
    return inTransaction(this.pool, async (tx) => {
      await activationLock(tx);
      const status = await lockedStatus(tx, id);
      if (!status) return 'missing';
      if (status !== 'active') return 'not_active';
      await deactivateBatch(tx, id, change);
      return 'deactivated';
    });
  }

  async undoImport(
    batchId: string,
    undo: { actor: string; reason: string; at: number; reactivate?: ActivationOrder },
  ): Promise<{ kind: 'undone'; reactivated: ActivationResult | null } | { kind: 'not_active' | 'missing' }> {
    return inTransaction(this.pool, async (tx) => {
      await activationLock(tx);
      const status = await lockedStatus(tx, batchId);
      if (!status) return { kind: 'missing' as const };
      if (status !== 'active') return { kind: 'not_active' as const };
      if (undo.reactivate)
        return { kind: 'undone' as const, reactivated: await activation(tx, undo.reactivate) };
      await deactivateBatch(tx, batchId, undo);
      return { kind: 'undone' as const, reactivated: null };
    });
  }

  async startImport(start: ImportStart): Promise<void> {
    await this.pool.query(
      `INSERT INTO batches (id, name, source, status, created_by, created_at, importer, importing_instance)
       VALUES ($1, $2, $3, 'importing', $4, $5, $6, $7)`,
      [start.id, start.name, start.source, start.actor, start.at, start.importer, this.claimer?.id ?? null],
    );
  }

  async finishImport(
    finish: ImportFinish,
    then: {
      activate?: ActivationChange;
      webhooks: (activated: ActivationResult | null) => WebhookDelivery[];
    },
  ): Promise<ActivationResult | null> {
    return inTransaction(this.pool, async (tx) => {
      if (then.activate) await activationLock(tx);
      await tx.query(
        `UPDATE batches SET status = 'inactive', name = $1, report = $2, file_sha256 = $3, contact_count = $4
         WHERE id = $5`,
        [finish.name, finish.report, finish.sha256, finish.contactCount, finish.id],
      );
      await insertBatchEvent(tx, {
        batchId: finish.id,
        kind: 'imported',
        actor: finish.actor,
        reason: finish.reason,
        at: finish.at,
      });
      const activated = then.activate ? await activateBatch(tx, finish.id, then.activate) : null;
      await insertWebhooks(tx, then.webhooks(activated));
      return activated;
    });
  }

  async deleteContacts(id: string, status: BatchStatus, limit: number): Promise<ChunkResult> {
    return inTransaction(this.pool, async (tx): Promise<ChunkResult> => {
      // Locked: the batch cannot leave `status` (another instance activating it) before this commits.
      const current = await lockedStatus(tx, id);
      if (current !== status) return { kind: 'moved', status: current };
      const done = await tx.query(
        'DELETE FROM contacts WHERE id IN (SELECT id FROM contacts WHERE batch_id = $1 ORDER BY id LIMIT $2)',
        [id, limit],
      );
      const count = done.rowCount ?? 0;
      await dropContactCount(tx, id, count);
      return { kind: 'deleted', count };
    });
  }

  async deleteBatch(id: string, status: BatchStatus): Promise<void> {
    await this.pool.query('DELETE FROM batches WHERE id = $1 AND status = $2', [id, status]);
  }

  async setIncludeInvalidDomains(
    id: string,
    include: boolean,
    event: { kind: string; actor: string; reason: string; at: number },
  ): Promise<{ before: boolean; row: BatchRow } | null> {
    return inTransaction(this.pool, async (tx) => {
      // Locked: two admins flipping it at once write one event each, in order, as on SQLite.
      const before = await this.row(tx, id, ' FOR NO KEY UPDATE');
      if (!before) return null;
      if (before.includeInvalidDomains !== include) {
        await tx.query('UPDATE batches SET include_invalid_domains = $1 WHERE id = $2', [include, id]);
        await insertBatchEvent(tx, { batchId: id, ...event });
      }
      return { before: before.includeInvalidDomains, row: (await this.row(tx, id))! };
    });
  }

  private async row(exec: PgExec, id: string, lock = ''): Promise<BatchRow | null> {
    return (
      (await row<BatchRow>(exec, `SELECT ${batchRowColumns} FROM batches WHERE id = $1${lock}`, [id])) ?? null
    );
  }
}

/** One activation with its webhook rows, inside the caller's transaction. */
async function activation(tx: PgExec, order: ActivationOrder): Promise<ActivationResult> {
  const done = await activateBatch(tx, order.id, order.change);
  if (done.kind === 'activated') await insertWebhooks(tx, order.webhooks(done));
  return done;
}
