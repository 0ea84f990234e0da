import { csvPages, iso, pageSize } from '../csv-export.js';
import type { SuppressionStore } from './suppression-store.js';

/**
 * The suppression list: never mailed again. Only a SHA-256 of each address is kept (that is what
 * lets it outlive the contact), so the export holds the hash, why, who and when.
 */
export function exportSuppressionsCsv(store: SuppressionStore): AsyncIterable<string> {
  return csvPages(
    ['email_sha256', 'reason', 'actor', 'created_at'],
    (after) => store.listPage(after, pageSize),
    (r) => [r.hashHex, r.reason, r.actor, iso(r.createdAt)],
  );
}
