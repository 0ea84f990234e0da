import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import { openPg, type PgDb } from '../../src/db/pg/client.js';

const templateDb = 'coldbatch_template';

/** The URL of a database `name` on the run's Postgres server. */
export function pgDatabaseUrl(name: string): string {
  const u = new URL(inject('pgUrl'));
  u.pathname = `/${name}`;
  return u.toString();
}

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: inject('pgUrl') });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/**
 * A database of its own for one test, migrated (copied from the run's template), on the run's
 * real Postgres server: `db` (a pool) and `url`; `drop` closes the pool and drops it.
 */
export async function freshPg(
  options: { max?: number; migrated?: boolean; encoding?: 'SQL_ASCII' } = {},
): Promise<{
  db: PgDb;
  url: string;
  name: string;
  drop: () => Promise<void>;
}> {
  const name = `cb_${randomBytes(6).toString('hex')}`;
  await admin((c) =>
    c.query(
      options.encoding
        ? `CREATE DATABASE ${name} ENCODING '${options.encoding}' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0`
        : options.migrated === false
          ? `CREATE DATABASE ${name}`
          : `CREATE DATABASE ${name} TEMPLATE ${templateDb}`,
    ),
  );
  const url = pgDatabaseUrl(name);
  const db = openPg(url, { max: options.max ?? 5 });
  return {
    db,
    url,
    name,
    drop: async () => {
      await db.$client.end();
      await admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    },
  };
}

/**
 * freshPg for synchronous callers (testCore): the database is created by a short child process,
 * so the pool can be handed out at once. `drop` ends the pool and drops the database (async; the
 * server and its databases go at the end of the run anyway).
 */
export function freshPgSync(options: { max?: number } = {}): {
  db: PgDb;
  url: string;
  drop: () => Promise<void>;
} {
  const name = `cb_${randomBytes(6).toString('hex')}`;
  const script = `import pg from 'pg';
    const c = new pg.Client({ connectionString: process.env.PG_ADMIN_URL });
    await c.connect();
    await c.query('CREATE DATABASE ${name} TEMPLATE ${templateDb}');
    await c.end();`;
  execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    env: { ...process.env, PG_ADMIN_URL: inject('pgUrl') },
    cwd: process.cwd(),
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = pgDatabaseUrl(name);
  const db = openPg(url, { max: options.max ?? 5 });
  return {
    db,
    url,
    drop: async () => {
      await db.$client.end();
      await admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    },
  };
}
