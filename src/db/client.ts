import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { type BetterSQLite3Database, drizzle } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import * as schema from './schema.js';

export type Sqlite = Database.Database;
export type Db = BetterSQLite3Database<typeof schema> & { $client: Sqlite };

export const migrationsFolder = resolve(dirname(fileURLToPath(import.meta.url)), '../../drizzle');

/** Opens (creating if needed) the SQLite file with the pragmas every connection needs. */
export function openDb(path: string): Db {
  if (path !== ':memory:') mkdirSync(dirname(resolve(path)), { recursive: true });
  const sqlite = new Database(path);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('foreign_keys = ON');
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

/** Applies the migrations in drizzle/ that this database has not seen yet. */
export function migrateDb(db: Db): void {
  migrate(db, { migrationsFolder });
}
