/**
 * `npm run db:copy`'s copy (src/db/copy-to-pg.ts): a SQLite database filled through the services
 * is copied into a fresh Postgres, and the Postgres stores then give the same answers as the
 * SQLite ones; a non-empty target, a missing file, an old or not-migrated schema are refused.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createServices, type Services } from '../../src/core/index.js';
import type { Stores } from '../../src/core/stores.js';
import { migrateDb, openDb } from '../../src/db/client.js';
import { copyPlan } from '../../src/db/copy-plan.js';
import { CopyRefusal, copySqliteToPg } from '../../src/db/copy-to-pg.js';
import { rows } from '../../src/db/pg/client.js';
import { pgStores } from '../../src/db/pg/stores.js';
import { sqliteStores } from '../../src/db/sqlite/stores.js';
import { createLogger } from '../../src/logger.js';
import { createMailer } from '../../src/mail/index.js';
import { importText, seedContactsSchema, tempDir } from '../helpers.js';
import { freshPg } from '../pg/pg.js';
import { buildScenario, countsOf, pgRows, type Scenario, sqliteRows } from './copy-scenario.js';

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function target(options: { migrated?: boolean } = {}) {
  const pg = await freshPg(options);
  cleanups.push(pg.drop);
  return pg;
}

async function scenario(): Promise<Scenario> {
  const s = await buildScenario();
  cleanups.push(s.core.cleanup);
  return s;
}

/** The services over other stores, with the scenario's clock and the same configuration. */
function servicesOver(stores: Stores, sc: Scenario): Services {
  const { dir, cleanup } = tempDir();
  cleanups.push(cleanup);
  const log = createLogger('silent');
  const config = loadConfig({
    MAIL_FROM: 'Sales <sales@coldbatch.test>',
    MAIL_POSTAL_ADDRESS: 'Rua Exemplo 100, São Paulo, Brasil',
    PUBLIC_URL: 'https://coldbatch.test',
    MAIL_OUTBOX_DIR: join(dir, 'outbox'),
    DATABASE_PATH: join(dir, 'unused.db'),
    BACKUP_DIR: join(dir, 'backups'),
    VALIDATE_ON_IMPORT: 'false',
  });
  return createServices(
    { log, clock: sc.clock },
    stores,
    config,
    createMailer({ outboxDir: config.mail.outboxDir, log }),
  );
}

/** What people see, read through the services: the same on both databases after the copy. */
async function outcomes(stores: Stores, sc: Scenario) {
  const s = servicesOver(stores, sc);
  const parts: string[] = [];
  for await (const part of s.contacts.exportSuppressions()) parts.push(Buffer.from(part).toString());
  const [header, ...entries] = parts.join('').split('\r\n').filter(Boolean);
  return {
    batches: await s.batches.list({}),
    oldBatch: await s.batches.get(sc.oldBatchId),
    batchEvents: await s.batches.events(sc.batchId),
    statusCounts: await s.batches.statusCounts(sc.batchId),
    records: await Promise.all(sc.contactIds.map((id) => stores.contacts.find(id))),
    contacts: await Promise.all(sc.contactIds.map((id) => s.contacts.get(id).catch((e: Error) => e.message))),
    history: await Promise.all(
      sc.contactIds.map((id) => s.contacts.history(id).catch((e: Error) => e.message)),
    ),
    campaign: await s.campaigns.get(sc.campaignId),
    draft: await s.campaigns.get(sc.draftId),
    figures: await s.campaigns.counts(sc.campaignId),
    campaignHistory: await s.campaigns.history(sc.campaignId),
    campaigns: await s.campaigns.list({}),
    people: await s.sequences.people(sc.campaignId, {}),
    // The export's header and rows, in hash order (Postgres lists the entries in another order).
    suppressions: [header, ...entries.sort()],
    domainRules: await s.domainSuppressions.list(),
    scheduled: await s.scheduledActivations.listPending(),
    unsubscribeTarget: await s.unsubscribe.inspect(sc.anaToken),
  };
}

