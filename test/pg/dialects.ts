import { join } from 'node:path';
import { type Db, migrateDb, openDb } from '../../src/db/client.js';
import type { PgDb } from '../../src/db/pg/client.js';
import { tempDir } from '../helpers.js';
import { freshPg } from './pg.js';

/**
 * One database of each kind for the store tests that must mean the same on both: a migrated
 * SQLite file in a temp folder, or a migrated database of its own on the run's Postgres server.
 * `query` runs one statement written with Postgres's `$1, $2` placeholders on either (SQLite gets
 * `?` in the same order), for seeding rows and reading outcomes back.
 */
export type TestDatabase =
  | { dialect: 'sqlite'; db: Db; query: Query; close: () => Promise<void> }
  | { dialect: 'postgres'; db: PgDb; query: Query; close: () => Promise<void> };

export type Query = <T = Record<string, unknown>>(text: string, values?: unknown[]) => Promise<T[]>;

export const dialects = ['sqlite', 'postgres'] as const;
export type Dialect = (typeof dialects)[number];

/** Postgres's `$n` placeholders as SQLite's `?`, with the values in the order they now appear. */
export function toSqlitePlaceholders(text: string, values: unknown[]): { text: string; values: unknown[] } {
  const ordered: unknown[] = [];
  const out = text.replace(/\$(\d+)/g, (_, n: string) => {
    ordered.push(values[Number(n) - 1]);
    return '?';
  });
  return { text: out, values: ordered };
}

/** SQLite keeps booleans as 0/1: a boolean value is bound as one. */
function sqliteValue(v: unknown): unknown {
  return typeof v === 'boolean' ? (v ? 1 : 0) : v;
}

export async function openTestDatabase(dialect: Dialect): Promise<TestDatabase> {
  if (dialect === 'sqlite') {
    const { dir, cleanup } = tempDir('coldbatch-dialect-');
    const db = openDb(join(dir, 'test.db'));
    migrateDb(db);
    const query: Query = async <T>(text: string, values: unknown[] = []) => {
      const q = toSqlitePlaceholders(text, values.map(sqliteValue));
      const statement = db.$client.prepare(q.text);
      if (statement.reader) return statement.all(...q.values) as T[];
      statement.run(...q.values);
      return [];
    };
    return {
      dialect,
      db,
      query,
      close: async () => {
        db.$client.close();
        cleanup();
      },
    };
  }
  const { db, drop } = await freshPg();
  return pgTestDatabase(db, drop);
}

/** A Postgres database of the run (a pool and how to drop it) as a TestDatabase, for test/pg/seed.ts. */
export function pgTestDatabase(
  db: PgDb,
  drop: () => Promise<void>,
): Extract<TestDatabase, { dialect: 'postgres' }> {
  const query: Query = async <T>(text: string, values: unknown[] = []) =>
    (await db.$client.query(text, values)).rows as T[];
  return { dialect: 'postgres', db, query, close: drop };
}
