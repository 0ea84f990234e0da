import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, relative } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BatchService } from '../../../src/core/batches/batch-service.js';
import { RetentionService } from '../../../src/core/batches/retention.js';
import { ImportService } from '../../../src/core/imports/import-service.js';
import { WebhookOutbox } from '../../../src/core/webhooks/webhook-outbox.js';
import { SqliteBatchStore } from '../../../src/db/sqlite/batch-store.js';
import { SqliteContactImportStore } from '../../../src/db/sqlite/contact-import-store.js';
import { SqliteRetentionStore } from '../../../src/db/sqlite/retention-store.js';
import { bytes, refusal, testClock, testCore } from '../../helpers.js';

const root = join(import.meta.dirname, '../../..');
/** An importer whose process is gone (another host). */
const gone = 'gone.invalid:1:00000000';

/** Every .ts file under src/, as a path relative to the repository. */
function sources(dir = join(root, 'src')): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sources(path);
    return e.name.endsWith('.ts') ? [relative(root, path)] : [];
  });
}

/** Writes to `batches` / `batch_events`, raw SQL or drizzle. */
const batchWrites = [
  /INSERT\s+INTO\s+batch_events\b/i,
  /INSERT\s+INTO\s+batches\b/i,
  /UPDATE\s+batch_events\b/i,
  /UPDATE\s+batches\b/i,
  /DELETE\s+FROM\s+batches\b/i,
  /DELETE\s+FROM\s+batch_events\b/i,
  /\.(insert|update|delete)\(\s*batchEvents\s*\)/,
  /\.(insert|delete)\(\s*batches\s*\)/,
];

/**
 * The store owns the tables (its SQLite and its Postgres twin); the legacy upgrade writes the
 * batch it creates for old contacts; the Postgres import writer keeps contact_count in step in
 * each chunk's one statement (SQLite sets it at the end of the import).
 */
const owners = (path: string) =>
  /^src\/db\/(sqlite|pg)\/batch-(store|rows)\.ts$/.test(path) ||
  path === 'src/db/pg/contact-import-store.ts' ||
  /(^|\/)legacy[^/]*/.test(path);

describe('one owner of the batch lifecycle', () => {
  it('only the BatchStore and its rows module (SQLite and Postgres; and the legacy upgrade) write batches and batch_events', () => {
    const writers = sources().filter((path) => {
      const text = readFileSync(join(root, path), 'utf8');
      return batchWrites.some((re) => re.test(text));
    });
    expect(
      writers.filter((p) => !owners(p)),
      'write through BatchService instead',
    ).toEqual([]);
    expect(writers).toContain('src/db/sqlite/batch-store.ts');
  });
});

let core: ReturnType<typeof testCore>;
const clock = testClock();
let batches: BatchService;
let imports: ImportService;

/** The batch service with an outbox (no dispatcher: deliveries stay pending in the table). */
beforeEach(() => {
  core = testCore({ clock });
  const deps = { ...core.deps, webhooks: new WebhookOutbox(['http://127.0.0.1:9/hook']) };
  batches = new BatchService(deps, new SqliteBatchStore(core.db));
  imports = new ImportService(
    deps,
    { maxBytes: 1024 * 1024 },
    new SqliteContactImportStore(core.db.$client),
    batches,
  );
});
afterEach(() => core.cleanup());

const importCsv = (text: string, fileName: string, activate?: boolean) =>
  imports.importFile({
    source: bytes(text),
    fileName,
    origin: 'api',
    actor: 'U1',
    options: { activate },
  });

const events = async (id: string) => (await batches.events(id)).map((e) => [e.kind, e.actor, e.reason]);

/** The webhooks recorded so far, oldest first: type and data. */
function webhooks(): { type: string; data: Record<string, unknown> }[] {
  return core.db.$client
    .prepare<[], { payload: string }>('SELECT payload FROM webhook_deliveries ORDER BY id')
    .all()
    .map((r) => {
      const body = JSON.parse(r.payload) as { type: string; data: Record<string, unknown> };
      return { type: body.type, data: body.data };
    });
}

