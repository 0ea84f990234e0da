import { afterEach, describe, expect, it } from 'vitest';
import type { ActivationChange, ActivationOrder, BatchStore } from '../../../src/core/batches/batch-store.js';
import type { ScheduledActivationStore } from '../../../src/core/batches/scheduled-activation-store.js';
import { emailHash } from '../../../src/core/keys.js';
import type { ReportStore } from '../../../src/core/reports/report-store.js';
import type { WebhookDelivery } from '../../../src/core/webhooks/webhook-store.js';
import { PgBatchStore } from '../../../src/db/pg/batch-store.js';
import { openPg, type PgDb } from '../../../src/db/pg/client.js';
import { PgReportStore } from '../../../src/db/pg/report-store.js';
import { PgScheduledActivationStore } from '../../../src/db/pg/scheduled-activation-store.js';
import { SqliteBatchStore } from '../../../src/db/sqlite/batch-store.js';
import { SqliteReportStore } from '../../../src/db/sqlite/report-store.js';
import { SqliteScheduledActivationStore } from '../../../src/db/sqlite/scheduled-activation-store.js';
import { dialects, openTestDatabase, type Query, type TestDatabase } from '../../pg/dialects.js';
import { someoneWaitsForALock } from '../../pg/locks.js';
import { freshPg } from '../../pg/pg.js';
import { seedAt, seedBatch, seedCampaign, seedContacts } from '../../pg/seed.js';

/** The stores under test, built as db/sqlite/stores.ts and db/pg/stores.ts build them. */
function storesOf(t: TestDatabase): {
  batches: BatchStore;
  schedules: ScheduledActivationStore;
  reports: ReportStore;
} {
  return t.dialect === 'sqlite'
    ? {
        batches: new SqliteBatchStore(t.db),
        schedules: new SqliteScheduledActivationStore(t.db),
        reports: new SqliteReportStore(t.db.$client),
      }
    : {
        batches: new PgBatchStore(t.db),
        schedules: new PgScheduledActivationStore(t.db),
        reports: new PgReportStore(t.db),
      };
}

const b1 = 'batch_00000001_1760000000';
const b2 = 'batch_00000002_1760000000';
const b3 = 'batch_00000003_1760000000';

const change = (at: number, keepReplaced = false): ActivationChange => ({
  actor: 'U1',
  at,
  reason: 'go',
  replacedReason: 'replaced',
  keepReplaced,
});
const delivery = (payload: string, at = seedAt): WebhookDelivery => ({
  event: 'batch.activated',
  url: 'https://hooks.test/a',
  payload,
  createdAt: at,
  nextAttemptAt: at,
});
/** An order whose webhook row names the batch it activated and the one it replaced. */
const order = (id: string, at: number, keepReplaced = false): ActivationOrder => ({
  id,
  change: change(at, keepReplaced),
  webhooks: (done) => [delivery(`${id}<${done.previous ?? '-'}`, at)],
});

async function webhookPayloads(q: Query): Promise<string[]> {
  return (await q<{ payload: string }>('SELECT payload FROM webhook_deliveries ORDER BY id')).map(
    (r) => r.payload,
  );
}

async function events(s: BatchStore, id: string): Promise<string[]> {
  return (await s.listEvents(id)).map((e) => `${e.kind}:${e.reason ?? ''}`);
}

