import { csvPages, iso, pageSize } from '../csv-export.js';
import type { CoreDeps } from '../types.js';

/**
 * The suppression list: never mailed again. Only a SHA-256 of each address is kept (that is what
 * lets it outlive the contact), so the export holds the hash, why, who and when.
 */
export function exportSuppressionsCsv(deps: CoreDeps): AsyncIterable<string> {
  const stmt = deps.db.$client.prepare<
    [number, number],
    { id: number; hash: string; reason: string; actor: string; created_at: number }
  >(
    `SELECT rowid AS id, lower(hex(email_hash)) AS hash, reason, actor, created_at FROM suppressions
     WHERE rowid > ? ORDER BY rowid LIMIT ?`,
  );
  return csvPages(
    ['email_sha256', 'reason', 'actor', 'created_at'],
    (after) => stmt.all(after, pageSize),
    (r) => [r.hash, r.reason, r.actor, iso(r.created_at)],
  );
}
