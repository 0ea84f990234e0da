/**
 * `npm run db:copy` as a child process: the copy with its table of counts and verdict, and every
 * refusal with its exit code and one clear line (bad input 2, refusals 1).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { buildScenario, pgRows, sqliteRows } from '../db/copy-scenario.js';
import { seedContactsSchema, tempDir } from '../helpers.js';
import { freshPg, pgDatabaseUrl } from '../pg/pg.js';
import { runCli } from './run-cli.js';

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const dbCopy = (args: string[], databasePath: string) =>
  runCli('db-copy', args, { DATABASE_PATH: databasePath, DATABASE_URL: '' });

describe('npm run db:copy', () => {
  it('copies a live SQLite database, prints one line per table and the verdict, exit 0; a second run is refused', async () => {
    const sc = await buildScenario();
    cleanups.push(sc.core.cleanup);
    const pg = await freshPg({ migrated: false });
    cleanups.push(pg.drop);

    const run = await dbCopy(['--to', pg.url], sc.core.path);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const lines = run.stdout.trim().split('\n');
    expect(lines[0]).toBe(`Copying ${sc.core.path} into ${pg.url.replace(/\/\/[^@]*@/, '//')} …`);
    expect(lines[1]).toMatch(/^table\s+sqlite\s+postgres\s+time$/);
    expect(lines.slice(2, -1)).toHaveLength(20);
    expect(run.stdout).toMatch(/\ncontacts\s+7\s+7\s+ok\s+\d+\.\d s\n/);
    expect(run.stdout).toMatch(/\nsettings\s+1\s+1\s+ok\s/);
    expect(lines.at(-1)).toMatch(
      /^All 20 tables match \(\d+ rows copied in \d+\.\d s\)\. Start the app with DATABASE_URL/,
    );
    expect(await pgRows(pg.db.$client)).toEqual(sqliteRows(sc.sqlite));

    const again = await dbCopy(['--to', pg.url], sc.core.path);
    expect(again.code).toBe(1);
    expect(again.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(
        /^The target Postgres database is not empty: batches has 2 rows, .*contacts has 7 rows, .*settings has 1 row, .*Nothing was changed\.$/,
      ),
    ]);
    expect(await pgRows(pg.db.$client)).toEqual(sqliteRows(sc.sqlite));
  });

  it('refuses bad input with the usage (exit 2) and what it cannot use with one line (exit 1)', async () => {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const path = join(dir, 'data', 'coldbatch.db');
    const legacy = join(dir, 'legacy.db');
    const l = new Database(legacy);
    l.exec(seedContactsSchema);
    l.close();
    const pg = await freshPg();
    cleanups.push(pg.drop);

    const [help, bare, noTo, notPg, refused, noDatabase, missing, old] = await Promise.all([
      dbCopy(['--help'], path),
      dbCopy(['postgres://u:secret@127.0.0.1:1/coldbatch'], path),
      dbCopy([], path),
      dbCopy(['--to', 'mysql://root:secret@db/coldbatch'], path),
      dbCopy(['--to', 'postgres://u:secret@127.0.0.1:1/coldbatch'], path),
      dbCopy(['--to', pgDatabaseUrl('no_such_db')], legacy),
      dbCopy(['--to', pg.url], path),
      dbCopy(['--to', pg.url], legacy),
    ]);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: npm run db:copy -- --to postgres:\/\//);

    expect(bare.code).toBe(2);
    expect(bare.stderr).toMatch(/^Give the Postgres URL with --to; nothing else is taken\.\n\nUsage:/);
    expect(bare.stderr).not.toContain('secret');
    expect(noTo.code).toBe(2);
    expect(noTo.stderr).toMatch(
      /^--to is missing: give the Postgres database to copy into\.\n\nUsage: npm run db:copy/,
    );
    expect(notPg.code).toBe(2);
    expect(notPg.stderr).toMatch(
      /^--to must be a Postgres URL like postgres:\/\/.*\(got "mysql:\/\/…@db\/coldbatch"\)/,
    );
    expect(notPg.stderr).not.toContain('secret');

    expect(refused.code).toBe(1);
    expect(refused.stderr.trim()).toBe(
      'Cannot reach Postgres at postgres://127.0.0.1:1/coldbatch: connection refused (is the server running, and is 127.0.0.1:1 the right host and port?).',
    );
    expect(noDatabase.code).toBe(1);
    expect(noDatabase.stderr.trim()).toMatch(
      /database "no_such_db" does not exist\. Create it first \(createdb no_such_db\), then db:copy again\.$/,
    );
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim()).toBe(
      `DATABASE_PATH ${path} does not exist: set it to the SQLite file the app uses.`,
    );
    expect(existsSync(path)).toBe(false); // never created
    expect(old.code).toBe(1);
    expect(old.stderr.trim()).toBe(
      `${legacy} has the old contacts schema: run npm run migrate first (with the app stopped), then db:copy again (it upgrades it in place).`,
    );
    // The refusals wrote nothing into the target.
    expect(Object.values(await pgRows(pg.db.$client)).every((rows) => rows.length === 0)).toBe(true);
  });
});
