import type { IdleBatchRow, RetentionStore } from '../../core/batches/retention-store.js';
import { type PgDb, rows } from './client.js';

/** The retention proposals over Postgres: the only writer of `retention_proposals`. */
export class PgRetentionStore implements RetentionStore {
  constructor(private readonly db: PgDb) {}

  async listIdle(cutoff: number): Promise<IdleBatchRow[]> {
    // Ids compare bytewise (COLLATE "C"), as SQLite orders them.
    return rows<IdleBatchRow>(
      this.db.$client,
      `SELECT b.id, b.name, b.contact_count AS "contactCount", coalesce(b.deactivated_at, b.created_at) AS since
         FROM batches b LEFT JOIN retention_proposals p ON p.batch_id = b.id
        WHERE b.status = 'inactive' AND coalesce(b.deactivated_at, b.created_at) < $1
          AND (p.proposed_at IS NULL OR p.proposed_at <= $1)
        ORDER BY b.created_at, b.id COLLATE "C"`,
      [cutoff],
    );
  }

  async markProposed(batchId: string, at: number): Promise<void> {
    // Through the batch, so a batch deleted meanwhile leaves nothing behind. A deletion that
    // commits between this statement's read and its foreign-key check fails the check (23503):
    // the batch is gone, which is the same "nothing".
    try {
      await this.db.$client.query(
        `INSERT INTO retention_proposals (batch_id, proposed_at) SELECT id, $1::bigint FROM batches WHERE id = $2
           ON CONFLICT (batch_id) DO UPDATE SET proposed_at = excluded.proposed_at`,
        [at, batchId],
      );
    } catch (e) {
      if ((e as { code?: unknown }).code !== '23503') throw e;
    }
  }
}
