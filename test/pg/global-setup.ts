import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { migratePg, openPg } from '../../src/db/pg/client.js';
import { startEmbeddedPostgres } from './embedded.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A Postgres server for the run (embedded, or COLDBATCH_TEST_PG_URL), with `coldbatch_template` migrated. */
    pgUrl: string;
  }
}

export const templateDb = 'coldbatch_template';

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

/**
 * One real PostgreSQL for the whole test run, from the npm-packaged binaries (no Docker): started
 * once, a migrated template database made in it, each test's database copied from the template
 * (test/pg/pg.ts). As root, Postgres runs as the `postgres` user, which owns the data folder.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  let stop = async () => {};
  let url = process.env.COLDBATCH_TEST_PG_URL;
  if (!url) {
    const server = await startEmbeddedPostgres({
      initdbFlags: ['--no-sync'],
      // A test server: durability is not what is tested; these keep the 2-core machine fast.
      postgresFlags: [
        '-c',
        'fsync=off',
        '-c',
        'synchronous_commit=off',
        '-c',
        'full_page_writes=off',
        '-c',
        'max_connections=300',
      ],
    });
    url = server.url('postgres');
    stop = server.stop;
  }
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${templateDb}`);
  await admin.query(`CREATE DATABASE ${templateDb}`);
  await admin.end();
  const db = openPg(withDatabase(url, templateDb), { max: 1 });
  await migratePg(db);
  await db.$client.end();
  project.provide('pgUrl', url);
  return stop;
}
