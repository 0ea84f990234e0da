/**
 * The import's figures in a database that already holds contacts and suppressions: the chunk
 * writer looks addresses up a chunk at a time (suppressions, then the holders of the rows an
 * INSERT left out), and every figure must stay what a row-by-row import counted.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ImportPart } from '../../../src/core/imports/contact-import-store.js';
import { ContactWriter, slices } from '../../../src/core/imports/contact-writer.js';
import type { ContactRow } from '../../../src/core/imports/rows.js';
import { emailHash } from '../../../src/core/keys.js';
import { SqliteContactImportStore } from '../../../src/db/sqlite/contact-import-store.js';
import type { DomainError } from '../../../src/errors.js';
import { importText, testCore } from '../../helpers.js';

type Core = ReturnType<typeof testCore>;
let core: Core;
beforeEach(() => {
  core = testCore();
});
afterEach(() => core.cleanup());

const lines = (header: string, rows: string[]) => `${header}\n${rows.join('\n')}\n`;
const range = (n: number, f: (i: number) => string) => Array.from({ length: n }, (_, i) => f(i));

function suppress(emails: string[]) {
  const insert = core.db.$client.prepare(
    `INSERT INTO suppressions (email_hash, reason, actor, created_at) VALUES (?, 'manual', 'test', 0)`,
  );
  for (const e of emails) insert.run(emailHash(e));
}

const contactsOf = (batchId: string) =>
  (
    core.db.$client.prepare('SELECT count(*) AS n FROM contacts WHERE batch_id = ?').get(batchId) as {
      n: number;
    }
  ).n;

/** Batch A holds known0..known2999@old.test, batch B b0..b499@other.test; some addresses are suppressed. */
async function seed() {
  const a = await importText(
    core.services,
    lines(
      'email',
      range(3000, (i) => `known${i}@old.test`),
    ),
    {
      fileName: 'a.csv',
    },
  );
  const b = await importText(
    core.services,
    lines(
      'email',
      range(500, (i) => `b${i}@other.test`),
    ),
    {
      fileName: 'b.csv',
    },
  );
  // Known and suppressed: known2500, known2510, … known2990 (50); new and suppressed: gone*@new.test.
  suppress(range(50, (i) => `known${2500 + i * 10}@old.test`));
  suppress(range(2000, (m) => `gone${m}@new.test`));
  await core.services.domainSuppressions.add({ pattern: 'blocked.test' }, 'U1');
  return { a: a.batch.id, b: b.batch.id };
}

describe('import into a database with contacts and suppressions', () => {
  it('counts every row as before: all-known chunks, all-new chunks and mixed ones', async () => {
    const { a, b } = await seed();
    const mixed = range(2000, (m) => {
      switch (m % 10) {
        case 0: // known in A; known2500, 2510, … (every tenth) suppressed
          return `known${2500 + ((m / 10) % 500)}@old.test`;
        case 1: // known in B
          return `B${Math.floor(m / 10)}@Other.test`;
        case 2: // repeats a row of the all-new block, chunks earlier
          return `new${m}@new.test`;
        case 3: // suppressed, never imported
          return `gone${m}@new.test`;
        case 4: // suppressed by the domain rule
          return `x${m}@blocked.test`;
        case 5:
          return `not-an-address${m}`;
        case 6:
          return `fresh${m}@new.test`;
        case 7: // repeats the row before it, in another case
          return `FRESH${m - 1}@new.test`;
        case 8:
          return `fresh${m}@new.test`;
        default: // known in A, seen in the all-known block too
          return `known${m % 2500}@old.test`;
      }
    });
    const file = lines('email,name', [
      // 2,500 rows, every one known (A): whole chunks where nothing is inserted
      ...range(2500, (i) => `${i % 7 === 0 ? `KNOWN${i}@OLD.TEST` : `known${i}@old.test`},K${i}`),
      // 2,500 rows, none known: whole chunks where everything is inserted
      ...range(2500, (j) => `new${j}@new.test,N${j}`),
      ...mixed.map((e, m) => `${e},M${m}`),
    ]);
    const r = await importText(core.services, file, { fileName: 'second.csv', chunkSize: 64 * 1024 });
    expect({
      rows: r.report.rows,
      imported: r.report.imported,
      invalid: r.report.invalid,
      duplicateInFile: r.report.duplicateInFile,
      existing: r.report.existing,
      suppressed: r.report.suppressed,
    }).toEqual({
      rows: 7000,
      imported: 2900, // 2,500 new + 200 fresh + 200 fresh
      invalid: 200,
      duplicateInFile: 400, // 200 repeats of the new block + 200 FRESH
      existing: 3080, // A: 2,500 + 180 + 200; B: 200
      suppressed: 420, // 20 known + 200 gone + 200 blocked.test
    });
    expect(contactsOf(r.batch.id)).toBe(2900);
    expect(contactsOf(a)).toBe(3000);
    expect(contactsOf(b)).toBe(500);
  });

  it('refuses a file where every address is known, naming the batches that hold them', async () => {
    const { a, b } = await seed();
    const file = lines('email', [
      ...range(2500, (i) => `known${i}@old.test`),
      ...range(100, (i) => `b${i}@other.test`),
      'known2500@old.test', // suppressed
      'known7@old.test', // repeated: known, counted again
    ]);
    const err = await importText(core.services, file).catch((e: DomainError) => e);
    expect(err).toMatchObject({
      code: 'no_new_contacts',
      details: { existingByBatch: { [a]: 2501, [b]: 100 }, suppressed: 1 },
    });
  });
});

