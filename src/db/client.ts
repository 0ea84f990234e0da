import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { type BetterSQLite3Database, drizzle } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import { foldText } from '../core/text-fold.js';
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

/** The app's connection's page cache, in SQLite's units (negative: KiB). */
export const appCacheSize = -16384;

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
  // 16 MB of page cache (the default is 2 MB). The counts run on a connection of their own; here
  // a large import is the heaviest reader, and 32 MB added 16 MB to its peak RSS with no
  // difference measured in its speed or CPU (a page not cached is read from the OS's cache).
  sqlite.pragma(`cache_size = ${appCacheSize}`);
  addFunctions(sqlite);
  return drizzle(sqlite, { schema });
}

/** A read-only connection of its own (worker threads: reports, backups), never writing. */
export function openReadOnlyDb(path: string): Db {
  const sqlite = new Database(path, { readonly: true, fileMustExist: true });
  sqlite.pragma('busy_timeout = 5000');
  sqlite.pragma('cache_size = -32768');
  addFunctions(sqlite);
  return drizzle(sqlite, { schema });
}

/** The SQL functions the stores' queries use: `coldbatch_fold(text)`, the text filters' folding (core/text-fold.ts). */
function addFunctions(sqlite: Sqlite): void {
  sqlite.function('coldbatch_fold', { deterministic: true }, (s: unknown) =>
    typeof s === 'string' ? foldText(s) : s,
  );
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

/**
 * Runs `fn` with the schema's views set aside: dropped first, created again from their own SQL
 * after. A migration that rebuilds a table (drizzle-kit's `__new_<table>`, e.g. to change a CHECK)
 * renames it into place, and SQLite then re-checks every view, failing on one over the table that
 * is briefly gone (a database upgraded from the original tool keeps `active_contacts` over
 * `contacts`). Views hold no data; inside a transaction this is all or nothing.
 */
export function withViewsAside<T>(sqlite: Sqlite, fn: () => T): T {
  const views = sqlite
    .prepare<[], { name: string; sql: string }>(`SELECT name, sql FROM sqlite_master WHERE type = 'view'`)
    .all();
  for (const v of views) sqlite.exec(`DROP VIEW "${v.name.replaceAll('"', '""')}"`);
  try {
    return fn();
  } finally {
    for (const v of views) sqlite.exec(v.sql);
  }
}

/**
 * Applies the migrations in drizzle/ that this database has not seen yet. Foreign keys are off
 * while they run: a migration that rebuilds a table drops the old one, and with foreign keys on
 * that drop would cascade into the rows that point at it (a send's contact set to null). The
 * migrator runs them in one transaction, where SQLite ignores the migrations' own
 * `PRAGMA foreign_keys`; the keys are checked after, and a violation stops the start.
 */
export function migrateDb(db: Db): void {
  const sqlite = db.$client;
  sqlite.pragma('foreign_keys = OFF');
  try {
    withViewsAside(sqlite, () => migrate(db, { migrationsFolder }));
    const broken = sqlite.pragma('foreign_key_check') as unknown[];
    if (broken.length > 0) throw new Error(`migration left ${broken.length} rows with a broken foreign key`);
  } finally {
    sqlite.pragma('foreign_keys = ON');
  }
}