describe('import-activate and manual activation', () => {
  it('an import replaces the active batch with the same events and webhooks as before', async () => {
    const a = await importCsv('email\na@x.com\nb@x.com\n', 'a.csv');
    clock.advance(60_000);
    const b = await importCsv('email\nc@x.com\n', 'b.csv');
    expect(b.replaced?.id).toBe(a.batch.id);
    expect(b.batch).toMatchObject({ status: 'active', replacedBatchId: a.batch.id, contactCount: 1 });
    expect(await batches.get(a.batch.id)).toMatchObject({ status: 'inactive', replacedBatchId: null });
    expect(await events(a.batch.id)).toEqual([
      ['imported', 'U1', '2 contacts from api'],
      ['activated', 'U1', 'new import'],
      ['deactivated', 'U1', `replaced by import ${b.batch.id}`],
    ]);
    expect(await events(b.batch.id)).toEqual([
      ['imported', 'U1', '1 contacts from api'],
      ['activated', 'U1', 'new import'],
    ]);
    const imported = (id: string, name: string, rows: number) => ({
      type: 'batch.imported',
      data: { batchId: id, name, origin: 'api', rows, imported: rows, activated: true },
    });
    expect(webhooks()).toEqual([
      imported(a.batch.id, 'a.csv', 2),
      {
        type: 'batch.activated',
        data: { batchId: a.batch.id, name: 'a.csv', previousBatchId: null, reason: 'import' },
      },
      imported(b.batch.id, 'b.csv', 1),
      {
        type: 'batch.activated',
        data: { batchId: b.batch.id, name: 'b.csv', previousBatchId: a.batch.id, reason: 'import' },
      },
    ]);
  });

  it('manual activation writes its own texts through the same activation', async () => {
    const a = await importCsv('email\na@x.com\n', 'a.csv');
    const b = await importCsv('email\nb@x.com\n', 'b.csv');
    const before = webhooks().length;
    clock.advance(1000);
    expect(await batches.activate(a.batch.id, 'U2', 'wrong list')).toMatchObject({
      status: 'active',
      activatedAt: new Date(clock.now()).toISOString(),
      replacedBatchId: null,
    });
    expect((await events(b.batch.id)).at(-1)).toEqual(['deactivated', 'U2', `replaced by ${a.batch.id}`]);
    expect((await events(a.batch.id)).at(-1)).toEqual(['activated', 'U2', 'wrong list']);
    expect(webhooks().slice(before)).toEqual([
      {
        type: 'batch.activated',
        data: { batchId: a.batch.id, name: 'a.csv', previousBatchId: b.batch.id, reason: 'wrong list' },
      },
    ]);
    // Activating the active batch again changes nothing and announces nothing.
    await batches.activate(a.batch.id, 'U2');
    expect((await events(a.batch.id)).at(-1)).toEqual(['activated', 'U2', 'wrong list']);
    expect(webhooks()).toHaveLength(before + 1);
  });

  it('an import told not to activate leaves the active batch alone', async () => {
    const a = await importCsv('email\na@x.com\n', 'a.csv');
    const c = await importCsv('email\nc@x.com\n', 'c.csv', false);
    expect(c.replaced).toBeNull();
    expect(c.batch).toMatchObject({ status: 'inactive', activatedAt: null, replacedBatchId: null });
    expect((await batches.getActive())?.id).toBe(a.batch.id);
    expect(await events(c.batch.id)).toEqual([['imported', 'U1', '1 contacts from api']]);
    expect(webhooks().at(-1)).toEqual({
      type: 'batch.imported',
      data: { batchId: c.batch.id, name: 'c.csv', origin: 'api', rows: 1, imported: 1, activated: false },
    });
  });

  it('refuses to activate a missing or importing batch, writing nothing', async () => {
    expect((await refusal(() => batches.activate('batch_00000000_1700000000', 'U1'))).message).toBe(
      'No batch batch_00000000_1700000000. List batches to see the ids.',
    );
    const id = await batches.startImport({ name: 'x.csv', origin: 'api', actor: 'U1', importer: gone });
    const e = await refusal(() => batches.activate(id, 'U1'));
    expect([e.code, e.message]).toEqual([
      'conflict',
      `Batch ${id} is still importing; activate it once the import is done.`,
    ]);
    expect(await batches.events(id)).toEqual([]);
    expect(webhooks()).toEqual([]);
  });

  it('undo reactivates the replaced batch, or deactivates when it replaced none', async () => {
    const a = await importCsv('email\na@x.com\n', 'a.csv');
    const b = await importCsv('email\nb@x.com\n', 'b.csv');
    expect((await batches.undoImport(b.batch.id, 'U3')).kind).toBe('undone');
    expect((await events(a.batch.id)).at(-1)).toEqual(['activated', 'U3', `undo import ${b.batch.id}`]);
    expect((await events(b.batch.id)).at(-1)).toEqual(['deactivated', 'U3', `replaced by ${a.batch.id}`]);
    expect(await batches.undoImport(b.batch.id, 'U3')).toMatchObject({ kind: 'not_active' });
    expect((await batches.undoImport(a.batch.id, 'U3')).kind).toBe('undone');
    expect((await events(a.batch.id)).at(-1)).toEqual(['deactivated', 'U3', 'undo import']);
    expect(await batches.getActive()).toBeNull();
  });
});

