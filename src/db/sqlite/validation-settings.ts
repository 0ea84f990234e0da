import type { Sqlite } from '../client.js';
import { groupByBatch, rowOf } from '../validation-legacy.js';

/**
 * Moves the validation state an older version kept in `settings` into `validation_runs`, one row
 * per batch (its run under way, else its last failure, else its finished counts), and deletes
 * those keys, in one transaction: a second call finds nothing to do. Keys of batches that no
 * longer exist are dropped; a value that does not parse is left where it is. Returns the batches moved.
 */
export function adoptSettingsRuns(sqlite: Sqlite): string[] {
  const read = sqlite.prepare<[], { key: string; value: string }>(
    `SELECT key, value FROM settings WHERE key >= 'validation:' AND key < 'validation;' ORDER BY key`,
  );
  // Almost always empty: only the first start after the upgrade has anything to move.
  if (read.all().length === 0) return [];
  return sqlite
    .transaction(() => {
      const byBatch = groupByBatch(read.all());
      const batchExists = sqlite.prepare<[string], number>(`SELECT 1 FROM batches WHERE id = ?`).pluck();
      const hasRuns = sqlite
        .prepare<[string], number>(`SELECT 1 FROM validation_runs WHERE batch_id = ?`)
        .pluck();
      const drop = sqlite.prepare<[string]>(`DELETE FROM settings WHERE key = ?`);
      const insert = sqlite.prepare(
        `INSERT INTO validation_runs (id, batch_id, seq, actor, status, started_at, ended_at, after_id, checked,
           message, valid, role, disposable, no_mail_domain, unknown, counted_of, validated_at)
         VALUES (@id, @batchId, 1, @actor, @status, @startedAt, @endedAt, @afterId, @checked,
           @message, @valid, @role, @disposable, @no_mail_domain, @unknown, @countedOf, @validatedAt)`,
      );
      const moved: string[] = [];
      for (const [batchId, found] of byBatch) {
        if (batchExists.get(batchId) && !hasRuns.get(batchId)) {
          const row = rowOf(batchId, found);
          if (row) {
            insert.run(row);
            moved.push(batchId);
          }
        }
        for (const key of found.keys) drop.run(key);
      }
      return moved;
    })
    .immediate();
}
