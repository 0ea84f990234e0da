/**
 * A header line far wider than the 64 KB sample (100,000 columns, ~0.9 MB) is read whole before
 * the e-mail column is looked for, on both parse paths (inline and the worker thread); a first
 * line too long to be a header is refused for what it is, never as "no e-mail column".
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ImportService } from '../../../src/core/imports/import-service.js';
import { SqliteContactImportStore } from '../../../src/db/sqlite/contact-import-store.js';
import { DomainError } from '../../../src/errors.js';
import { bytes, testCore } from '../../helpers.js';

type Core = ReturnType<typeof testCore>;
const cores: Core[] = [];
afterEach(() => {
  for (const c of cores.splice(0)) c.cleanup();
});

const paths = { inline: Number.MAX_SAFE_INTEGER, worker: 0 } as const;

function importerFor(path: keyof typeof paths) {
  const core = testCore();
  cores.push(core);
  const importer = new ImportService(
    core.deps,
    { maxBytes: 50 * 1024 * 1024, inlineMaxBytes: paths[path] },
    new SqliteContactImportStore(core.db.$client),
    core.services.batches,
  );
  const run = (content: string) =>
    importer.importFile({ source: bytes(content), fileName: 'wide.csv', origin: 'api', actor: 'test' });
  const contacts = () => core.db.$client.prepare('SELECT email, name FROM contacts ORDER BY id').all();
  return Object.assign(run, { contacts });
}

const columns = 100_000;
/** 100,000 columns in about 0.9 MB, as in the review. */
const wideHeader = ['email', 'name', ...Array.from({ length: columns - 2 }, (_, i) => `col_${i}`)].join(',');

describe.each(Object.keys(paths) as (keyof typeof paths)[])('a wide header (%s path)', (path) => {
  it('100,000 columns with email first: imported, names read', async () => {
    expect(wideHeader.length).toBeGreaterThan(850_000);
    const rows = ['ana@acme.com,Ana', 'bruno@acme.com,Bruno,x,y'];
    const run = importerFor(path);
    const result = await run(`${wideHeader}\n${rows.join('\n')}\n`);
    expect(result.report).toMatchObject({ rows: 2, imported: 2, invalid: 0 });
    expect(run.contacts()).toEqual([
      { email: 'ana@acme.com', name: 'Ana' },
      { email: 'bruno@acme.com', name: 'Bruno' },
    ]);
  });

  it('the e-mail column at the far end of a wide header is found too', async () => {
    const header = [...Array.from({ length: 50_000 }, (_, i) => `c${i}`), 'Email Address'].join(';');
    const row = `${';'.repeat(50_000)}far@acme.com`;
    const result = await importerFor(path)(`${header}\n${row}\n`);
    expect(result.report).toMatchObject({ rows: 1, imported: 1 });
  });

  it('a first line too long to be a header is refused for its length, not as "no e-mail column"', async () => {
    const line = `email,${'x'.repeat(5 * 1024 * 1024)}`;
    const e = await importerFor(path)(`${line}\nana@acme.com\n`).then(
      () => null,
      (err: unknown) => err,
    );
    expect(e).toBeInstanceOf(DomainError);
    expect((e as DomainError).code).toBe('malformed_csv');
    expect((e as DomainError).message).toMatch(/at line 1: the line is longer than 1,048,576 characters/);
  });
});