describe('deleting a batch', () => {
  it('a failed import discards its batch and contacts', async () => {
    await importCsv('email\na@x.com\n', 'a.csv');
    const count = () => core.db.$client.prepare('SELECT count(*) AS n FROM batches').get();
    expect(count()).toEqual({ n: 1 });
    await expect(importCsv('email\na@x.com\n', 'again.csv', true)).rejects.toMatchObject({
      code: 'duplicate_file',
    });
    expect(count()).toEqual({ n: 1 });
    expect(await imports.sweepInterrupted()).toEqual([]);
  });

  it('the start-up sweep removes batches left importing, with their contacts', async () => {
    const id = await batches.startImport({ name: 'x.csv', origin: 'api', actor: 'U1', importer: gone });
    core.db.$client
      .prepare(
        `INSERT INTO contacts (email, email_hash, status, batch_id, created_at, updated_at)
         VALUES ('z@x.com', x'00', 'active', ?, 0, 0)`,
      )
      .run(id);
    expect(await imports.sweepInterrupted()).toEqual([id]);
    expect(core.db.$client.prepare('SELECT count(*) AS n FROM contacts').get()).toEqual({ n: 0 });
    expect(await batches.listImporting()).toEqual([]);
  });

  it('the sweep leaves an import another live process is filling, and removes it once that process ended', async () => {
    const other = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    try {
      const importer = `${hostname()}:${other.pid}:a1b2c3d4`;
      const id = await batches.startImport({ name: 'x.csv', origin: 'cli', actor: 'cli', importer });
      expect(await imports.sweepInterrupted()).toEqual([]);
      expect(await batches.listImporting()).toEqual([{ id, importer }]);
      other.kill('SIGKILL');
      await new Promise((r) => other.once('exit', r));
      expect(await imports.sweepInterrupted()).toEqual([id]);
    } finally {
      other.kill('SIGKILL');
    }
  });

  it('the sweep removes imports of an earlier service in this process, of another host, or with no importer', async () => {
    const earlier = await batches.startImport({
      name: 'a.csv',
      origin: 'api',
      actor: 'U1',
      importer: `${hostname()}:${process.pid}:00000000`,
    });
    const elsewhere = await batches.startImport({
      name: 'b.csv',
      origin: 'api',
      actor: 'U1',
      importer: `not-${hostname()}:1:00000000`,
    });
    const older = await batches.startImport({ name: 'c.csv', origin: 'api', actor: 'U1', importer: gone });
    core.db.$client.prepare('UPDATE batches SET importer = NULL WHERE id = ?').run(older);
    expect((await imports.sweepInterrupted()).sort()).toEqual([earlier, elsewhere, older].sort());
  });

  it('retention deletes an inactive batch through the batch service, in chunks, forgetting its proposal', async () => {
    const retention = new RetentionService(core.deps, new SqliteRetentionStore(core.db), batches);
    const a = await importCsv('email\na@x.com\nb@x.com\nc@x.com\n', 'a.csv');
    await importCsv('email\nd@x.com\n', 'b.csv');
    await retention.markProposed(a.batch.id);
    const proposals = () =>
      core.db.$client
        .prepare('SELECT count(*) AS n FROM retention_proposals WHERE batch_id = ?')
        .get(a.batch.id);
    expect(proposals()).toEqual({ n: 1 });
    expect(await retention.deleteBatch(a.batch.id, 'U1', 2)).toEqual({
      batchId: a.batch.id,
      name: 'a.csv',
      contacts: 3,
    });
    expect((await refusal(() => batches.get(a.batch.id))).code).toBe('not_found');
    const left = core.db.$client
      .prepare(`SELECT (SELECT count(*) FROM contacts WHERE batch_id = ?) AS contacts,
                       (SELECT count(*) FROM batch_events WHERE batch_id = ?) AS events,
                       (SELECT count(*) FROM retention_proposals WHERE batch_id = ?) AS proposals`)
      .get(a.batch.id, a.batch.id, a.batch.id);
    expect(left).toEqual({ contacts: 0, events: 0, proposals: 0 });
    expect((await refusal(() => retention.deleteBatch(a.batch.id, 'U1'))).message).toBe(
      `No batch ${a.batch.id}: it may be deleted already.`,
    );
  });
});