describe.each(dialects)('batch store (%s)', (dialect) => {
  let t: TestDatabase | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it('imports, activates, replaces, deactivates and undoes with the same rows and results', async () => {
    t = await openTestDatabase(dialect);
    const { batches } = storesOf(t);
    await batches.startImport({
      id: b1,
      name: 'a.csv',
      source: 'cli',
      actor: 'U1',
      at: 1000,
      importer: 'h:1:x',
    });
    expect(await batches.listImporting()).toEqual([{ id: b1, importer: 'h:1:x' }]);
    expect((await batches.find(b1))?.status).toBe('importing');
    await expect(
      batches.startImport({ id: b1, name: 'a.csv', source: 'cli', actor: 'U1', at: 1000, importer: 'h:1:x' }),
    ).rejects.toThrow(/unique|duplicate/i);

    const finish = (id: string, at: number) => ({
      id,
      name: `${id}.csv`,
      report: '{"rows":2}',
      sha256: 'f'.repeat(64),
      contactCount: 2,
      actor: 'U1',
      reason: 'imported a file',
      at,
    });
    const seen: unknown[] = [];
    const webhooks = (a: unknown) => {
      seen.push(a);
      return [delivery(`imported@${seen.length}`)];
    };
    expect(await batches.finishImport(finish(b1, 2000), { activate: change(2000), webhooks })).toEqual({
      kind: 'activated',
      name: `${b1}.csv`,
      previous: null,
    });
    await batches.startImport({
      id: b2,
      name: 'b.csv',
      source: 'api',
      actor: 'U2',
      at: 3000,
      importer: 'h:1:y',
    });
    expect(await batches.findByFile('f'.repeat(64), b2)).toEqual({ id: b1, name: `${b1}.csv` });
    expect(await batches.finishImport(finish(b2, 4000), { activate: change(4000, true), webhooks })).toEqual({
      kind: 'activated',
      name: `${b2}.csv`,
      previous: b1,
    });
    expect(seen).toHaveLength(2);
    expect(await webhookPayloads(t.query)).toEqual(['imported@1', 'imported@2']);
    expect(await batches.listImporting()).toEqual([]);

    const two = await batches.find(b2);
    expect(two).toEqual({
      id: b2,
      name: `${b2}.csv`,
      source: 'api',
      status: 'active',
      createdBy: 'U2',
      createdAt: 3000,
      activatedAt: 4000,
      deactivatedAt: null,
      report: '{"rows":2}',
      fileSha256: 'f'.repeat(64),
      contactCount: 2,
      replacedBatchId: b1,
      includeInvalidDomains: false,
      importer: 'h:1:y',
    });
    expect(await batches.findActive()).toEqual(two);
    expect((await batches.find(b1))?.status).toBe('inactive');
    expect(await events(batches, b1)).toEqual([
      'imported:imported a file',
      'activated:go',
      'deactivated:replaced',
    ]);

    // Nothing written unless activated.
    expect(await batches.activate(order(b2, 5000))).toEqual({ kind: 'already_active' });
    expect(await batches.activate(order('batch_nope', 5000))).toEqual({ kind: 'missing' });
    await batches.startImport({
      id: b3,
      name: 'c.csv',
      source: 'slack',
      actor: 'U3',
      at: 5000,
      importer: 'h:1:z',
    });
    expect(await batches.activate(order(b3, 5000))).toEqual({ kind: 'importing' });
    expect(await webhookPayloads(t.query)).toHaveLength(2);

    expect(await batches.activate(order(b1, 6000))).toEqual({
      kind: 'activated',
      name: `${b1}.csv`,
      previous: b2,
    });
    expect((await webhookPayloads(t.query)).at(-1)).toBe(`${b1}<${b2}`);
    expect(await batches.deactivate(b2, { actor: 'U1', reason: 'x', at: 7000 })).toBe('not_active');
    expect(await batches.deactivate('batch_nope', { actor: 'U1', reason: 'x', at: 7000 })).toBe('missing');
    expect(await batches.deactivate(b1, { actor: 'U1', reason: 'pause', at: 7000 })).toBe('deactivated');
    expect(await batches.findActive()).toBeNull();

    // Undo: reactivates the one replaced, or just deactivates.
    await batches.activate(order(b2, 8000));
    const undone = await batches.undoImport(b2, {
      actor: 'U1',
      reason: 'undo',
      at: 9000,
      reactivate: order(b1, 9000),
    });
    expect(undone).toEqual({
      kind: 'undone',
      reactivated: { kind: 'activated', name: `${b1}.csv`, previous: b2 },
    });
    expect(await batches.undoImport(b2, { actor: 'U1', reason: 'undo', at: 9000 })).toEqual({
      kind: 'not_active',
    });
    expect(await batches.undoImport('batch_nope', { actor: 'U1', reason: 'undo', at: 9000 })).toEqual({
      kind: 'missing',
    });
    expect(await batches.undoImport(b1, { actor: 'U1', reason: 'undo', at: 9500 })).toEqual({
      kind: 'undone',
      reactivated: null,
    });
    const b1Row = await batches.find(b1);
    expect([b1Row?.status, b1Row?.deactivatedAt]).toEqual(['inactive', 9500]);
    expect(await events(batches, b2)).toEqual([
      'imported:imported a file',
      'activated:go',
      'deactivated:replaced',
      'activated:go',
      'deactivated:replaced',
    ]);
    // An undo whose batch to reactivate is importing writes nothing.
    await batches.activate(order(b2, 10_000));
    expect(
      await batches.undoImport(b2, {
        actor: 'U1',
        reason: 'undo',
        at: 11_000,
        reactivate: order(b3, 11_000),
      }),
    ).toEqual({ kind: 'undone', reactivated: { kind: 'importing' } });
    expect((await batches.findActive())?.id).toBe(b2);
  });

  it('lists newest first with a cursor, counts contacts, deletes by chunk, flips invalid domains', async () => {
    t = await openTestDatabase(dialect);
    const { batches } = storesOf(t);
    // Ids that sort differently by bytes than by an English collation ('_' vs letters, case).
    const ids = ['batch_a', 'batch_B', 'batch__', 'batch_b'];
    for (const id of ids) await seedBatch(t, id, { status: 'inactive', createdAt: 5000 });
    await seedBatch(t, b1, { status: 'active', createdAt: 9000 });
    const page = (q: Parameters<BatchStore['listNewestFirst']>[0]) =>
      batches.listNewestFirst(q).then((r) => r.map((b) => b.id));
    expect(await page({ limit: 10 })).toEqual([b1, 'batch_b', 'batch_a', 'batch__', 'batch_B']);
    expect(await page({ limit: 2, olderThan: [5000, 'batch_b'] })).toEqual(['batch_a', 'batch__']);
    expect(await page({ limit: 10, olderThan: [9000, b1] })).toEqual([
      'batch_b',
      'batch_a',
      'batch__',
      'batch_B',
    ]);
    expect(await page({ limit: 10, status: 'active' })).toEqual([b1]);

    const [a, , c] = await seedContacts(t, b1, ['a@x.com', 'b@x.com', 'c@x.com', 'd@x.com']);
    await t.query(`UPDATE contacts SET status = 'bounced' WHERE id = $1 OR id = $2`, [a, c]);
    expect(await batches.countContactsByStatus(b1)).toEqual([
      { status: 'active', count: 2 },
      { status: 'bounced', count: 2 },
    ]);
    expect(await batches.deleteContacts(b1, 'inactive', 3)).toEqual({ kind: 'moved', status: 'active' });
    expect(await batches.deleteContacts('batch_nope', 'inactive', 3)).toEqual({
      kind: 'moved',
      status: null,
    });
    expect(await batches.deleteContacts(b1, 'active', 3)).toEqual({ kind: 'deleted', count: 3 });
    const left = await t.query<{ email: string }>('SELECT email FROM contacts');
    expect(left).toEqual([{ email: 'd@x.com' }]);
    expect((await batches.find(b1))?.contactCount).toBe(1);
    expect(await batches.deleteContacts(b1, 'active', 3)).toEqual({ kind: 'deleted', count: 1 });
    expect(await batches.deleteContacts(b1, 'active', 3)).toEqual({ kind: 'deleted', count: 0 });
    expect((await batches.find(b1))?.contactCount).toBe(0);

    const flip = { kind: 'included_invalid_domains', actor: 'U1', reason: 'yes', at: 1 };
    const on = await batches.setIncludeInvalidDomains(b1, true, flip);
    expect([on?.before, on?.row.includeInvalidDomains]).toEqual([false, true]);
    const again = await batches.setIncludeInvalidDomains(b1, true, flip);
    expect([again?.before, again?.row.includeInvalidDomains]).toEqual([true, true]);
    expect(await events(batches, b1)).toEqual(['included_invalid_domains:yes']);
    expect(await batches.setIncludeInvalidDomains('batch_nope', true, flip)).toBeNull();

    await batches.deleteBatch(b1, 'inactive');
    expect(await batches.find(b1)).not.toBeNull();
    await batches.deleteBatch(b1, 'active');
    expect(await batches.find(b1)).toBeNull();
    expect(await t.query('SELECT * FROM batch_events')).toEqual([]);
  });

  it('pages and filters a batch’s contacts with why each is not sendable', async () => {
    t = await openTestDatabase(dialect);
    const { batches } = storesOf(t);
    await seedBatch(t, b1, { status: 'active' });
    await seedBatch(t, b2, { status: 'inactive' });
    const [ana, bo, cy, di] = await seedContacts(t, b1, [
      'ana@acme.com',
      'bo@beta.io',
      'cy@sub.acme.com',
      'di@x_y.com',
    ]);
    await seedContacts(t, b2, ['other@acme.com']);
    await t.query(
      `UPDATE contacts SET company = 'ACME Corp', position = 'Head of 50%', name = 'Ana' WHERE id = $1`,
      [ana],
    );
    await t.query(`UPDATE contacts SET company = 'acme labs', validation = 'no_mail_domain' WHERE id = $1`, [
      bo,
    ]);
    await t.query(`UPDATE contacts SET status = 'inactive', created_at = $2 WHERE id = $1`, [
      cy,
      seedAt + 10,
    ]);
    await t.query(
      `INSERT INTO suppressions (email_hash, reason, actor, created_at) SELECT email_hash, 'manual', 'U9', 77 FROM contacts WHERE id = $1`,
      [di],
    );
    const ids = (filter: Parameters<BatchStore['listContacts']>[1]['filter'], after?: number, limit = 10) =>
      batches.listContacts(b1, { filter, after, limit }).then((r) => r.map((c) => c.id));

    const all = await batches.listContacts(b1, { filter: {}, limit: 10 });
    expect(all.map((c) => [c.email, c.notSendableReason, c.suppressionReason])).toEqual([
      ['ana@acme.com', null, null],
      ['bo@beta.io', 'no_mail_domain', null],
      ['cy@sub.acme.com', 'inactive', null],
      ['di@x_y.com', 'suppressed', 'manual'],
    ]);
    expect(all[0]).toEqual({
      id: ana,
      email: 'ana@acme.com',
      name: 'Ana',
      company: 'ACME Corp',
      position: 'Head of 50%',
      source: null,
      status: 'active',
      batchId: b1,
      interest: null,
      createdAt: seedAt,
      updatedAt: seedAt,
      validation: null,
      notSendableReason: null,
      suppressionReason: null,
      suppressedBy: null,
      suppressedAt: null,
    });
    expect(all[3]).toMatchObject({ suppressedBy: 'U9', suppressedAt: 77 });
    expect(await ids({ company: 'acme' })).toEqual([ana, bo]);
    expect(await ids({ position: '50%' })).toEqual([ana]);
    expect(await ids({ position: '5_%' })).toEqual([]);
    expect(await ids({ domain: 'acme.com' })).toEqual([ana]);
    expect(await ids({ domain: 'x_y.com' })).toEqual([di]);
    expect(await ids({ validation: 'unchecked' })).toEqual([ana, cy, di]);
    expect(await ids({ validation: 'no_mail_domain' })).toEqual([bo]);
    expect(await ids({ status: 'inactive' })).toEqual([cy]);
    expect(await ids({ createdFrom: seedAt + 1 })).toEqual([cy]);
    expect(await ids({ createdTo: seedAt + 10 })).toEqual([ana, bo, di]);
    expect(await ids({ q: '  ANA ' })).toEqual([ana]);
    expect(await ids({ q: 'acme', status: 'active' })).toEqual([ana, bo]);
    expect(await ids({}, ana, 2)).toEqual([bo, cy]);

    // Text filters ignore case and the accents of Latin letters, the same on both databases
    // (Postgres's ILIKE would fold by its locale: Ã only in a UTF-8 one, Д too, SQLite's LIKE neither).
    await t.query(`UPDATE contacts SET company = 'SÃO PAULO LTDA', name = 'José Álvares' WHERE id = $1`, [
      cy,
    ]);
    await t.query(`UPDATE contacts SET company = 'Café Ørsted', position = 'Директор' WHERE id = $1`, [di]);
    expect(await ids({ company: 'são paulo' })).toEqual([cy]);
    expect(await ids({ company: 'sao paulo' })).toEqual([cy]);
    expect(await ids({ company: 'SAO' })).toEqual([cy]);
    expect(await ids({ company: 'cafe ø' })).toEqual([di]); // the filter's text is folded too: ø is o
    expect(await ids({ company: 'CAFÉ ORSTED' })).toEqual([di]);
    expect(await ids({ q: 'jose' })).toEqual([cy]);
    expect(await ids({ q: 'ÁLVARES' })).toEqual([cy]);
    expect(await ids({ q: 'alv_res' })).toEqual([]); // wildcards stay literal
    expect(await ids({ position: 'Директор' })).toEqual([di]);
    expect(await ids({ position: 'директор' })).toEqual([]); // beyond the table: as written
    expect(await ids({ q: 'acme' })).toEqual([ana, bo, cy]); // cy@sub.acme.com

    // The batch inactive: its active contacts are not sendable because of it.
    await t.query(`UPDATE batches SET status = 'inactive' WHERE id = $1`, [b1]);
    expect((await batches.listContacts(b1, { filter: {}, limit: 1 }))[0]?.notSendableReason).toBe(
      'batch_inactive',
    );
  });
});

