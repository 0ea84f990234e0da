/**
 * One long-lived parse worker: started on the first large file, then reused for every later
 * import; an import that fails, is cancelled or loses its thread leaves the next import working;
 * the app's stop ends the thread.
 */
import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import type { ContactImportStore } from '../../../src/core/imports/contact-import-store.js';
import { ImportService } from '../../../src/core/imports/import-service.js';
import { ParseWorkers } from '../../../src/core/imports/parse-workers.js';
import { SqliteContactImportStore } from '../../../src/db/sqlite/contact-import-store.js';
import { bytes, importText, startTestApp, testCore, waitFor } from '../../helpers.js';

type Core = ReturnType<typeof testCore>;
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** `count` distinct rows after a header, addresses numbered from `from`. */
const csvOf = (count: number, from = 0) =>
  `email,name,company\n${Array.from({ length: count }, (_, i) => `p${from + i}@example.com,Person ${from + i},Acme ${i % 17}`).join('\n')}\n`;

/**
 * An importer that reads every file in a parse worker (inlineMaxBytes 0); `store` may wrap the
 * SQLite one (to fail a write).
 */
function workerImporter(wrap: (s: ContactImportStore) => ContactImportStore = (s) => s) {
  const core: Core = testCore();
  const importer = new ImportService(
    core.deps,
    { maxBytes: 50 * 1024 * 1024, inlineMaxBytes: 0 },
    wrap(new SqliteContactImportStore(core.db.$client)),
    core.services.batches,
    new ParseWorkers(1),
  );
  cleanups.push(
    () => core.cleanup(),
    () => importer.stop(),
  );
  const run = (source: AsyncIterable<Uint8Array | string>, fileName = 'list.csv') =>
    importer.importFile({ source, fileName, origin: 'api', actor: 'test' });
  const contacts = () => core.db.$client.prepare('SELECT count(*) FROM contacts').pluck().get();
  const batches = () => core.db.$client.prepare('SELECT count(*) FROM batches').pluck().get();
  return { importer, pool: importer.parseWorkers, run, contacts, batches };
}

describe('the parse worker', () => {
  it('serves one import after another on the same thread', async () => {
    const { pool, run } = workerImporter();
    const first = await run(bytes(csvOf(3000), 8192));
    const threadIds = pool.workers().map((w) => w.threadId);
    const second = await run(bytes(csvOf(3000, 3000), 8192), 'second.csv');
    expect(first.report.imported).toBe(3000);
    expect(second.report.imported).toBe(3000);
    expect(pool.started).toBe(1);
    expect(pool.workers().map((w) => w.threadId)).toEqual(threadIds);
  });

  it('stays usable after refusals it finds itself (too large, not text, broken quote)', async () => {
    const core = testCore();
    const importer = new ImportService(
      core.deps,
      { maxBytes: 100 * 1024, inlineMaxBytes: 0 },
      new SqliteContactImportStore(core.db.$client),
      core.services.batches,
      new ParseWorkers(1),
    );
    cleanups.push(
      () => core.cleanup(),
      () => importer.stop(),
    );
    const run = (text: string | Buffer) =>
      importer.importFile({ source: bytes(text, 16_384), fileName: 'x.csv', origin: 'api', actor: 'test' });
    await expect(run(csvOf(5000))).rejects.toMatchObject({ code: 'too_large' });
    await expect(
      run(Buffer.concat([Buffer.from('PK\x03\x04'), Buffer.alloc(50_000, 7)])),
    ).rejects.toMatchObject({
      code: 'not_csv',
    });
    await expect(run(`${csvOf(1000)}late@x.com,"never closed\n`)).rejects.toMatchObject({
      code: 'malformed_csv',
    });
    expect((await run(csvOf(1000))).report.imported).toBe(1000);
    expect(importer.parseWorkers.started).toBe(1);
  });

  it('an upload that breaks off mid-way fails only its import; the next uses the same thread', async () => {
    const { pool, run, contacts, batches } = workerImporter();
    async function* breaksOff() {
      yield* bytes(csvOf(5000), 8192);
      throw new Error('client went away');
    }
    await expect(run(breaksOff())).rejects.toThrow('client went away');
    expect(batches()).toBe(0);
    expect(contacts()).toBe(0);
    const next = await run(bytes(csvOf(4000), 8192));
    expect(next.report.imported).toBe(4000);
    expect(pool.started).toBe(1);
  });

  it('a write that fails mid-way cancels the rest of the file in the worker; the next import runs on it', async () => {
    let writes = 0;
    let failing = true;
    const { pool, run, contacts, batches } = workerImporter((store) => ({
      writeChunk: (...args) => {
        if (failing && ++writes === 2) return Promise.reject(new Error('disk went away'));
        return store.writeChunk(...args);
      },
    }));
    // 40,000 rows: the worker has far more to hand over when the second write fails.
    await expect(run(bytes(csvOf(40_000), 8192))).rejects.toThrow('disk went away');
    expect(batches()).toBe(0);
    expect(contacts()).toBe(0);
    failing = false;
    const next = await run(bytes(csvOf(3000, 50_000), 8192));
    expect(next.report.imported).toBe(3000);
    expect(pool.started).toBe(1);
  });

  it('a thread that dies fails only its import, with a clear message; the next import gets a new thread', async () => {
    const { pool, importer, contacts, batches } = workerImporter();
    const upload = new PassThrough();
    const failed = importer
      .importFile({ source: upload, fileName: 'cut.csv', origin: 'api', actor: 'test' })
      .then(
        () => null,
        (e: unknown) => e,
      );
    upload.write(csvOf(2000)); // the import is under way and then waits for more bytes
    const [thread] = await waitFor(() => (pool.workers().length === 1 ? pool.workers() : null));
    await thread?.terminate();
    const e = await failed;
    expect(e).toBeInstanceOf(Error);
    expect((e as Error).message).toMatch(
      /The import worker stopped unexpectedly \(exit code \d+\) before the end of the file/,
    );
    expect(batches()).toBe(0);
    expect(contacts()).toBe(0);
    const next = await importer.importFile({
      source: bytes(csvOf(3000, 10_000), 8192),
      fileName: 'next.csv',
      origin: 'api',
      actor: 'test',
    });
    expect(next.report.imported).toBe(3000);
    expect(pool.started).toBe(2);
  });
});

describe("the app's stop", () => {
  it('ends the parse worker thread', async () => {
    const t = await startTestApp();
    let stopped = false;
    cleanups.push(() => (stopped ? undefined : t.stop()));
    const pool = t.app.services.imports.parseWorkers;
    // Over any inline threshold: read in the worker.
    const result = await importText(t.app.services, csvOf(60_000), { chunkSize: 64 * 1024 });
    expect(result.report.imported).toBe(60_000);
    const [thread] = pool.workers();
    if (!thread) throw new Error('expected the import to start a parse worker');
    const exited = once(thread, 'exit');
    stopped = true;
    await t.stop();
    await exited;
    expect(pool.workers()).toHaveLength(0);
  });
});