describe('db:copy (copySqliteToPg)', () => {
  it('copies every row of every table; the Postgres stores answer as the SQLite ones', async () => {
    const sc = await scenario();
    const pg = await target();
    const before = sqliteRows(sc.sqlite);
    // Every table has rows, so the comparison below covers each one.
    expect(Object.entries(countsOf(before)).filter(([, n]) => n === 0)).toEqual([]);
    expect(Object.keys(before)).toHaveLength(20);

    const sqliteSide = await outcomes(sqliteStores(sc.core.db), sc);
    const report = await copySqliteToPg({ sqlitePath: sc.core.path, pg: pg.db, chunkRows: 2 });

    expect(report.matches).toBe(true);
    expect(report.committed).toBe(true);
    expect(report.tables.map((t) => t.table)).toEqual(copyPlan().tables.map((t) => t.name));
    for (const t of report.tables) expect(t.postgres, t.table).toBe(before[t.table]!.length);
    // Row for row, column for column: ids, timestamps, booleans, hashes, JSON text.
    expect(await pgRows(pg.db.$client)).toEqual(before);

    const pgSide = await outcomes(pgStores(pg.db), sc);
    expect(pgSide.unsubscribeTarget).not.toBeNull();
    expect(pgSide.figures.sent).toBeGreaterThan(0);
    expect(pgSide.people.people.length).toBeGreaterThan(0);
    // The header, then bruno (unsubscribed), carla (the domain rule), dan (bounced), frank (deleted).
    expect(pgSide.suppressions).toHaveLength(5);
    expect(pgSide).toEqual(sqliteSide);
  });

  it('keeps the unsubscribe key: an old link unsubscribes on Postgres', async () => {
    const sc = await scenario();
    const pg = await target();
    await copySqliteToPg({ sqlitePath: sc.core.path, pg: pg.db });
    const stores = pgStores(pg.db);
    expect(await stores.settings.getOrCreate('unsubscribe_secret', 'another key')).toBe(sc.unsubscribeKey);
    const s = servicesOver(stores, sc);
    expect(await s.unsubscribe.unsubscribe(sc.anaToken)).toBe(true);
    const ana = await s.contacts.get(sc.contactIds[2]!);
    expect(ana.email).toBe('ana@acme.com');
    expect(ana.status).toBe('unsubscribed');
  });

  it('resets the sequences: new rows on Postgres get fresh ids, past every id SQLite gave', async () => {
    const sc = await scenario();
    const pg = await target();
    await copySqliteToPg({ sqlitePath: sc.core.path, pg: pg.db });
    const maxId = (t: string) =>
      rows<{ n: number }>(pg.db.$client, `SELECT coalesce(max(id), 0) AS n FROM ${t}`).then((r) => r[0]!.n);
    const [contacts, history, events] = [
      await maxId('contacts'),
      await maxId('contact_history'),
      await maxId('batch_events'),
    ];
    // The deleted contact had the highest id: SQLite's AUTOINCREMENT never gives it again, nor does Postgres.
    expect(sc.deletedId).toBeGreaterThan(contacts);

    const s = servicesOver(pgStores(pg.db), sc);
    const r = await importText(s, 'email\nnew1@z.com\nnew2@z.com\n', { fileName: 'new.csv' });
    expect(r.kind).toBe('imported');
    const fresh = await rows<{ id: number }>(
      pg.db.$client,
      `SELECT id FROM contacts WHERE email LIKE 'new%' ORDER BY id`,
    );
    expect(fresh.map((c) => c.id)).toEqual([sc.deletedId + 1, sc.deletedId + 2]);
    expect(await maxId('batch_events')).toBeGreaterThan(events);
    await s.contacts.setStatus(fresh[0]!.id, 'inactive', 'U1');
    expect(await maxId('contact_history')).toBeGreaterThan(history);
  });

  it('reads one snapshot: what the app writes during the copy is not half in it', async () => {
    const sc = await scenario();
    const pg = await target();
    const before = sqliteRows(sc.sqlite);
    const report = await copySqliteToPg({
      sqlitePath: sc.core.path,
      pg: pg.db,
      chunkRows: 1,
      onTable: (table) => {
        // The live app goes on writing (another connection) while the copy is under way.
        if (table === 'processed_events') {
          sc.sqlite.exec(`INSERT INTO processed_events (event_id, at) VALUES ('Ev-late', 1)`);
          sc.sqlite.exec(`DELETE FROM sequence_people`);
        }
      },
    });
    expect(report.matches).toBe(true);
    expect(await pgRows(pg.db.$client)).toEqual(before);
    expect(sqliteRows(sc.sqlite).sequence_people).toEqual([]);
  });

  it('refuses a second copy into the same database, changing nothing', async () => {
    const sc = await scenario();
    const pg = await target();
    await copySqliteToPg({ sqlitePath: sc.core.path, pg: pg.db });
    const copied = await pgRows(pg.db.$client);
    const second = copySqliteToPg({ sqlitePath: sc.core.path, pg: pg.db });
    await expect(second).rejects.toBeInstanceOf(CopyRefusal);
    await expect(second).rejects.toThrow(
      /not empty: .*batches has 2 rows, .*contacts has 7 rows.*Nothing was changed/,
    );
    expect(await pgRows(pg.db.$client)).toEqual(copied);
  });

  it('refuses a target with a single row anywhere, naming the table', async () => {
    const sc = await scenario();
    const pg = await target();
    await pg.db.$client.query(`INSERT INTO settings (key, value) VALUES ('unsubscribe_secret', 'other')`);
    await expect(copySqliteToPg({ sqlitePath: sc.core.path, pg: pg.db })).rejects.toThrow(
      'The target Postgres database is not empty: settings has 1 row.',
    );
    const counts = countsOf(await pgRows(pg.db.$client));
    expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(1);
  });

  it.runIf(copyPlan().postgresOnly.includes('task_runs'))(
    'counts the Postgres-only tables too: a database an instance already ran on is not empty',
    async () => {
      const sc = await scenario();
      const pg = await target();
      await pg.db.$client.query(
        `INSERT INTO task_runs (name, period, instance, at) VALUES ('sweep', 1, 'i1', 1)`,
      );
      await expect(copySqliteToPg({ sqlitePath: sc.core.path, pg: pg.db })).rejects.toThrow(
        'The target Postgres database is not empty: task_runs has 1 row.',
      );
      expect(Object.values(countsOf(await pgRows(pg.db.$client))).every((n) => n === 0)).toBe(true);
    },
  );

  it('migrates an empty database first', async () => {
    const sc = await scenario();
    const pg = await target({ migrated: false });
    const report = await copySqliteToPg({ sqlitePath: sc.core.path, pg: pg.db });
    expect(report.matches).toBe(true);
    expect(await pgRows(pg.db.$client)).toEqual(sqliteRows(sc.sqlite));
  });

  it('refuses a missing file, an old-schema file, a not-migrated one, and a file that is not a database', async () => {
    const pg = await target();
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const copy = (path: string) => copySqliteToPg({ sqlitePath: path, pg: pg.db });

    const missing = join(dir, 'nope.db');
    await expect(copy(missing)).rejects.toThrow(`DATABASE_PATH ${missing} does not exist`);

    const legacy = join(dir, 'legacy.db');
    const l = new Database(legacy);
    l.exec(seedContactsSchema);
    l.close();
    await expect(copy(legacy)).rejects.toThrow(/has the old contacts schema: run npm run migrate first/);

    const behind = join(dir, 'behind.db');
    const b = openDb(behind);
    migrateDb(b);
    b.$client.exec(
      'DELETE FROM __drizzle_migrations WHERE created_at = (SELECT max(created_at) FROM __drizzle_migrations)',
    );
    b.$client.close();
    await expect(copy(behind)).rejects.toThrow(
      /has 1 migration\(s\) not applied yet: run npm run migrate first/,
    );

    const junk = join(dir, 'junk.db');
    writeFileSync(junk, 'not a database at all, just text '.repeat(200));
    await expect(copy(junk)).rejects.toThrow(/cannot be read as a SQLite database/);

    // Nothing of it reached the target.
    expect(Object.values(countsOf(await pgRows(pg.db.$client))).every((n) => n === 0)).toBe(true);
  });
});
