import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import pg from 'pg';
import * as schema from './schema.js';

export type PgDb = NodePgDatabase<typeof schema> & { $client: pg.Pool };

/** What a store runs its SQL on: the pool (one statement, its own transaction) or a transaction's client. */
export type PgExec = Pick<pg.Pool | pg.PoolClient, 'query'>;

export const pgMigrationsFolder = resolve(dirname(fileURLToPath(import.meta.url)), '../../../drizzle/pg');

/**
 * The key of the advisory lock every instance takes to migrate: instances starting together run
 * the migrations once (the others wait, then find nothing left to do).
 */
export const migrationLockKey = 0x636f6c64; // 'cold'

const int8 = 20;
const numeric = 1700;

/**
 * Values as the SQLite stores see them: bigint columns (timestamps in ms, ids, counts) and
 * `count(*)` come back as numbers, not strings. Every value the app keeps fits in 2^53.
 */
const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (format !== 'binary' && (oid === int8 || oid === numeric)) return (v: string) => Number(v);
    return pg.types.getTypeParser(oid, format);
  },
} as pg.CustomTypesConfig;

/** A pool over DATABASE_URL (DATABASE_POOL_MAX connections) and drizzle over it. */
export function openPg(url: string, options: { max?: number } = {}): PgDb {
  const pool = new pg.Pool({ connectionString: url, max: options.max ?? 10, types });
  // An idle connection the server closed (a restart, a failover) is dropped, not thrown: the next
  // query takes another one.
  pool.on('error', () => {});
  return drizzle(pool, { schema });
}

/**
 * Applies the migrations in drizzle/pg under the advisory lock; two instances starting together
 * migrate once. A database that is not UTF-8 is refused first, changing nothing: contacts' names
 * need every character, and the text filters fold by character (core/text-fold.ts).
 */
export async function migratePg(db: PgDb): Promise<void> {
  const client = await db.$client.connect();
  try {
    const [encoding] = (await client.query<{ server_encoding: string }>('SHOW server_encoding')).rows;
    if (encoding?.server_encoding !== 'UTF8') {
      const name = (await client.query<{ db: string }>('SELECT current_database() AS db')).rows[0]?.db;
      throw new Error(
        `The Postgres database "${name}" uses the encoding ${encoding?.server_encoding}; coldbatch needs UTF8 ` +
          `(names in every alphabet, and text filters that fold accents). Create one with ` +
          `CREATE DATABASE ${name} ENCODING 'UTF8' TEMPLATE template0 (or createdb -E UTF8 -T template0) and point DATABASE_URL at it.`,
      );
    }
    await client.query('SELECT pg_advisory_lock($1)', [migrationLockKey]);
    try {
      await migrate(drizzle(client, { schema }), { migrationsFolder: pgMigrationsFolder });
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [migrationLockKey]);
    }
  } finally {
    client.release();
  }
}

/**
 * Runs `fn` in one transaction on one connection of the pool: committed when it returns, rolled
 * back when it throws. `begin` may go on after BEGIN with more statements (no parameters), sent in
 * the same round trip; `fn` gets their results.
 */
export async function inTransaction<T>(
  pool: pg.Pool,
  fn: (tx: pg.PoolClient, begun: pg.QueryResult[]) => Promise<T>,
  begin = 'BEGIN',
): Promise<T> {
  const client = await pool.connect();
  try {
    const begun = (await client.query(begin)) as pg.QueryResult | pg.QueryResult[];
    const result = await fn(client, Array.isArray(begun) ? begun : [begun]);
    await client.query('COMMIT');
    return result;
  } catch (e) {
    await client.query('ROLLBACK').catch(() => {});
    throw e;
  } finally {
    client.release();
  }
}

/**
 * Runs several reads as one view of the database (SQLite's read transaction): a REPEATABLE READ,
 * READ ONLY transaction, so every count or row `fn` reads sees the same committed state.
 */
export function inSnapshot<T>(pool: pg.Pool, fn: (tx: pg.PoolClient) => Promise<T>): Promise<T> {
  return inTransaction(pool, async (tx) => {
    await tx.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY');
    return fn(tx);
  });
}

/** The rows of one query, typed by the caller (the SQL names the columns). */
export async function rows<T>(exec: PgExec, text: string, values: unknown[] = []): Promise<T[]> {
  const result = await exec.query(text, values);
  return result.rows as T[];
}

/** The first row of one query, or undefined. */
export async function row<T>(exec: PgExec, text: string, values: unknown[] = []): Promise<T | undefined> {
  return (await rows<T>(exec, text, values))[0];
}
