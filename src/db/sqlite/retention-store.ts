import type { IdleBatchRow, RetentionStore } from '../../core/batches/retention-store.js';
import type { Db } from '../client.js';

/** The retention proposals over SQLite: the only writer of `retention_proposals`. */
export class SqliteRetentionStore implements RetentionStore {
  private readonly s;
  constructor(db: Db) {
    const c = db.$client;
    this.s = {
      idle: c.prepare<{ cutoff: number }, IdleBatchRow>(
        `SELECT b.id, b.name, b.contact_count AS contactCount, coalesce(b.deactivated_at, b.created_at) AS since
           FROM batches b LEFT JOIN retention_proposals p ON p.batch_id = b.id
          WHERE b.status = 'inactive' AND coalesce(b.deactivated_at, b.created_at) < @cutoff
            AND (p.proposed_at IS NULL OR p.proposed_at <= @cutoff)
          ORDER BY b.created_at, b.id`,
      ),
      // Through the batch, so a batch deleted meanwhile leaves nothing behind.
      propose: c.prepare<[number, string]>(
        `INSERT INTO retention_proposals (batch_id, proposed_at) SELECT id, ? FROM batches WHERE id = ?
           ON CONFLICT (batch_id) DO UPDATE SET proposed_at = excluded.proposed_at`,
      ),
    };
  }

  async listIdle(cutoff: number): Promise<IdleBatchRow[]> {
    return this.s.idle.all({ cutoff });
  }

  async markProposed(batchId: string, at: number): Promise<void> {
    this.s.propose.run(at, batchId);
  }
}