describe.each(dialects)('scheduled activations (%s)', (dialect) => {
  let t: TestDatabase | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it('schedules, replaces, lists, cancels, applies and fails with the same rows', async () => {
    t = await openTestDatabase(dialect);
    const { batches, schedules } = storesOf(t);
    await seedBatch(t, b1, { status: 'active' });
    await seedBatch(t, b2, { status: 'inactive' });
    await seedBatch(t, b3, { status: 'importing' });
    const close = (at: number, note: string) => ({ at, actor: 'U1', note });
    const first = await schedules.schedule({
      batchId: b2,
      at: 5000,
      actor: 'U1',
      createdAt: 100,
      replaced: close(200, 'x'),
    });
    expect(await schedules.find(first)).toEqual({
      id: first,
      batchId: b2,
      batchName: `${b2}.csv`,
      at: 5000,
      state: 'pending',
      createdBy: 'U1',
      createdAt: 100,
      doneAt: null,
      doneBy: null,
      note: null,
    });
    const second = await schedules.schedule({
      batchId: b2,
      at: 4000,
      actor: 'U2',
      createdAt: 300,
      replaced: close(300, 'replaced by a new schedule'),
    });
    expect(await schedules.find(first)).toMatchObject({
      state: 'cancelled',
      doneAt: 300,
      doneBy: 'U1',
      note: 'replaced by a new schedule',
    });
    expect((await schedules.findPending(b2))?.id).toBe(second);
    expect(await schedules.findPending(b1)).toBeNull();
    const third = await schedules.schedule({
      batchId: b3,
      at: 4000,
      actor: 'U1',
      createdAt: 400,
      replaced: close(400, 'x'),
    });
    const fourth = await schedules.schedule({
      batchId: b1,
      at: 9000,
      actor: 'U1',
      createdAt: 500,
      replaced: close(500, 'x'),
    });
    expect((await schedules.listPending(10)).map((r) => r.id)).toEqual([second, third, fourth]);
    expect((await schedules.listPending(2)).map((r) => r.id)).toEqual([second, third]);
    expect((await schedules.listDue(3999)).map((r) => r.id)).toEqual([]);
    expect((await schedules.listDue(4000)).map((r) => r.id)).toEqual([second, third]);

    // Applied: the batch active (with its events and webhook rows), the row marked applied.
    expect(await schedules.apply(second, order(b2, 4100), { at: 4100, doneBy: 'scheduler' })).toEqual({
      kind: 'activated',
      name: `${b2}.csv`,
      previous: b1,
    });
    expect(await schedules.find(second)).toMatchObject({
      state: 'applied',
      doneAt: 4100,
      doneBy: 'scheduler',
      note: null,
    });
    expect((await batches.findActive())?.id).toBe(b2);
    expect(await webhookPayloads(t.query)).toEqual([`${b2}<${b1}`]);
    expect(await schedules.cancel(second, close(4200, 'late'))).toBe(false);

    // An importing batch: nothing written, the row stays pending until the scheduler fails it.
    expect(await schedules.apply(third, order(b3, 4100), { at: 4100, doneBy: 'scheduler' })).toEqual({
      kind: 'importing',
    });
    expect((await schedules.find(third))?.state).toBe('pending');
    await schedules.fail(third, { at: 4100, actor: 'scheduler', note: 'still importing' });
    expect(await schedules.find(third)).toMatchObject({
      state: 'failed',
      doneBy: 'scheduler',
      note: 'still importing',
    });
    await schedules.fail(third, { at: 4200, actor: 'scheduler', note: 'again' });
    expect((await schedules.find(third))?.note).toBe('still importing');

    // Already active: applied without a second activation.
    const fifth = await schedules.schedule({
      batchId: b2,
      at: 4500,
      actor: 'U1',
      createdAt: 600,
      replaced: close(600, 'x'),
    });
    expect(await schedules.apply(fifth, order(b2, 4600), { at: 4600, doneBy: 'scheduler' })).toEqual({
      kind: 'already_active',
    });
    expect((await schedules.find(fifth))?.state).toBe('applied');
    expect(await webhookPayloads(t.query)).toHaveLength(1);

    expect(await schedules.cancel(fourth, close(700, 'cancelled by U1'))).toBe(true);
    expect(await schedules.cancel(fourth, close(800, 'again'))).toBe(false);
    expect(await schedules.find(fourth)).toMatchObject({
      state: 'cancelled',
      doneAt: 700,
      note: 'cancelled by U1',
    });
    expect(await schedules.listPending(10)).toEqual([]);
    expect(await schedules.find(999)).toBeNull();

    // Its rows go with the batch.
    await t.query('DELETE FROM batches WHERE id = $1', [b3]);
    expect(await schedules.find(third)).toBeNull();
  });
});

