import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { emailHash } from '../../src/core/contacts/email-hash.js';
import { type Db, migrateDb, migrationsFolder, openDb } from '../../src/db/client.js';
import {
  legacyTimeMs,
  needsLegacyUpgrade,
  UpgradeError,
  upgradeDatabase,
} from '../../src/db/legacy-upgrade.js';
import { seedContactsSchema, tempDir, testClock } from '../helpers.js';

/** The seed's CREATE TABLE, before batch_id existed. */
const seedSchema = seedContactsSchema;

const migrationCount = (
  JSON.parse(readFileSync(join(migrationsFolder, 'meta/_journal.json'), 'utf8')) as { entries: unknown[] }
).entries.length;

/**
 * An old database: case-variant duplicates, a bounced duplicate of an active contact, an unsubscribed
 * variant, an unknown status, an empty address, a broken timestamp, and the old app's other tables
 * (a `campaigns` table in the way of coldbatch's, a log referencing contacts, a view).
 */
function seedDb(path: string): void {
  const db = new Database(path);
  db.exec(seedSchema);
  db.exec(`
    CREATE INDEX idx_contacts_email ON contacts(email);
    CREATE TABLE campaigns (id INTEGER PRIMARY KEY, name TEXT);
    CREATE TABLE email_logs (id INTEGER PRIMARY KEY, contact_id INTEGER REFERENCES contacts(id),
      campaign_id INTEGER REFERENCES campaigns(id), subject TEXT);
    CREATE VIEW active_contacts AS SELECT email FROM contacts WHERE status = 'active';
    INSERT INTO campaigns VALUES (1, 'Black Friday');`);
  const ins = db.prepare(
    'INSERT INTO contacts (email, name, company, position, source, status, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
  );
  ins.run('Ana@X.com', 'Ana', null, 'CEO', 'csv', 'active', '2023-01-02 10:00:00', '2023-01-02 10:00:00');
  ins.run('ana@x.com', '', 'Acme', null, null, 'active', '2023-02-01 10:00:00', '2023-06-01 08:30:00');
  ins.run(' ANA@x.com', 'Ana S.', 'Other', 'CTO', null, 'unsubscribed', '2023-03-01 10:00:00', null);
  ins.run('bruno@y.com', 'Bruno', 'Beta', null, null, 'active', '2023-01-05 09:00:00', null);
  ins.run('Bruno@Y.com', null, null, 'Sales', null, 'bounced', '2023-01-06 09:00:00', null);
  ins.run('carla@z.com', 'Carla', null, null, null, 'weird', '2023-01-07 09:00:00', null);
  ins.run('   ', 'No Email', null, null, null, 'active', '2023-01-08 09:00:00', null);
  ins.run('dora@w.com', 'Dora', null, null, null, null, 'not a date', null);
  ins.run('eva@v.com', 'Eva', null, null, null, 'Inactive', '2023-01-09 09:00:00', null);
  db.exec(`INSERT INTO email_logs VALUES (1, 2, 1, 'hi ana'), (2, 4, 1, 'hi bruno'), (3, 1, 1, 'again')`);
  db.close();
}

const tableCounts = (db: Db) =>
  Object.fromEntries(
    db.$client
      .prepare<[], { name: string }>(
        `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite%' ORDER BY name`,
      )
      .all()
      .map(({ name }) => [
        name,
        db.$client.prepare<[], { n: number }>(`SELECT count(*) AS n FROM "${name}"`).get()!.n,
      ]),
  );

