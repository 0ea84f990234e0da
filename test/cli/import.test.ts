import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir, testCore, waitFor } from '../helpers.js';
import { root, runCli } from './run-cli.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

function workspace() {
  const { dir, cleanup } = tempDir();
  cleanups.push(cleanup);
  return { dir, databasePath: join(dir, 'data', 'cli.db') };
}

function batchesOf(databasePath: string) {
  const db = new Database(databasePath, { readonly: true });
  try {
    return db
      .prepare('SELECT name, status, created_by AS createdBy, contact_count AS contacts FROM batches')
      .all();
  } finally {
    db.close();
  }
}

describe('npm run import', () => {
  it('--help prints the usage and exits 0 (it was a TypeError)', async () => {
    const r = await runCli('import', ['--help'], { DATABASE_PATH: workspace().databasePath });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /^Usage: npm run import -- <file\.csv> \[--name NAME\] \[--no-activate\] \[--force\]/,
    );
    expect(r.stdout).toContain('--no-activate');
  });

  it('bad input (no file, an unknown option, two files) exits 2 with the problem and the usage', async () => {
    const { databasePath } = workspace();
    const cases: [string[], RegExp][] = [
      [[], /^Give the CSV file to import\./],
      [['--bogus', 'x.csv'], /^Unknown option '--bogus'\./],
      [['a.csv', 'b.csv'], /^One file at a time/],
      [['--name'], /^Option '--name <value>' argument missing\./],
    ];
    const runs = await Promise.all(
      cases.map(([args]) => runCli('import', args, { DATABASE_PATH: databasePath })),
    );
    for (const [i, [args, problem]] of cases.entries()) {
      const r = runs[i]!;
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(problem);
      expect(r.stderr).toContain('Usage: npm run import --');
      expect(r.stdout).toBe('');
    }
  });

  it('reads a relative path from the directory npm was run in (INIT_CWD), not the repository root', async () => {
    const { dir, databasePath } = workspace();
    mkdirSync(join(dir, 'leads'));
    copyFileSync(join(root, 'examples/contacts.csv'), join(dir, 'leads', 'march.csv'));
    // Through npm itself, started in the caller's folder (npm sets INIT_CWD, runs in the package root).
    const r = await runCli(
      'import',
      ['run', '-s', 'import', '--', 'march.csv', '--name', 'March leads'],
      {
        DATABASE_PATH: databasePath,
      },
      { cwd: join(dir, 'leads'), command: ['npm', '--prefix', root] },
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Imported 12 contacts into batch_[0-9a-f]{8}_\d+ \(active\) from 12 rows/);
    expect(batchesOf(databasePath)).toEqual([
      { name: 'March leads', status: 'active', createdBy: 'cli', contacts: 12 },
    ]);
  });

  it('a file that is not there exits 2 naming the full path it looked at, and creates nothing', async () => {
    const { dir, databasePath } = workspace();
    const r = await runCli('import', ['nothing.csv'], { DATABASE_PATH: databasePath, INIT_CWD: dir });
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n')[0]).toBe(`No file at ${join(dir, 'nothing.csv')}.`);
    expect(existsSync(databasePath)).toBe(false);
  });
});

describe('npm run import beside the running app', () => {
  it("leaves the app's import under way alone (its start-up sweep used to delete it)", async () => {
    const core = testCore();
    cleanups.push(core.cleanup);
    let release: () => void = () => {};
    const held = new Promise<void>((r) => {
      release = r;
    });
    // More than the 64 KB the importer reads before it starts the batch, then it waits.
    const first = Array.from({ length: 3000 }, (_, i) => `lead${i}@acme.test,Lead ${i}`).join('\n');
    async function* slowUpload() {
      yield Buffer.from(`email,name\n${first}\n`);
      await held;
      yield Buffer.from('bruno@acme.test,Bruno\n');
    }
    const appImport = core.services.imports.importFile({
      source: slowUpload(),
      fileName: 'slow.csv',
      origin: 'api',
      actor: 'test',
    });
    await waitFor(async () => (await core.services.batches.listImporting()).length === 1);
    const r = await runCli('import', [join(root, 'examples/contacts.csv')], { DATABASE_PATH: core.path });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    release();
    const done = await appImport;
    expect(done.report.imported).toBe(3001);
    expect(batchesOf(core.path)).toEqual(
      expect.arrayContaining([
        { name: 'contacts.csv', status: 'inactive', createdBy: 'cli', contacts: 12 },
        { name: 'slow.csv', status: 'active', createdBy: 'test', contacts: 3001 },
      ]),
    );
  });
});