/** Two pools on one fresh Postgres database: two app instances sharing it. */
async function twoInstances(): Promise<{ t: TestDatabase; db: PgDb; other: PgDb }> {
  const main = await freshPg();
  const other = openPg(main.url, { max: 5 });
  const query: Query = async <T>(text: string, values: unknown[] = []) =>
    (await main.db.$client.query(text, values)).rows as T[];
  const close = async () => {
    await other.$client.end();
    await main.drop();
  };
  return { t: { dialect: 'postgres', db: main.db, query, close }, db: main.db, other };
}

describe('scheduled activations on Postgres with several instances', () => {
  let t: TestDatabase | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it('applies each due activation once when two instances apply it at the same moment', async () => {
    const two = await twoInstances();
    t = two.t;
    const here = new PgScheduledActivationStore(two.db);
    const there = new PgScheduledActivationStore(two.other);
    const ids = [b1, b2, b3, 'batch_00000004_1760000000', 'batch_00000005_1760000000'];
    for (const id of ids) await seedBatch(t, id, { status: 'inactive' });
    for (const [i, id] of ids.entries()) {
      const s = await here.schedule({
        batchId: id,
        at: 1000 + i,
        actor: 'U1',
        createdAt: 1,
        replaced: { at: 1, actor: 'U1', note: null },
      });
      // Both instances list the same due row and apply it at once.
      const [due] = await here.listDue(5000);
      expect(due?.id).toBe(s);
      const results = await Promise.all(
        [here, there].map((store) =>
          store.apply(s, order(id, 5000 + i), { at: 5000 + i, doneBy: 'scheduler' }),
        ),
      );
      expect(results.map((r) => r.kind).sort()).toEqual(['activated', 'already_active']);
      expect((await here.find(s))?.state).toBe('applied');
    }
    // One activation per schedule: its event and its webhook row once each.
    const activated = await t.query<{ batch_id: string; n: number }>(
      `SELECT batch_id, count(*) AS n FROM batch_events WHERE kind = 'activated' GROUP BY batch_id ORDER BY batch_id`,
    );
    expect(activated).toEqual(ids.map((id) => ({ batch_id: id, n: 1 })));
    expect(await webhookPayloads(t.query)).toEqual(ids.map((id, i) => `${id}<${i === 0 ? '-' : ids[i - 1]}`));
  });

  it('does not apply an activation another instance is cancelling', async () => {
    const two = await twoInstances();
    t = two.t;
    const store = new PgScheduledActivationStore(two.other);
    await seedBatch(t, b1, { status: 'inactive' });
    const s = await store.schedule({
      batchId: b1,
      at: 1000,
      actor: 'U1',
      createdAt: 1,
      replaced: { at: 1, actor: 'U1', note: null },
    });
    const cancelling = await two.db.$client.connect();
    try {
      await cancelling.query('BEGIN');
      await cancelling.query(
        `UPDATE scheduled_activations SET state = 'cancelled', note = 'by U2' WHERE id = $1`,
        [s],
      );
      const applying = store.apply(s, order(b1, 2000), { at: 2000, doneBy: 'scheduler' });
      await someoneWaitsForALock(t.query);
      await cancelling.query('COMMIT');
      expect(await applying).toEqual({ kind: 'missing' });
    } finally {
      cancelling.release();
    }
    expect((await store.find(s))?.state).toBe('cancelled');
    expect(await t.query(`SELECT status FROM batches`)).toEqual([{ status: 'inactive' }]);
    expect(await webhookPayloads(t.query)).toEqual([]);
  });

  it('keeps one pending activation when two instances schedule the same batch at once', async () => {
    const two = await twoInstances();
    t = two.t;
    const stores = [new PgScheduledActivationStore(two.db), new PgScheduledActivationStore(two.other)];
    await seedBatch(t, b1, { status: 'inactive' });
    for (let round = 0; round < 5; round++) {
      const made = await Promise.all(
        stores.map((s, i) =>
          s.schedule({
            batchId: b1,
            at: 1000 + i,
            actor: `U${i}`,
            createdAt: round,
            replaced: { at: round, actor: `U${i}`, note: 'replaced' },
          }),
        ),
      );
      expect(new Set(made).size).toBe(2);
      const pending = await t.query<{ id: number }>(
        `SELECT id FROM scheduled_activations WHERE state = 'pending'`,
      );
      expect(pending).toHaveLength(1);
      expect(made).toContain(pending[0]?.id);
    }
  });
});

