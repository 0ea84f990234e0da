import type { BackupStore, SnapshotCheck } from '../../core/backup/backup-store.js';
import { DomainError } from '../../errors.js';

/** What to run instead, for the people who asked for a backup (Slack, `npm run backup`, the nightly job's notice). */
export const pgBackupAdvice =
  'This coldbatch keeps its data in Postgres (DATABASE_URL), which cannot be copied as a file into BACKUP_DIR, ' +
  'so no backup was written. Back it up with Postgres\'s own tools: `pg_dump -Fc "$DATABASE_URL" > coldbatch.dump` ' +
  '(restore into an empty database with `pg_restore --no-owner -d "$DATABASE_URL" coldbatch.dump`), or your ' +
  "provider's snapshots; and set BACKUP_CRON=off.";

/**
 * The Postgres BackupStore: refuses. The backup service copies the database into a file of
 * BACKUP_DIR and checks it with SQLite's integrity_check; a Postgres database is not a file the
 * app can copy (it runs in another process, often on another machine), and a dump taken from
 * inside the app would need pg_dump installed next to it. `conflict`: the request is fine, the
 * server's configuration is what does not allow it (no error code says "not on this database").
 */
export class PgBackupStore implements BackupStore {
  async snapshot(_target: string): Promise<SnapshotCheck> {
    throw new DomainError('conflict', pgBackupAdvice, { engine: 'postgres' });
  }
}
