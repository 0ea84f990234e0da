import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { seedContactsSchema, tempDir } from '../helpers.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

const seedSchema = seedContactsSchema;

/** `npm run migrate` as a child process against DATABASE_PATH. */
function migrate(databasePath: string) {
  const run = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/migrate.ts'], {
    cwd: root,
    env: { ...process.env, DATABASE_PATH: databasePath, LOG_LEVEL: 'warn' },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

describe('npm run migrate', () => {
  const cleanups: (() => void)[] = [];
  afterEach(() => {
    for (const c of cleanups.splice(0)) c();
  });
  /** A database path in a fresh temp dir (in a folder that does not exist yet unless seeded). */
  const dbPath = (seed?: string) => {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const path = join(dir, 'data', 'coldbatch.db');
    if (seed) {
      mkdirSync(dirname(path));
      const db = new Database(path);
      db.exec(seed);
      db.close();
    }
    return path;
  };

  it('upgrades an old database, prints the counts, and says "already up to date" the second time', () => {
    const path = dbPath(`${seedSchema}
      INSERT INTO contacts (email, status, created_at) VALUES
        ('Ana@X.com', 'active', '2023-01-02 10:00:00'), ('ana@x.com ', 'bounced', '2023-02-01 10:00:00'),
        (' ANA@x.com', 'active', '2023-03-01 10:00:00'), ('bo@y.com', 'unsubscribed', '2023-01-03 10:00:00'),
        ('', 'active', '2023-01-04 10:00:00');`);
    const first = migrate(path);
    expect(first.stderr).toBe('');
    expect(first.status).toBe(0);
    expect(first.stdout).toContain(
      '5 rows read, 2 contacts moved, 2 duplicates merged (case variants included), 1 rows without e-mail skipped',
    );
    expect(first.stdout).toContain('2 bounced/unsubscribed addresses suppressed');
    expect(first.stdout).toMatch(
      /Batch batch_[0-9a-f]{8}_\d+ \(legacy\): 2 contacts, inactive.*\/batches activate batch_/,
    );
    expect(first.stdout).toContain('integrity_check: ok; foreign_key_check: 0 problems.');

    const second = migrate(path);
    expect(second.status).toBe(0);
    expect(second.stdout).toContain('Database already up to date, nothing changed.');
    const db = new Database(path);
    expect(db.prepare('SELECT count(*) AS n FROM contacts').get()).toEqual({ n: 2 });
    expect(db.prepare('SELECT count(*) AS n FROM batches').get()).toEqual({ n: 1 });
    db.close();
  });

  it('creates and migrates a fresh database', () => {
    const first = migrate(dbPath());
    expect(first.status).toBe(0);
    expect(first.stdout).toMatch(/Applied \d+ migrations\./);
  });

  it('exits 1 with one line saying why, and changes nothing, when something is in the way', () => {
    const path = dbPath(`${seedSchema} CREATE VIEW batches AS SELECT 1 AS id;`);
    const run = migrate(path);
    expect(run.status).toBe(1);
    expect(run.stderr.trim().split('\n')).toEqual([
      "npm run migrate failed, nothing was changed: view batches is in the way of coldbatch's table batches",
    ]);
    const db = new Database(path);
    expect(db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`).all()).toEqual([
      { name: 'contacts' },
      { name: 'sqlite_sequence' },
    ]);
    db.close();
  });
});