const d1 = Date.UTC(2026, 0, 14, 10);
const d2 = d1 + 86_400_000;
const day1 = Math.floor(d1 / 86_400_000);
const day2 = day1 + 1;

type SendSeed = {
  contact: number | null;
  status: string;
  at: number;
  step?: number;
  variant?: number;
  unsub?: number;
  replied?: number;
  complained?: number;
  soft?: number;
};

async function seedSends(t: TestDatabase, campaign: string, sends: SendSeed[]): Promise<void> {
  for (const s of sends) {
    await t.query(
      `INSERT INTO sends (campaign_id, contact_id, email_hash, run, step, variant, status, claimed_at, updated_at,
         unsubscribed_at, replied_at, complained_at, soft_bounced_at)
       VALUES ($1, $2, $3, 1, $4, $5, $6, $7, $7, $8, $9, $10, $11)`,
      [
        campaign,
        s.contact,
        emailHash(`${campaign}.${s.contact}.${s.step ?? 1}@x.com`),
        s.step ?? 1,
        s.variant ?? null,
        s.status,
        s.at,
        s.unsub ?? null,
        s.replied ?? null,
        s.complained ?? null,
        s.soft ?? null,
      ],
    );
  }
}

/** A status group with its marks (zeros unless told). */
const counts = (status: string, n: number, marks: Partial<Record<string, number>> = {}) => ({
  status,
  n,
  unsub: 0,
  replied: 0,
  complained: 0,
  softBounced: 0,
  interested: 0,
  ...marks,
});

