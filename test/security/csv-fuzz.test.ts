import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ImportService } from '../../src/core/imports/import-service.js';
import { SqliteContactImportStore } from '../../src/db/sqlite/contact-import-store.js';
import { DomainError } from '../../src/errors.js';
import { httpStatus } from '../../src/http/errors.js';
import { bytes, testCore } from '../helpers.js';

/**
 * Hostile and malformed CSV bytes through the real import engine (inline and worker-thread
 * paths, a real SQLite file): every input either imports with a report whose counts add up, or is
 * refused with a DomainError that names the problem and leaves batches and contacts untouched.
 */

type Core = ReturnType<typeof testCore>;
let core: Core;
const maxBytes = 4 * 1024 * 1024;

beforeEach(async () => {
  core = testCore({ importMaxBytes: maxBytes });
  // A batch that is already active, a known address and a suppressed one: refusals must keep them.
  await core.services.imports.importFile({
    source: bytes('email,name\nknown@example.com,Known\nsuppressed@example.com,Gone\n'),
    fileName: 'seed.csv',
    origin: 'api',
    actor: 'test',
  });
  const gone = core.db.$client
    .prepare(`SELECT id FROM contacts WHERE email = 'suppressed@example.com'`)
    .pluck()
    .get() as number;
  await core.services.contacts.delete(gone, 'api', 'fuzz seed');
});
afterEach(() => core.cleanup());

/** Everything an import may touch, as one digest: equal digests mean nothing changed. */
function tables(): string {
  const sqlite = core.db.$client;
  const dump = JSON.stringify([
    sqlite.prepare('SELECT id, name, status, contact_count, file_sha256 FROM batches ORDER BY id').all(),
    sqlite
      .prepare(
        'SELECT count(*) AS n, max(id) AS last, total(id) AS ids, batch_id, status FROM contacts GROUP BY batch_id, status',
      )
      .all(),
    sqlite.prepare('SELECT count(*) AS n FROM suppressions').get(),
  ]);
  return createHash('sha256').update(dump).digest('hex');
}

const contactsIn = (batchId: string) =>
  core.db.$client.prepare('SELECT count(*) FROM contacts WHERE batch_id = ?').pluck().get(batchId) as number;
const activeBatches = () =>
  core.db.$client.prepare(`SELECT count(*) FROM batches WHERE status = 'active'`).pluck().get() as number;

const runTimeoutMs = 20_000;

function withTimeout<T>(p: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`import hung for ${runTimeoutMs} ms on ${what}`)),
      runTimeoutMs,
    );
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

type Input = { content: Uint8Array; chunkSize: number; worker: boolean; force: boolean };

/** The property: imports with counts that add up, or refuses cleanly (a 4xx DomainError, nothing changed). */
async function checkImport({ content, chunkSize, worker, force }: Input): Promise<void> {
  const before = tables();
  const service = worker
    ? new ImportService(
        core.deps,
        { maxBytes, inlineMaxBytes: 0 },
        new SqliteContactImportStore(core.db.$client),
        core.services.batches,
      )
    : core.services.imports;
  let result: Awaited<ReturnType<ImportService['importFile']>>;
  try {
    result = await withTimeout(
      service.importFile({
        source: bytes(content, chunkSize),
        fileName: 'fuzz.csv',
        origin: 'api',
        actor: 'test',
        options: { force },
      }),
      `${content.length} bytes (${worker ? 'worker' : 'inline'})`,
    );
  } catch (e) {
    if (!(e instanceof DomainError)) throw e;
    expect(e.message.trim().length, `message of ${e.code}`).toBeGreaterThan(0);
    // A refusal of the input, never a server failure.
    expect(httpStatus[e.code], `${e.code}: ${e.message}`).toBeLessThan(500);
    expect(tables(), `tables after ${e.code}`).toBe(before);
    expect(activeBatches()).toBe(1);
    return;
  }
  const r = result.report;
  expect(r.rows).toBe(r.imported + r.invalid + r.duplicateInFile + r.existing + r.suppressed);
  expect(r.imported).toBeGreaterThan(0);
  expect(r.errors.length).toBeLessThanOrEqual(Math.min(100, r.invalid));
  expect(result.batch.contactCount).toBe(r.imported);
  expect(contactsIn(result.batch.id)).toBe(r.imported);
  expect(activeBatches()).toBe(1);
}

// --- generators -------------------------------------------------------------------------------

const fragment = fc.oneof(
  fc.constantFrom(
    'email',
    'E-mail Address',
    'e-mail',
    'name',
    'nome',
    'empresa',
    'company',
    'position',
    'Notes:',
    'known@example.com',
    'SUPPRESSED@example.com',
    'mailto:x@y.com',
    'Ana <ana@x.com>',
    'not an address',
    '@',
    '',
  ),
  fc.constantFrom(',', ';', '\t', '|', '"', '""', '"",', ',"', '\n', '\r\n', '\r', '\0', '\uFEFF', ' '),
  fc
    .tuple(fc.stringMatching(/^[a-z0-9._+-]{1,12}$/), fc.stringMatching(/^[a-z0-9-]{1,10}\.[a-z]{2,4}$/))
    .map(([l, d]) => `${l}@${d}`),
  fc.string({ unit: 'grapheme', maxLength: 12 }),
  fc.string({ unit: 'binary', maxLength: 6 }),
);

