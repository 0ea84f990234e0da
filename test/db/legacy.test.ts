import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { emailHash } from '../../src/core/contacts/email-hash.js';
import { openDb } from '../../src/db/client.js';
import { upgradeDatabase } from '../../src/db/legacy.js';
import { tempDir, testClock } from '../helpers.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** The seed's CREATE TABLE, before batch_id existed. */
const seedSchema = `CREATE TABLE contacts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    email TEXT UNIQUE NOT NULL,
    name TEXT,
    company TEXT,
    position TEXT,
    source TEXT,
    status TEXT DEFAULT 'active',
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
);`;

function seedDb(path: string) {
  const db = new Database(path);
  db.exec(seedSchema);
  db.exec(
    `CREATE TABLE campaigns_old (id INTEGER PRIMARY KEY, title TEXT); INSERT INTO campaigns_old VALUES (1, 'kept');`,
  );
  const ins = db.prepare(
    'INSERT INTO contacts (email, name, company, position, source, status, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
  );
  ins.run('Ana@X.com', 'Ana', null, 'CEO', 'csv', 'active', '2023-01-02 10:00:00');
  ins.run('ana@x.com', '', 'Acme', null, null, 'active', '2023-02-01 10:00:00');
  ins.run(' ANA@x.com ', 'Ana S.', 'Other', 'CTO', null, 'unsubscribed', '2023-03-01 10:00:00');
  ins.run('bruno@y.com', 'Bruno', 'Beta', null, null, 'active', '2023-01-05 09:00:00');
  ins.run('Bruno@Y.com', null, null, 'Sales', null, 'bounced', '2023-01-06 09:00:00');
  ins.run('carla@z.com', 'Carla', null, null, null, 'weird', '2023-01-07 09:00:00');
  ins.run('   ', 'No Email', null, null, null, 'active', '2023-01-08 09:00:00');
  ins.run('dora@w.com', 'Dora', null, null, null, null, '2023-01-09 09:00:00');
  db.close();
}

describe('npm run migrate: the seed schema upgrade', () => {
  const cleanups: (() => void)[] = [];
  afterEach(() => {
    for (const c of cleanups.splice(0)) c();
  });

  it('moves contacts into an inactive legacy batch, merging case variants, and changes nothing the second time', () => {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const path = join(dir, 'old.db');
    seedDb(path);
    const db = openDb(path);
    const clock = testClock();
    const s = upgradeDatabase(db, clock);
    expect(s).toMatchObject({
      legacyFound: true,
      contactsRead: 8,
      contactsMoved: 4,
      duplicatesMerged: 3,
      skippedNoEmail: 1,
      unknownStatuses: 1,
      suppressed: 2,
      integrity: 'ok',
      foreignKeyProblems: 0,
    });
    expect(s.batches).toHaveLength(1);
    const batch = db.$client.prepare('SELECT * FROM batches').get() as Record<string, unknown>;
    expect(batch).toMatchObject({
      source: 'legacy',
      status: 'inactive',
      created_by: 'system',
      contact_count: 4,
    });
    const contacts = db.$client
      .prepare('SELECT email, name, company, position, status, created_at FROM contacts ORDER BY email')
      .all();
    expect(contacts).toEqual([
      {
        email: 'ana@x.com',
        name: 'Ana',
        company: 'Acme',
        position: 'CEO',
        status: 'unsubscribed',
        created_at: Date.UTC(2023, 0, 2, 10),
      },
      {
        email: 'bruno@y.com',
        name: 'Bruno',
        company: 'Beta',
        position: 'Sales',
        status: 'bounced',
        created_at: Date.UTC(2023, 0, 5, 9),
      },
      {
        email: 'carla@z.com',
        name: 'Carla',
        company: null,
        position: null,
        status: 'inactive',
        created_at: Date.UTC(2023, 0, 7, 9),
      },
      {
        email: 'dora@w.com',
        name: 'Dora',
        company: null,
        position: null,
        status: 'active',
        created_at: Date.UTC(2023, 0, 9, 9),
      },
    ]);
    const hash = db.$client.prepare(`SELECT email_hash FROM contacts WHERE email = 'ana@x.com'`).get() as {
      email_hash: Buffer;
    };
    expect(hash.email_hash.equals(emailHash('ana@x.com'))).toBe(true);
    expect(db.$client.prepare('SELECT count(*) AS n FROM suppressions').get()).toEqual({ n: 2 });
    expect(db.$client.prepare('SELECT title FROM campaigns_old').get()).toEqual({ title: 'kept' });

    const counts = () =>
      db.$client
        .prepare('SELECT (SELECT count(*) FROM contacts) AS c, (SELECT count(*) FROM batches) AS b')
        .get();
    const before = counts();
    const again = upgradeDatabase(db, clock);
    expect(again).toMatchObject({ legacyFound: false, contactsMoved: 0, integrity: 'ok' });
    expect(counts()).toEqual(before);
    db.$client.close();
  });

  it('groups an old batch_id column into one batch per value', () => {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const path = join(dir, 'mid.db');
    const raw = new Database(path);
    raw.exec(
      seedSchema.replace(
        "status TEXT DEFAULT 'active',",
        "status TEXT DEFAULT 'active',\n    batch_id TEXT,",
      ),
    );
    const ins = raw.prepare('INSERT INTO contacts (email, batch_id) VALUES (?, ?)');
    ins.run('a@x.com', 'batch_aaaa1111_1700000000');
    ins.run('b@x.com', 'batch_aaaa1111_1700000000');
    ins.run('c@x.com', null);
    raw.close();
    const db = openDb(path);
    const s = upgradeDatabase(db, testClock());
    expect(Object.fromEntries(s.batches.map((b) => [b.name, b.contacts]))).toEqual({
      legacy: 1,
      'legacy batch_aaaa1111_1700000000': 2,
    });
    db.$client.close();
  });

  it('the CLI prints the summary, exits 0, and says "already up to date" the second time', () => {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const path = join(dir, 'cli.db');
    seedDb(path);
    const run = () =>
      spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/migrate.ts'], {
        cwd: root,
        env: { ...process.env, DATABASE_PATH: path },
        encoding: 'utf8',
        timeout: 60_000,
      });
    const first = run();
    expect(first.status).toBe(0);
    expect(first.stdout).toMatch(/8 rows read, 4 contacts moved, 3 duplicates merged/);
    expect(first.stdout).toMatch(/integrity_check: ok; foreign_key_check: 0 problems/);
    const second = run();
    expect(second.status).toBe(0);
    expect(second.stdout).toMatch(/already up to date, nothing changed/);
  });
});