describe.each(dialects)('batch report figures (%s)', (dialect) => {
  let t: TestDatabase | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  /**
   * X's contacts interleave with Y's and Z's ids (X's campaigns are joined to its contacts), Y's
   * range holds no one else's (c3, all Y's, is counted from its own rows); orphans are ledger rows
   * of deleted contacts; c2 is a sequence with variants.
   */
  async function scenario(db: TestDatabase) {
    const [x, y, z, w] = ['batch_x', 'batch_y', 'batch_z', 'batch_w'];
    await seedBatch(db, x, { status: 'inactive' });
    await seedBatch(db, y, { status: 'active' });
    await seedBatch(db, z, { status: 'inactive' });
    await seedBatch(db, w, { status: 'inactive' });
    const [x1, x2, x3] = await seedContacts(db, x, ['x1@x.com', 'x2@x.com', 'x3@x.com']);
    const [y1, y2] = await seedContacts(db, y, ['y1@y.com', 'y2@y.com']);
    const [z1] = await seedContacts(db, z, ['z1@z.com']);
    const [x4] = await seedContacts(db, x, ['x4@x.com']);
    await db.query(`UPDATE contacts SET interest = 'interested' WHERE id = $1`, [x2]);
    await db.query(`UPDATE contacts SET status = 'bounced' WHERE id = $1`, [x3]);
    await db.query(`UPDATE contacts SET validation = 'no_mail_domain' WHERE id = $1`, [x1]);
    await db.query(`UPDATE contacts SET validation = 'valid' WHERE id = $1`, [y2]);
    await seedCampaign(db, 'c1', { status: 'completed', createdAt: seedAt + 1 });
    await seedCampaign(db, 'c2', { status: 'sending', steps: '[]', createdAt: seedAt + 2 });
    await seedCampaign(db, 'c3', { status: 'completed', createdAt: seedAt + 3 });
    await seedSends(db, 'c1', [
      { contact: x1!, status: 'sent', at: d1 },
      { contact: x2!, status: 'sent', at: d2, replied: d2 + 1 },
      { contact: x3!, status: 'bounced', at: d1 },
      { contact: y1!, status: 'sent', at: d1, unsub: d1 + 5 },
      { contact: z1!, status: 'failed', at: d1 },
      { contact: null, status: 'sent', at: d1 },
    ]);
    await seedSends(db, 'c2', [
      { contact: x1!, status: 'sent', at: d1 },
      { contact: x1!, status: 'sent', at: d2, step: 2 },
      { contact: x4!, status: 'sent', at: d1, variant: 1, unsub: d1 + 1 },
      { contact: x4!, status: 'retry', at: d2, step: 2, variant: 2, soft: d2 + 1 },
    ]);
    await seedSends(db, 'c3', [
      { contact: y1!, status: 'sent', at: d1 },
      { contact: y2!, status: 'sent', at: d2, complained: d2 + 2 },
      { contact: null, status: 'sent', at: d1 },
    ]);
    return { x, y, z, w };
  }

  it('counts the same figures, in the same order, on both dialects', async () => {
    t = await openTestDatabase(dialect);
    const { reports } = storesOf(t);
    const { x, y, z, w } = await scenario(t);
    const c1 = { id: 'c1', name: 'Campaign c1', status: 'completed' };
    const c2 = { id: 'c2', name: 'Campaign c2', status: 'sending' };
    const c3 = { id: 'c3', name: 'Campaign c3', status: 'completed' };

    expect(await reports.batchFigures(x)).toEqual({
      contacts: [
        { status: 'active', n: 3 },
        { status: 'bounced', n: 1 },
      ],
      validation: [
        { validation: null, n: 3 },
        { validation: 'no_mail_domain', n: 1 },
      ],
      campaigns: [
        {
          ...c1,
          byStatus: [counts('bounced', 1), counts('sent', 2, { replied: 1, interested: 1 })],
          sentPerDay: [
            { day: day1, n: 1 },
            { day: day2, n: 1 },
          ],
        },
        {
          ...c2,
          byStatus: [counts('retry', 1, { softBounced: 1 }), counts('sent', 3, { unsub: 1 })],
          sentPerDay: [
            { day: day1, n: 2 },
            { day: day2, n: 1 },
          ],
          byStep: [
            { step: 1, variant: 1, ...counts('sent', 1, { unsub: 1 }) },
            { step: 2, variant: null, ...counts('sent', 1) },
            { step: 2, variant: 2, ...counts('retry', 1, { softBounced: 1 }) },
          ],
        },
      ],
      peopleSent: 3,
    });
    expect(await reports.quickFigures(x)).toEqual({
      contacts: [
        { status: 'active', n: 3 },
        { status: 'bounced', n: 1 },
      ],
      sends: [
        counts('bounced', 1),
        counts('sent', 2, { replied: 1, interested: 1 }),
        counts('retry', 1, { softBounced: 1 }),
        counts('sent', 3, { unsub: 1 }),
      ],
    });

    expect(await reports.batchFigures(y)).toEqual({
      contacts: [{ status: 'active', n: 2 }],
      validation: [
        { validation: null, n: 1 },
        { validation: 'valid', n: 1 },
      ],
      campaigns: [
        { ...c1, byStatus: [counts('sent', 1, { unsub: 1 })], sentPerDay: [{ day: day1, n: 1 }] },
        {
          ...c3,
          byStatus: [counts('sent', 2, { complained: 1 })],
          sentPerDay: [
            { day: day1, n: 1 },
            { day: day2, n: 1 },
          ],
        },
      ],
      peopleSent: 2,
    });
    // c3 is all Y's: its whole ledger less the orphan row, without unsubscribes.
    expect(await reports.quickFigures(y)).toEqual({
      contacts: [{ status: 'active', n: 2 }],
      sends: [counts('sent', 1, { unsub: 1 }), { status: 'sent', n: 2 }],
    });

    // One one-step campaign: its sent rows are the people sent.
    expect(await reports.batchFigures(z)).toEqual({
      contacts: [{ status: 'active', n: 1 }],
      validation: [{ validation: null, n: 1 }],
      campaigns: [{ ...c1, byStatus: [counts('failed', 1)], sentPerDay: [] }],
      peopleSent: 0,
    });
    expect(await reports.batchFigures(w)).toEqual({
      contacts: [],
      validation: [],
      campaigns: [],
      peopleSent: 0,
    });
    expect(await reports.quickFigures(w)).toEqual({ contacts: [], sends: [] });
  });
});