const address = fc.oneof(
  fc
    .tuple(fc.stringMatching(/^[a-z0-9._+-]{1,12}$/), fc.stringMatching(/^[a-z0-9-]{1,10}\.[a-z]{2,4}$/))
    .map(([l, d]) => `${l}@${d}`),
  fc.constantFrom('known@example.com', 'SUPPRESSED@example.com', 'Ana <ana@x.com>', 'mailto:bia@x.com'),
);

/** A cell: mostly plausible, sometimes hostile (stray or unbalanced quotes, NULs, BOMs, formulas, breaks). */
const hostileCell = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.constantFrom(
      '"',
      'a"b',
      '"quoted, with; delimiters|and\ttabs"',
      '"unbalanced',
      'trailing"',
      'x""y',
      '"a""b"',
      '"multi\nline"',
      '\0',
      '\uFEFF',
      '=cmd|"/c calc"!A1',
      '\r',
      '',
    ),
  },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 6 }) },
);

const cell = (hostility: number) =>
  fc.oneof(
    { weight: 8, arbitrary: address },
    { weight: 6, arbitrary: fc.string({ unit: 'grapheme-ascii', maxLength: 10 }) },
    { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 10 }) },
    ...(hostility > 0 ? [{ weight: hostility, arbitrary: hostileCell }] : []),
  );

/** A table with a real header and hostile cells, in a random dialect. */
const table = (hostility: number) =>
  fc
    .record({
      preamble: fc.constantFrom('', '', 'Notes:\n\n', '\uFEFF'),
      header: fc.constantFrom(
        ['email', 'name'],
        ['E-mail Address', 'Name', 'Company'],
        ['nome', 'e-mail', 'empresa', 'cargo'],
        ['Email'],
        ['"email"', '"na""me"'],
      ),
      delimiter: fc.constantFrom(',', ';', '\t', '|'),
      eol: fc.constantFrom('\n', '\r\n', '\r'),
      rows: fc.array(fc.array(cell(hostility), { minLength: 1, maxLength: 5 }), { maxLength: 40 }),
    })
    .map(
      ({ preamble, header, delimiter, eol, rows }) =>
        preamble + [header, ...rows].map((r) => r.join(delimiter)).join(eol) + eol,
    );

/** Free-form soup of CSV fragments: headers, addresses, quotes, delimiters, breaks, NULs, BOMs. */
const soup = fc
  .tuple(
    fc.constantFrom(
      '',
      'email,name\n',
      'email;nome;empresa\r\n',
      'E-mail Address\tName\n',
      'Notes:\n\nemail\n',
    ),
    fc.array(fragment, { maxLength: 120 }),
  )
  .map(([header, parts]) => header + parts.join(''));

const csvText = fc.oneof(
  { weight: 2, arbitrary: table(0) },
  { weight: 2, arbitrary: table(1) },
  { weight: 1, arbitrary: table(6) },
  { weight: 1, arbitrary: soup },
);

type Encoding = 'utf8' | 'utf8-bom' | 'utf16le-bom' | 'utf16be-bom' | 'utf16le' | 'latin1' | 'mixed';

function encode(text: string, encoding: Encoding): Uint8Array {
  switch (encoding) {
    case 'utf8':
      return Buffer.from(text, 'utf8');
    case 'utf8-bom':
      return Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text, 'utf8')]);
    case 'utf16le-bom':
      return Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
    case 'utf16be-bom':
      return Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(text, 'utf16le').swap16()]);
    case 'utf16le':
      return Buffer.from(text, 'utf16le');
    case 'latin1':
      return Buffer.from(text, 'latin1');
    case 'mixed': {
      // Each third in another encoding, as when files are concatenated by hand.
      const a = Math.floor(text.length / 3);
      return Buffer.concat([
        Buffer.from(text.slice(0, a), 'utf8'),
        Buffer.from(text.slice(a, 2 * a), 'latin1'),
        Buffer.from(text.slice(2 * a), 'utf16le'),
      ]);
    }
  }
}

const encoding = fc.constantFrom<Encoding>(
  'utf8',
  'utf8',
  'utf8-bom',
  'utf16le-bom',
  'utf16be-bom',
  'utf16le',
  'latin1',
  'mixed',
);

/** Byte fragments of other encodings spliced in: UTF-16 units, Windows-1252 accents, lone BOMs, invalid UTF-8. */
const byteFragment = fc.oneof(
  fc.constantFrom(
    Buffer.from([0xef, 0xbb, 0xbf]),
    Buffer.from([0xff, 0xfe]),
    Buffer.from([0xfe, 0xff]),
    Buffer.from([0xe9, 0xe7, 0xe3, 0x80, 0x93]), // é ç ã € “ in Windows-1252
    Buffer.from([0xc3]), // a cut UTF-8 sequence
    Buffer.from([0xed, 0xa0, 0x80]), // a UTF-8-encoded surrogate
    Buffer.from('e\0m\0a\0i\0l\0', 'latin1'),
    Buffer.from([0]),
  ),
  fc.uint8Array({ maxLength: 8 }),
);

