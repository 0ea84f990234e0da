import type { Sqlite } from '../../src/db/client.js';

/**
 * Undoes what migrations 0008–0010 (the inbox) added, and the later ones first, for tests that turn a database of today's
 * schema back into an older version and let the migrator bring it forward again. 0008 and 0009
 * rebuild `suppressions` and `contacts` with wider CHECKs: running them again over the wider ones
 * changes nothing, so only the added tables, columns and indexes go.
 */
export function undoInboxMigrations(s: Sqlite): void {
  undoSequenceMigrations(s);
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

/**
 * Undoes what migrations 0011–0014 (sequences, campaign history, the held status) added. 0013
 * rebuilds `campaigns` with a wider CHECK: running it again over the wider one changes nothing;
 * 0014 rebuilds `sequence_people` (dropped here) and the sends_step_variant index.
 */
export function undoSequenceMigrations(s: Sqlite): void {
  s.exec(`
    DROP TABLE campaign_events;
    ALTER TABLE campaigns DROP COLUMN held_reason;
    ALTER TABLE campaigns DROP COLUMN held_checks;
    DROP TABLE sequence_people;
    DROP INDEX sends_step_variant;
    DROP INDEX sends_campaign_contact_step;
    ALTER TABLE sends DROP COLUMN step;
    ALTER TABLE sends DROP COLUMN variant;
    CREATE UNIQUE INDEX sends_campaign_contact ON sends (campaign_id, contact_id);
    ALTER TABLE campaigns DROP COLUMN steps;
  `);
}