describe('upgradeDatabase', () => {
  const cleanups: (() => void)[] = [];
  afterEach(() => {
    for (const c of cleanups.splice(0)) c();
  });
  const open = (name: string, seed?: (path: string) => void) => {
    const { dir, cleanup } = tempDir();
    const path = join(dir, name);
    seed?.(path);
    const db = openDb(path);
    cleanups.push(() => {
      db.$client.close();
      cleanup();
    });
    return db;
  };

  it('moves the seed contacts into one inactive legacy batch, merging case variants, and changes nothing the second time', () => {
    const db = open('old.db', seedDb);
    const clock = testClock();
    expect(needsLegacyUpgrade(db)).toBe(true);
    const s = upgradeDatabase(db, { clock });
    expect(needsLegacyUpgrade(db)).toBe(false);
    expect(s).toMatchObject({
      upToDate: false,
      migrationsApplied: migrationCount,
      tablesMovedAside: [{ from: 'campaigns', to: 'legacy_campaigns' }],
      contacts: {
        rowsRead: 9,
        contactsMoved: 5,
        duplicatesMerged: 3,
        skippedNoEmail: 1,
        unknownStatuses: 1,
        suppressed: 2,
        referencesRepointed: 1,
        keptAs: null,
      },
      integrity: 'ok',
      foreignKeyProblems: 0,
      otherForeignKeyProblems: [],
    });
    const sql = db.$client;
    const batch = sql.prepare('SELECT * FROM batches').all();
    expect(batch).toEqual([
      expect.objectContaining({
        id: expect.stringMatching(/^batch_[0-9a-f]{8}_\d+$/),
        name: 'legacy',
        source: 'legacy',
        status: 'inactive',
        created_by: 'system',
        created_at: Date.UTC(2023, 0, 2, 10),
        contact_count: 5,
        activated_at: null,
      }),
    ]);
    const batchId = s.contacts!.batches[0]!.id;
    expect(s.contacts!.batches).toEqual([{ id: batchId, name: 'legacy', contacts: 5 }]);
    expect(sql.prepare('SELECT batch_id, kind, actor, reason, at FROM batch_events').all()).toEqual([
      { batch_id: batchId, kind: 'imported', actor: 'system', reason: 'legacy migration', at: clock.now() },
    ]);

    const contacts = sql
      .prepare<[], Record<string, unknown> & { email_hash: Buffer; email: string }>(
        'SELECT id, email, email_hash, name, company, position, source, status, batch_id, created_at, updated_at FROM contacts ORDER BY id',
      )
      .all();
    for (const c of contacts) expect(c.email_hash.equals(emailHash(c.email))).toBe(true);
    expect(contacts.map(({ email_hash: _, ...c }) => c)).toEqual([
      // Oldest row kept (id 1), empty fields filled from the others, the most restrictive status.
      {
        id: 1,
        email: 'ana@x.com',
        name: 'Ana',
        company: 'Acme',
        position: 'CEO',
        source: 'csv',
        status: 'unsubscribed',
        batch_id: batchId,
        created_at: Date.UTC(2023, 0, 2, 10),
        updated_at: Date.UTC(2023, 5, 1, 8, 30),
      },
      {
        id: 4,
        email: 'bruno@y.com',
        name: 'Bruno',
        company: 'Beta',
        position: 'Sales',
        source: null,
        status: 'bounced',
        batch_id: batchId,
        created_at: Date.UTC(2023, 0, 5, 9),
        updated_at: Date.UTC(2023, 0, 6, 9),
      },
      expect.objectContaining({ id: 6, email: 'carla@z.com', status: 'inactive' }),
      expect.objectContaining({ id: 8, email: 'dora@w.com', status: 'active', created_at: clock.now() }),
      expect.objectContaining({ id: 9, email: 'eva@v.com', status: 'inactive' }),
    ]);
    const suppressions = sql
      .prepare<[], { email_hash: Buffer; reason: string }>('SELECT email_hash, reason FROM suppressions')
      .all()
      .map((r) => ({ hash: r.email_hash.toString('hex'), reason: r.reason }));
    expect(suppressions).toEqual(
      expect.arrayContaining([
        { hash: emailHash('ana@x.com').toString('hex'), reason: 'unsubscribed' },
        { hash: emailHash('bruno@y.com').toString('hex'), reason: 'bounced' },
      ]),
    );
    expect(suppressions).toHaveLength(2);
    expect(
      sql
        .prepare('SELECT contact_id, from_status, to_status, actor FROM contact_history ORDER BY contact_id')
        .all(),
    ).toEqual([
      { contact_id: 1, from_status: 'active', to_status: 'unsubscribed', actor: 'system' },
      { contact_id: 4, from_status: 'active', to_status: 'bounced', actor: 'system' },
      { contact_id: 6, from_status: 'weird', to_status: 'inactive', actor: 'system' },
    ]);

    // The old app's tables are kept: references follow the merge, the campaigns table moved aside.
    expect(sql.prepare('SELECT id, contact_id, campaign_id FROM email_logs ORDER BY id').all()).toEqual([
      { id: 1, contact_id: 1, campaign_id: 1 },
      { id: 2, contact_id: 4, campaign_id: 1 },
      { id: 3, contact_id: 1, campaign_id: 1 },
    ]);
    expect(sql.prepare('SELECT * FROM legacy_campaigns').all()).toEqual([{ id: 1, name: 'Black Friday' }]);
    expect(
      sql.prepare(`SELECT "table" AS t FROM pragma_foreign_key_list('email_logs') ORDER BY id`).all(),
    ).toEqual(expect.arrayContaining([{ t: 'contacts' }, { t: 'legacy_campaigns' }]));
    expect(sql.prepare('SELECT email FROM active_contacts').all()).toEqual([{ email: 'dora@w.com' }]);
    expect(sql.prepare(`SELECT name FROM sqlite_master WHERE name LIKE '%legacy_contacts%'`).all()).toEqual(
      [],
    );
    expect(sql.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(sql.pragma('legacy_alter_table', { simple: true })).toBe(0);
    // New contacts never take an old id, and drizzle's own migrator sees every migration applied.
    expect(sql.prepare(`SELECT seq FROM sqlite_sequence WHERE name = 'contacts'`).get()).toEqual({ seq: 9 });
    const before = tableCounts(db);
    expect(() => migrateDb(db)).not.toThrow();
    expect(tableCounts(db)).toEqual(before);

    const again = upgradeDatabase(db, { clock });
    expect(again).toMatchObject({
      upToDate: true,
      migrationsApplied: 0,
      contacts: null,
      tablesMovedAside: [],
      integrity: 'ok',
    });
    expect(tableCounts(db)).toEqual(before);
  });

  it('records migrations exactly like drizzle does on a fresh database', () => {
    const old = open('old.db', seedDb);
    upgradeDatabase(old, { clock: testClock() });
    const fresh = open('fresh.db');
    migrateDb(fresh);
    const bookkeeping = (db: Db) =>
      db.$client.prepare('SELECT hash, created_at FROM __drizzle_migrations ORDER BY created_at').all();
    expect(bookkeeping(old)).toEqual(bookkeeping(fresh));
    const schema = (db: Db) =>
      db.$client
        .prepare<
          [],
          { type: string; name: string; sql: string | null }
        >(`SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE '%legacy%' AND name NOT IN
          ('email_logs', 'active_contacts', 'idx_contacts_email') ORDER BY name`)
        .all()
        .map((o) => ({ ...o, sql: o.sql?.replace(/\s+/g, '') }));
    // Same objects, same definitions (the migrations table's DDL differs only in whitespace).
    expect(schema(old)).toEqual(schema(fresh));
  });

  it('groups an old batch_id column into one batch per value, NULLs into the legacy batch', () => {
    const db = open('mid.db', (path) => {
      const raw = new Database(path);
      raw.exec(
        seedSchema.replace("status TEXT DEFAULT 'active',", "status TEXT DEFAULT 'active',\n batch_id TEXT,"),
      );
      const ins = raw.prepare('INSERT INTO contacts (email, batch_id, created_at) VALUES (?, ?, ?)');
      ins.run('a@x.com', 'batch_aaaa1111_1700000000', '2023-11-14 22:13:20');
      ins.run('b@x.com', 'batch_aaaa1111_1700000000', '2023-11-14 22:13:20');
      ins.run('B@X.com', null, '2023-12-01 00:00:00');
      ins.run('c@x.com', 'imported by hand', '2023-10-01 00:00:00');
      ins.run('d@x.com', null, '2023-09-01 00:00:00');
      raw.close();
    });
    const s = upgradeDatabase(db, { clock: testClock() });
    expect(s.contacts).toMatchObject({ rowsRead: 5, contactsMoved: 4, duplicatesMerged: 1 });
    const batches = s.contacts!.batches;
    expect(batches.map((b) => [b.name, b.contacts])).toEqual(
      expect.arrayContaining([
        ['legacy batch_aaaa1111_1700000000', 2],
        ['legacy imported by hand', 1],
        ['legacy', 1],
      ]),
    );
    expect(batches).toHaveLength(3);
    // The seed's ids have coldbatch's format: kept as they were.
    expect(batches.find((b) => b.name === 'legacy batch_aaaa1111_1700000000')!.id).toBe(
      'batch_aaaa1111_1700000000',
    );
    const rows = db.$client
      .prepare<[], { id: string; status: string; n: number; actual: number; events: number }>(
        `SELECT b.id, b.status, b.contact_count AS n, (SELECT count(*) FROM contacts c WHERE c.batch_id = b.id) AS actual,
          (SELECT count(*) FROM batch_events e WHERE e.batch_id = b.id AND e.kind = 'imported') AS events
         FROM batches b`,
      )
      .all();
    for (const r of rows) expect(r).toMatchObject({ status: 'inactive', n: r.actual, events: 1 });
    expect(db.$client.prepare(`SELECT batch_id FROM contacts WHERE email = 'b@x.com'`).get()).toEqual({
      batch_id: 'batch_aaaa1111_1700000000',
    });
  });

  it('on a fresh database applies the migrations and nothing else', () => {
    const db = open('fresh.db');
    expect(needsLegacyUpgrade(db)).toBe(false);
    const s = upgradeDatabase(db, { clock: testClock() });
    expect(s).toEqual({
      upToDate: false,
      migrationsApplied: migrationCount,
      contacts: null,
      tablesMovedAside: [],
      integrity: 'ok',
      foreignKeyProblems: 0,
      otherForeignKeyProblems: [],
    });
    expect(db.$client.prepare('SELECT count(*) AS n FROM batches').get()).toEqual({ n: 0 });
    expect(upgradeDatabase(db, { clock: testClock() })).toMatchObject({
      upToDate: true,
      migrationsApplied: 0,
    });
  });

  it('keeps the old table when it has columns coldbatch does not store', () => {
    const db = open('extra.db', (path) => {
      const raw = new Database(path);
      raw.exec(seedSchema.replace('source TEXT,', 'source TEXT, phone TEXT,'));
      raw.prepare(`INSERT INTO contacts (email, phone) VALUES ('a@x.com', '+55 11 5555')`).run();
      raw.close();
    });
    const s = upgradeDatabase(db, { clock: testClock() });
    expect(s.contacts).toMatchObject({ contactsMoved: 1, keptAs: 'legacy_contacts' });
    expect(db.$client.prepare('SELECT email, phone FROM legacy_contacts').all()).toEqual([
      { email: 'a@x.com', phone: '+55 11 5555' },
    ]);
    expect(upgradeDatabase(db, { clock: testClock() }).upToDate).toBe(true);
  });

  it('changes nothing when a step fails half-way, and says what is in the way', () => {
    const db = open('fail.db', (path) => {
      seedDb(path);
      const raw = new Database(path);
      // An old trigger that refuses the re-pointing of email_logs, after contacts were already copied.
      raw.exec(
        `CREATE TRIGGER no_updates BEFORE UPDATE ON email_logs BEGIN SELECT RAISE(ABORT, 'logs are read-only'); END`,
      );
      raw.close();
    });
    const before = tableCounts(db);
    expect(() => upgradeDatabase(db, { clock: testClock() })).toThrow(/logs are read-only/);
    expect(tableCounts(db)).toEqual(before);
    const columns = db.$client.prepare(`SELECT name FROM pragma_table_info('contacts')`).all();
    expect(columns).not.toContainEqual({ name: 'email_hash' });
    expect(db.$client.pragma('foreign_keys', { simple: true })).toBe(1);

    const blocked = open('blocked.db', (path) => {
      const raw = new Database(path);
      raw.exec(`${seedSchema} CREATE VIEW batches AS SELECT 1 AS id;`);
      raw.close();
    });
    expect(() => upgradeDatabase(blocked, { clock: testClock() })).toThrow(UpgradeError);
    expect(() => upgradeDatabase(blocked, { clock: testClock() })).toThrow(/view batches is in the way/);
  });
});

describe('legacyTimeMs', () => {
  it('reads the seed timestamps as UTC and falls back for anything else', () => {
    expect(legacyTimeMs('2023-01-02 10:00:00', 1)).toBe(Date.UTC(2023, 0, 2, 10));
    expect(legacyTimeMs('2023-01-02T10:00:00.123456', 1)).toBe(Date.UTC(2023, 0, 2, 10, 0, 0, 123));
    expect(legacyTimeMs('2023-01-02 10:00:00-03:00', 1)).toBe(Date.UTC(2023, 0, 2, 13));
    expect(legacyTimeMs('2023-01-02', 1)).toBe(Date.UTC(2023, 0, 2));
    expect(legacyTimeMs(1703123456, 1)).toBe(1703123456000);
    expect(legacyTimeMs(1703123456789, 1)).toBe(1703123456789);
    for (const bad of [null, '', 'yesterday', '2023-13-45 99:00:00', 0]) expect(legacyTimeMs(bad, 7)).toBe(7);
  });
});
