import type { Sqlite } from '../../src/db/client.js';

/**
 * Undoes what migrations 0008–0010 (the inbox) added, for tests that turn a database of today's
 * schema back into an older version and let the migrator bring it forward again. 0008 and 0009
 * rebuild `suppressions` and `contacts` with wider CHECKs: running them again over the wider ones
 * changes nothing, so only the added tables, columns and indexes go.
 */
export function undoInboxMigrations(s: Sqlite): void {
  s.exec(`
    DROP INDEX sends_legacy_message_id;
    DROP INDEX sends_mailbox_marked;
    DROP TABLE inbox_bounces;
    DROP TABLE inbox_messages;
    ALTER TABLE sends DROP COLUMN replied_at;
    ALTER TABLE sends DROP COLUMN complained_at;
    ALTER TABLE sends DROP COLUMN soft_bounced_at;
    ALTER TABLE contacts DROP COLUMN interest;
  `);
}