describe('the chunk writer', () => {
  const row = (email: string): ContactRow => ({
    email,
    name: null,
    company: null,
    position: null,
    source: null,
  });
  const part = (emails: string[]): ImportPart => {
    const hashes = new Uint8Array(emails.length * 32);
    emails.forEach((e, i) => {
      hashes.set(emailHash(e), i * 32);
    });
    return { rows: emails.map(row), hashes };
  };

  it('gives exact figures and holders chunk by chunk (4 rows a chunk)', async () => {
    const { a, b } = await seed();
    const batchId = await core.services.batches.startImport({
      name: 'c.csv',
      origin: 'api',
      actor: 'test',
      importer: 'test',
    });
    const writer = new ContactWriter(new SqliteContactImportStore(core.db.$client), 4);
    const report = { imported: 0, duplicateInFile: 0, existing: 0, suppressed: 0 };
    const holders = new Map<string, number>();
    const emails = [
      // chunk 1: every row known
      'known1@old.test',
      'known2@old.test',
      'b1@other.test',
      'known1@old.test',
      // chunk 2: no row known
      'n1@new.test',
      'n2@new.test',
      'n3@new.test',
      'n4@new.test',
      // chunk 3: a repeat from chunk 2, a suppressed address, a repeat within the chunk
      'n1@new.test',
      'gone1@new.test',
      'n5@new.test',
      'n5@new.test',
      // chunk 4: known and suppressed, domain rule, known (once something is imported, the
      // writer no longer asks which batch holds it), new
      'known2500@old.test',
      'y@blocked.test',
      'known3@old.test',
    ];
    // One part cut into chunks of 4, and a second part that fills the last chunk.
    const writes = writer.open(batchId, report, holders);
    await writes.write([part(emails), part(['n6@new.test'])], Date.now());
    await writes.finish();
    expect(report).toEqual({ imported: 6, duplicateInFile: 2, existing: 5, suppressed: 3 });
    // Holders are what the no_new_contacts refusal names: counted until the first import.
    expect(Object.fromEntries(holders)).toEqual({ [a]: 3, [b]: 1 });
    expect(contactsOf(batchId)).toBe(6);
  });

  it('cuts parts into runs of at most n rows, keeping each row with its hash', () => {
    const emails = range(10, (i) => `r${i}@x.test`);
    const runs = [...slices([part(emails.slice(0, 3)), part([]), part(emails.slice(3))], 4)];
    expect(runs.map((run) => run.flatMap((p) => p.rows.map((r) => r.email)))).toEqual([
      emails.slice(0, 4),
      emails.slice(4, 8),
      emails.slice(8),
    ]);
    for (const run of runs)
      for (const p of run)
        p.rows.forEach((r, i) => {
          expect(Buffer.from(p.hashes.subarray(i * 32, (i + 1) * 32))).toEqual(emailHash(r.email));
        });
  });
});
