/**
 * The SQLite side of `npm run db:copy`: the file at DATABASE_PATH opened read-only, checked (a
 * coldbatch database with every migration applied), and read inside one read transaction, so
 * every table is read as of the same moment although the app may be writing to it meanwhile.
 */
import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import { readMigrationFiles } from 'drizzle-orm/migrator';
import { migrationsFolder, type Sqlite } from './client.js';
import type { CopyTable } from './copy-plan.js';

/** A refusal meant for the person running the command; nothing was changed. */
export class CopyRefusal extends Error {
  override readonly name = 'CopyRefusal';
}

/** One chunk of a table's rows, column by column (what `unnest` takes), values already as Postgres wants them. */
export type RowChunk = { columns: unknown[][]; rows: number };

export type ChunkLimits = { rows: number; bytes: number };

export type SqliteSnapshot = {
  /** Rows per table as of the snapshot. */
  counts: Map<string, number>;
  /** The highest id each AUTOINCREMENT table ever handed out (sqlite_sequence), deleted rows included. */
  sequences: Map<string, number>;
  /** The table's rows in rowid order, one chunk at a time (only one chunk is held at once). */
  chunks(table: CopyTable, limits: ChunkLimits): Generator<RowChunk>;
  /** Ends the read transaction and closes the file. */
  close(): void;
};

const q = (name: string) => `"${name.replaceAll('"', '""')}"`;
const migrate = 'run npm run migrate first (with the app stopped), then db:copy again';

function has(sqlite: Sqlite, name: string): boolean {
  return (
    sqlite.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?`).get(name) !== undefined
  );
}

/** Refuses a file that is not a coldbatch database of this version's schema. */
function checkSchema(sqlite: Sqlite, path: string, plan: CopyTable[]): void {
  const migrations = readMigrationFiles({ migrationsFolder });
  if (!has(sqlite, '__drizzle_migrations')) {
    if (has(sqlite, 'contacts'))
      throw new CopyRefusal(`${path} has the old contacts schema: ${migrate} (it upgrades it in place).`);
    throw new CopyRefusal(`${path} is not a coldbatch database (no coldbatch tables in it).`);
  }
  // drizzle's own rule: a migration is applied when the last recorded one is not older than it.
  const last =
    (sqlite.prepare('SELECT max(created_at) FROM __drizzle_migrations').pluck().get() as number) ?? 0;
  const pending = migrations.filter((m) => m.folderMillis > last).length;
  if (pending > 0) throw new CopyRefusal(`${path} has ${pending} migration(s) not applied yet: ${migrate}.`);
  if (last > Math.max(0, ...migrations.map((m) => m.folderMillis)))
    throw new CopyRefusal(
      `${path} was migrated by a newer coldbatch than this one: update this checkout first.`,
    );
  for (const table of plan) {
    const found = new Set(
      sqlite.prepare('SELECT name FROM pragma_table_info(?)').pluck().all(table.name) as string[],
    );
    const missing = table.columns.filter((c) => !found.has(c.name)).map((c) => c.name);
    if (missing.length > 0)
      throw new CopyRefusal(`${path}: table ${table.name} lacks ${missing.join(', ')}: ${migrate}.`);
  }
}

/** SQLite's value as Postgres takes it: 0/1 → boolean; integers, text and blobs (Buffers) as they are. */
function converter(type: CopyTable['columns'][number]['type']): (v: unknown) => unknown {
  if (type === 'boolean') return (v) => (v === null ? null : v !== 0 && v !== '0');
  return (v) => v;
}

/** About how many bytes a value takes in the chunk (to bound a chunk of long texts). */
function sizeOf(v: unknown): number {
  if (typeof v === 'string' || Buffer.isBuffer(v)) return v.length;
  return 8;
}

/**
 * Opens DATABASE_PATH read-only (never created, never written, never migrated) and starts the
 * read transaction that every later read shares. Refuses a missing file, a file that is not a
 * database, an old-schema or not-migrated one, with what to do.
 */
export function openSqliteSnapshot(path: string, plan: CopyTable[]): SqliteSnapshot {
  if (!existsSync(path))
    throw new CopyRefusal(`DATABASE_PATH ${path} does not exist: set it to the SQLite file the app uses.`);
  let sqlite: Sqlite;
  try {
    sqlite = new Database(path, { readonly: true, fileMustExist: true });
    sqlite.pragma('busy_timeout = 5000');
    sqlite.prepare('SELECT count(*) FROM sqlite_master').get();
  } catch (e) {
    throw new CopyRefusal(
      `${path} cannot be read as a SQLite database: ${e instanceof Error ? e.message : e}.`,
    );
  }
  try {
    // WAL: from the first read on, this transaction sees the database as it was then, whatever
    // the app commits meanwhile (it is never blocked by it: a reader does not lock writers out).
    sqlite.exec('BEGIN');
    checkSchema(sqlite, path, plan);
    const counts = new Map(
      plan.map((t) => [
        t.name,
        sqlite
          .prepare(`SELECT count(*) FROM ${q(t.name)}`)
          .pluck()
          .get() as number,
      ]),
    );
    const sequences = new Map(
      has(sqlite, 'sqlite_sequence')
        ? sqlite
            .prepare<[], { name: string; seq: number }>('SELECT name, seq FROM sqlite_sequence')
            .all()
            .map((r) => [r.name, r.seq] as const)
        : [],
    );
    return {
      counts,
      sequences,
      *chunks(table, limits) {
        const convert = table.columns.map((c) => converter(c.type));
        // Keyset pages on rowid (the table's b-tree key; the id itself where the key is an integer
        // id): each page starts where the last ended, so a page costs the same at any depth.
        const page = sqlite
          .prepare(
            `SELECT rowid, ${table.columns.map((c) => q(c.name)).join(', ')} FROM ${q(table.name)}
             WHERE rowid > ? ORDER BY rowid`,
          )
          .raw();
        let after = Number.MIN_SAFE_INTEGER;
        for (;;) {
          const columns: unknown[][] = table.columns.map(() => []);
          let rows = 0;
          let bytes = 0;
          for (const r of page.iterate(after) as IterableIterator<unknown[]>) {
            after = r[0] as number;
            for (let i = 0; i < convert.length; i++) {
              const v = r[i + 1];
              columns[i]!.push(convert[i]!(v));
              bytes += sizeOf(v);
            }
            rows += 1;
            if (rows >= limits.rows || bytes >= limits.bytes) break;
          }
          if (rows === 0) return;
          yield { columns, rows };
        }
      },
      close: () => {
        if (sqlite.inTransaction) sqlite.exec('COMMIT');
        sqlite.close();
      },
    };
  } catch (e) {
    sqlite.close();
    throw e;
  }
}
