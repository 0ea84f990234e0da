/**
 * What keeps a large import's memory and event-loop blocks within the targets (docs/operations.md,
 * Performance): the parse thread's bounded heap, a turn of the event loop before every write
 * transaction, and the app connection's page cache.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type {
  ChunkWritten,
  ContactImportStore,
  ImportChunk,
} from '../../../src/core/imports/contact-import-store.js';
import { ContactWriter } from '../../../src/core/imports/contact-writer.js';
import { ImportService } from '../../../src/core/imports/import-service.js';
import { ParseWorkers, parseWorkerLimits } from '../../../src/core/imports/parse-workers.js';
import { appCacheSize } from '../../../src/db/client.js';
import { SqliteContactImportStore } from '../../../src/db/sqlite/contact-import-store.js';
import { bytes, testCore } from '../../helpers.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const csvOf = (count: number) =>
  `email,name\n${Array.from({ length: count }, (_, i) => `m${i}@example.com,Person ${i}`).join('\n')}\n`;

describe('a large import', () => {
  it('is read in a parse thread whose heap is bounded, and imports every row', async () => {
    const core = testCore();
    const importer = new ImportService(
      core.deps,
      { maxBytes: 50 * 1024 * 1024, inlineMaxBytes: 0 },
      new SqliteContactImportStore(core.db.$client),
      core.services.batches,
      new ParseWorkers(1),
    );
    cleanups.push(
      () => core.cleanup(),
      () => importer.stop(),
    );
    const r = await importer.importFile({
      source: bytes(csvOf(20_000), 64 * 1024),
      fileName: 'big.csv',
      origin: 'api',
      actor: 'test',
    });
    expect(r.report.imported).toBe(20_000);
    const [worker] = importer.parseWorkers.workers();
    expect(worker?.resourceLimits).toMatchObject(parseWorkerLimits);
    expect(parseWorkerLimits).toMatchObject({ maxYoungGenerationSizeMb: 24, maxOldGenerationSizeMb: 64 });
  });

  it('gives the event loop a turn before every transaction, the first one of a write too', async () => {
    // `turned` is set by an immediate queued before write() and again after each transaction: a
    // transaction that finds it unset ran in the same turn as the code before it.
    let turned = false;
    const afterATurn = () => {
      turned = false;
      setImmediate(() => {
        turned = true;
      });
    };
    const seen: boolean[] = [];
    const store: ContactImportStore = {
      async writeChunk(chunk: ImportChunk): Promise<ChunkWritten> {
        seen.push(turned);
        afterATurn();
        const rows = chunk.parts.reduce((n, p) => n + p.rows.length, 0);
        return { imported: rows, duplicateInFile: 0, existing: 0, suppressed: 0, holders: new Map() };
      },
    };
    const rows = Array.from({ length: 10 }, (_, i) => ({
      email: `t${i}@x.test`,
      name: null,
      company: null,
      position: null,
      source: null,
    }));
    const report = { imported: 0, duplicateInFile: 0, existing: 0, suppressed: 0 };
    afterATurn();
    const writes = new ContactWriter(store, 4).open('batch_t', report, new Map());
    await writes.write([{ rows, hashes: new Uint8Array(rows.length * 32) }], Date.now());
    await writes.finish();
    expect(seen).toEqual([true, true, true]);
    expect(report.imported).toBe(10);
  });

  it('writes through an app connection with a 16 MB page cache', () => {
    const core = testCore();
    cleanups.push(() => core.cleanup());
    expect(appCacheSize).toBe(-16384);
    expect(core.db.$client.pragma('cache_size', { simple: true })).toBe(-16384);
  });
});