const spliced = fc
  .tuple(
    csvText,
    encoding,
    fc.oneof(fc.constant([]), fc.array(fc.tuple(fc.nat(), byteFragment), { minLength: 1, maxLength: 4 })),
  )
  .map(([text, enc, splices]) => {
    let buf = Buffer.from(encode(text, enc));
    for (const [at, piece] of splices) {
      const i = buf.length === 0 ? 0 : at % (buf.length + 1);
      buf = Buffer.concat([buf.subarray(0, i), piece, buf.subarray(i)]);
    }
    return new Uint8Array(buf);
  });

/** Pads an input past 64 KB (the worker threshold) with more rows or junk, keeping its beginning. */
const padded = (base: fc.Arbitrary<Uint8Array>) =>
  fc
    .tuple(base, fc.constantFrom('rows', 'blank', 'quote', 'nul'), fc.integer({ min: 66_000, max: 100_000 }))
    .map(([head, kind, size]) => {
      const unit = {
        rows: 'pad.person%@example.com,Pad Person,Padding Inc\n',
        blank: '\n\r\n',
        quote: 'a,"b""c,\n',
        nul: '\0\0,\0\n',
      }[kind];
      const reps = Math.ceil(size / unit.length);
      let i = 0;
      const body = unit.repeat(reps).replace(/%/g, () => String(i++));
      return new Uint8Array(Buffer.concat([Buffer.from(head), Buffer.from(body, 'utf8')]));
    });

const plan = (content: fc.Arbitrary<Uint8Array>) =>
  fc.record({
    content,
    chunkSize: fc.constantFrom(1, 7, 1024, 64 * 1024),
    // a worker thread costs a quarter of a second to start: one run in eight takes that path
    worker: fc.nat(7).map((n) => n === 0),
    force: fc.boolean(),
  });

// Each run is bounded; the whole file stays well under a minute on two cores.
const quick = { numRuns: 100 };

describe('CSV fuzz: random and malformed input never crashes the import engine', () => {
  it('random bytes', async () => {
    await fc.assert(
      fc.asyncProperty(
        plan(fc.oneof(fc.uint8Array({ maxLength: 3000 }), fc.uint8Array({ minLength: 1, maxLength: 40 }))),
        (input) => checkImport({ ...input, chunkSize: Math.max(input.chunkSize, 64) }),
      ),
      quick,
    );
  }, 60_000);

  it('random quoting, delimiters, NULs and BOMs in CSV-ish text, in mixed encodings', async () => {
    await fc.assert(
      fc.asyncProperty(plan(spliced), (input) => checkImport(input)),
      quick,
    );
  }, 60_000);

  it('inputs over 64 KB (parsed in the worker thread unless inline) with hostile beginnings', async () => {
    await fc.assert(
      fc.asyncProperty(plan(padded(spliced)), (input) =>
        checkImport({ ...input, chunkSize: Math.max(input.chunkSize, 1024) }),
      ),
      { numRuns: 12 },
    );
  }, 60_000);

  it('pathological shapes: a million-character field, a million columns, a million empty lines, NULs', async () => {
    const M = 1_000_000;
    const shapes = fc.constantFrom(
      // a quoted field of a million characters (over the record limit)
      () => `email,name\nok@example.com,Ok\nbig@example.com,"${'x'.repeat(M)}"\n`,
      // the same, unquoted, in the e-mail column
      () => `email,name\n${'y'.repeat(M)}@example.com,Big\nok2@example.com,Ok\n`,
      // an unclosed quote that swallows the rest of a large file
      () => `email,name\nopen@example.com,"never closed\n${'more@example.com,Row\n'.repeat(50_000)}`,
      // a million columns on the header line
      () => `email${',c'.repeat(M)}\nwide@example.com\n`,
      // a million columns on a data line
      () => `email,name\nwide2@example.com${','.repeat(M)}\n`,
      // a million empty lines before the header, and between rows
      () => `${'\n'.repeat(M)}email\nlate@example.com\n${'\r\n'.repeat(M)}later@example.com\n`,
      // only empty lines
      () => '\n'.repeat(M),
      // NUL bytes everywhere
      () => `e\0mail,name\0\nnul\0@example.com,N\0ul\n${'\0'.repeat(M)}`,
      // NULs only
      () => '\0'.repeat(M),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          shape: shapes,
          enc: fc.constantFrom<Encoding>('utf8', 'utf8-bom', 'utf16le-bom', 'latin1'),
          chunkSize: fc.constantFrom(4096, 64 * 1024, 1024 * 1024),
          worker: fc.boolean(),
        }),
        ({ shape, enc, chunkSize, worker }) =>
          checkImport({ content: encode(shape(), enc), chunkSize, worker, force: true }),
      ),
      { numRuns: 12 },
    );
  }, 60_000);
});
