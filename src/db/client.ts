import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { type BetterSQLite3Database, drizzle } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import * as schema from './schema.js';

export type Sqlite = Database.Database;
export type Db = BetterSQLite3Database<typeof schema> & { $client: Sqlite };

export const migrationsFolder = resolve(dirname(fileURLToPath(import.meta.url)), '../../drizzle');

/** Modes of what the app creates: the database holds every contact and the unsubscribe key. */
export const privateFileMode = 0o600;
export const privateDirMode = 0o700;

/**
 * Makes the database file (and its -wal/-shm, which SQLite creates with the database's mode)
 * readable by this user only: a new file is created 0600 in a 0700 folder, an existing one is
 * narrowed to 0600. A folder that already exists keeps its mode (it may be shared, like /var/lib).
 */
function ownOnly(path: string): void {
  const file = resolve(path);
  mkdirSync(dirname(file), { recursive: true, mode: privateDirMode });
  try {
    closeSync(openSync(file, 'wx', privateFileMode));
  } catch (e) {
    if (!(e instanceof Error && 'code' in e && e.code === 'EEXIST')) throw e;
  }
  for (const f of [file, `${file}-wal`, `${file}-shm`]) {
    try {
      if (existsSync(f)) chmodSync(f, privateFileMode);
    } catch {
      // not ours to change (another owner): SQLite still opens it if it may
    }
  }
}

/** Opens (creating if needed) the SQLite file with the pragmas every connection needs. */
export function openDb(path: string): Db {
  if (path !== ':memory:' && path !== '') ownOnly(path);
  const sqlite = new Database(path);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('foreign_keys = ON');
  // Deleted rows are overwritten with zeros, not left in free space: a forgotten person's address
  // must not be readable in the file afterwards (`strings coldbatch.db`).
  sqlite.pragma('secure_delete = ON');
  sqlite.pragma('busy_timeout = 5000');
  sqlite.pragma('synchronous = NORMAL');
  // 32 MB of page cache (the default is 2 MB): a million contacts' indexes stay mostly in memory.
  sqlite.pragma('cache_size = -32768');
  return drizzle(sqlite, { schema });
}

/** A read-only connection of its own (worker threads: reports, backups), never writing. */
export function openReadOnlyDb(path: string): Db {
  const sqlite = new Database(path, { readonly: true, fileMustExist: true });
  sqlite.pragma('busy_timeout = 5000');
  sqlite.pragma('cache_size = -32768');
  return drizzle(sqlite, { schema });
}

/**
 * Copies the WAL into the database file and truncates it to zero bytes, so earlier versions of
 * pages (a forgotten person's row) do not linger there. False when a reader (a backup under way)
 * kept it from finishing: the WAL is reset at a later checkpoint.
 */
export function truncateWal(db: Db): boolean {
  const [row] = db.$client.pragma('wal_checkpoint(TRUNCATE)') as { busy: number }[];
  return row?.busy === 0;
}

/** Applies the migrations in drizzle/ that this database has not seen yet. */
export function migrateDb(db: Db): void {
  migrate(db, { migrationsFolder });
}
