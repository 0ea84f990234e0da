import type pg from 'pg';
import { groupByBatch, rowOf } from '../validation-legacy.js';
import { inTransaction, row, rows } from './client.js';
import { lockBatchValidation } from './validation-rows.js';

/*
 * Before the validation_runs table (SQLite migration 0005), validation kept its state as JSON in
 * `settings`: `validation:run:<batch>` (the run under way and its cursor), `validation:counts:<batch>`
 * (the verdict counts and when the last complete run finished) and `validation:failure:<batch>`
 * (the last run stopped as dns_unavailable). A Postgres database never had that version, but one
 * copied from such a SQLite file (`npm run db:copy`) brings the keys along: they are moved the same way.
 */

/** The keys validation kept (a prefix test: a range of keys would depend on the database's collation). */
const validationKeys = `FROM settings WHERE starts_with(key, 'validation:')`;

/**
 * Moves the validation state an older version kept in `settings` into `validation_runs`, one row
 * per batch (its run under way, else its last failure, else its finished counts), and deletes
 * those keys, in one transaction: a second call finds nothing to do. Keys of batches that no
 * longer exist are dropped; a value that does not parse is left where it is. Returns the batches moved.
 *
 * Instances starting together: the keys are read FOR UPDATE, so a second one waits for the first
 * and then finds them gone; each batch is written under its validation lock, as a run start is.
 */
export async function adoptSettingsRuns(pool: pg.Pool): Promise<string[]> {
  // Almost always empty: only the first start after the copy has anything to move.
  if (!(await row(pool, `SELECT 1 ${validationKeys} LIMIT 1`))) return [];
  return inTransaction(pool, async (tx) => {
    const stored = await rows<{ key: string; value: string }>(
      tx,
      `SELECT key, value ${validationKeys} ORDER BY key COLLATE "C" FOR UPDATE`,
    );
    const byBatch = groupByBatch(stored);
    const moved: string[] = [];
    for (const [batchId, found] of byBatch) {
      await lockBatchValidation(tx, batchId);
      const exists = await row(tx, `SELECT 1 FROM batches WHERE id = $1`, [batchId]);
      const hasRuns = await row(tx, `SELECT 1 FROM validation_runs WHERE batch_id = $1 LIMIT 1`, [batchId]);
      const r = exists && !hasRuns ? rowOf(batchId, found) : null;
      if (r) {
        await tx.query(
          `INSERT INTO validation_runs (id, batch_id, seq, actor, status, started_at, ended_at, after_id, checked,
             message, valid, role, disposable, no_mail_domain, unknown, counted_of, validated_at)
           VALUES ($1, $2, 1, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`,
          [
            r.id,
            batchId,
            r.actor,
            r.status,
            r.startedAt,
            r.endedAt,
            r.afterId,
            r.checked,
            r.message,
            r.valid,
            r.role,
            r.disposable,
            r.no_mail_domain,
            r.unknown,
            r.countedOf,
            r.validatedAt,
          ],
        );
        moved.push(batchId);
      }
      await tx.query(`DELETE FROM settings WHERE key = ANY($1::text[])`, [found.keys]);
    }
    return moved;
  });
}
