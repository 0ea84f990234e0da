/**
 * The import's writer on both dialects: rows read from a CSV by the engine's own stream, handed
 * to the store the way ImportService does (2,000 rows gathered, then ContactWriter's calls of at
 * most 1,000), into a database that already holds contacts, suppressions and a domain rule. The
 * same file gives the same report, the same contacts (ids in file order) and the same holders on
 * SQLite and on Postgres; then what only Postgres has to survive: other transactions at once.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { ContactImportStore, ImportPart } from '../../../src/core/imports/contact-import-store.js';
import { openContactStream } from '../../../src/core/imports/contact-stream.js';
import { ContactWriter, type WriteCounts } from '../../../src/core/imports/contact-writer.js';
import { emailHash } from '../../../src/core/keys.js';
import { PgContactImportStore } from '../../../src/db/pg/contact-import-store.js';
import { SqliteContactImportStore } from '../../../src/db/sqlite/contact-import-store.js';
import { dialects, openTestDatabase, type TestDatabase } from '../../pg/dialects.js';
import { someoneWaitsForALock } from '../../pg/locks.js';
import { seedAt, seedBatch, seedContacts } from '../../pg/seed.js';

const A = 'batch_0000000a_1760000000';
const B = 'batch_0000000b_1760000000';
const C = 'batch_0000000c_1760000000';

const range = (n: number, f: (i: number) => string) => Array.from({ length: n }, (_, i) => f(i));

function storeFor(t: TestDatabase): ContactImportStore {
  return t.dialect === 'sqlite' ? new SqliteContactImportStore(t.db.$client) : new PgContactImportStore(t.db);
}

async function* bytes(text: string, size = 16 * 1024): AsyncGenerator<Uint8Array> {
  const buf = Buffer.from(text);
  for (let at = 0; at < buf.length; at += size) yield buf.subarray(at, at + size);
}

/**
 * What ImportService.writeRows does with a file: its chunks gathered to 2,000 rows, then handed
 * to one import's writes (calls still under way carry over to the next stretch).
 */
async function importCsv(store: ContactImportStore, batchId: string, csv: string, rowsPerCall?: number) {
  const stream = await openContactStream(bytes(csv), { maxBytes: 10 * 2 ** 20, workers: null });
  const report: WriteCounts & { rows: number; invalid: number } = {
    rows: 0,
    invalid: 0,
    imported: 0,
    duplicateInFile: 0,
    existing: 0,
    suppressed: 0,
  };
  const holders = new Map<string, number>();
  const writes = new ContactWriter(store, rowsPerCall).open(batchId, report, holders);
  let pending: ImportPart[] = [];
  let pendingRows = 0;
  try {
    for await (const chunk of stream.chunks) {
      report.rows += chunk.records;
      report.invalid += chunk.invalid;
      if (chunk.rows.length > 0) {
        pending.push(chunk);
        pendingRows += chunk.rows.length;
      }
      if (pendingRows >= 2000) {
        await writes.write(pending, seedAt + 1);
        pending = [];
        pendingRows = 0;
      }
    }
    if (pendingRows > 0) await writes.write(pending, seedAt + 1);
    await writes.finish();
  } catch (e) {
    await writes.abandon();
    throw e;
  } finally {
    await stream.close();
  }
  return { report, holders: Object.fromEntries(holders) };
}

/** A holds known0…known2999@old.test, B b0…b499@other.test; 50 known and 200 new addresses suppressed; blocked.test ruled out. */
async function seed(t: TestDatabase): Promise<void> {
  await seedBatch(t, A, { status: 'inactive' });
  await seedBatch(t, B);
  await seedContacts(
    t,
    A,
    range(3000, (i) => `known${i}@old.test`),
  );
  await seedContacts(
    t,
    B,
    range(500, (i) => `b${i}@other.test`),
  );
  const suppressed = [
    ...range(50, (i) => `known${2500 + i * 10}@old.test`),
    ...range(200, (i) => `gone${i * 10 + 3}@new.test`),
  ];
  for (const e of suppressed)
    await t.query(
      `INSERT INTO suppressions (email_hash, reason, actor, created_at) VALUES ($1, 'manual', 'test', 0)`,
      [emailHash(e)],
    );
  await t.query(
    `INSERT INTO domain_suppressions (pattern, actor, reason, created_at) VALUES ('blocked.test', 'U1', NULL, 0)`,
  );
  await seedBatch(t, C, { status: 'importing' });
}

/** Every kind of row the report counts, chunks of all-known, all-new and mixed rows. */
function bigFile(): string {
  const mixed = range(2000, (m) => {
    switch (m % 10) {
      case 0: // known in A; every tenth of these suppressed
        return `known${2500 + ((m / 10) % 500)}@old.test`;
      case 1: // known in B, another spelling
        return `B${Math.floor(m / 10)}@Other.test`;
      case 2: // repeats a row of the all-new block, chunks earlier
        return `new${m}@new.test`;
      case 3: // suppressed by hash, never imported
        return `gone${m}@new.test`;
      case 4: // under the domain rule
        return `x${m}@blocked.test`;
      case 5:
        return `not-an-address${m}`;
      case 6:
        return `fresh${m}@new.test`;
      case 7: // repeats the row before it, in capitals
        return `FRESH${m - 1}@new.test`;
      case 8:
        return `fresh${m}@new.test`;
      default:
        return `known${m % 2500}@old.test`;
    }
  });
  const lines = [
    ...range(2500, (i) => `${i % 7 === 0 ? `KNOWN${i}@OLD.TEST` : `known${i}@old.test`},K${i},,`),
    ...range(2500, (j) => `new${j}@new.test,N${j},"Acme, Inc.",Ceo ${j % 3 === 0 ? 'é' : ''}`),
    ...mixed.map((e, m) => `${e},M${m},,`),
  ];
  return `email,name,company,position\n${lines.join('\n')}\n`;
}

const contactsOf = (t: TestDatabase, batchId: string) =>
  t.query<{ email: string; name: string | null; company: string | null; position: string | null }>(
    `SELECT email, name, company, position FROM contacts WHERE batch_id = $1 ORDER BY id`,
    [batchId],
  );

describe.each(dialects)('contact import store (%s)', (dialect) => {
  let t: TestDatabase | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it('counts every row of a file as SQLite does and inserts the new ones in file order', async () => {
    t = await openTestDatabase(dialect);
    await seed(t);
    const { report, holders } = await importCsv(storeFor(t), C, bigFile());
    expect(report).toEqual({
      rows: 7000,
      imported: 2900, // 2,500 new + 200 fresh + 200 fresh
      invalid: 200,
      duplicateInFile: 400, // 200 repeats of the new block + 200 FRESH
      existing: 3080, // A: 2,500 + 180 + 200; B: 200
      suppressed: 420, // 20 known + 200 gone + 200 blocked.test
    });
    // Holders are asked for until something is imported: the first 2,500 rows, all held by A.
    expect(holders).toEqual({ [A]: 2500 });
    const rows = await contactsOf(t, C);
    // Ids follow the file: the new block, then the mixed rows' first spellings.
    expect(rows.map((r) => r.email)).toEqual([
      ...range(2500, (j) => `new${j}@new.test`),
      ...range(2000, (m) => (m % 10 === 6 || m % 10 === 8 ? `fresh${m}@new.test` : '')).filter(Boolean),
    ]);
    expect(rows.slice(0, 2)).toEqual([
      { email: 'new0@new.test', name: 'N0', company: 'Acme, Inc.', position: 'Ceo é' },
      { email: 'new1@new.test', name: 'N1', company: 'Acme, Inc.', position: 'Ceo' },
    ]);
    expect(rows.at(-1)).toEqual({
      email: 'fresh1998@new.test',
      name: 'M1998',
      company: null,
      position: null,
    });
    // Each row keeps its own hash (the hashes travel apart from the rows on Postgres).
    const mismatched = await t.query<{ email: string; h: Buffer }>(
      `SELECT email, email_hash AS h FROM contacts WHERE batch_id = $1`,
      [C],
    );
    expect(mismatched.filter((r) => !Buffer.from(r.h).equals(emailHash(r.email)))).toEqual([]);
    const [counts] = await t.query<{ a: number; b: number; c: number; cc: number }>(
      `SELECT (SELECT count(*) FROM contacts WHERE batch_id = $1) AS a, (SELECT count(*) FROM contacts WHERE batch_id = $2) AS b,
              (SELECT count(*) FROM contacts WHERE batch_id = $3) AS c, (SELECT contact_count FROM batches WHERE id = $3) AS cc`,
      [A, B, C],
    );
    // SQLite leaves contact_count to finishImport (which sets it to `imported`); Postgres keeps it
    // in step chunk by chunk, so it is already there.
    expect(counts).toEqual({ a: 3000, b: 500, c: 2900, cc: dialect === 'postgres' ? 2900 : 0 });
  });

  it('gives exact figures and holders chunk by chunk (4 rows a call)', async () => {
    t = await openTestDatabase(dialect);
    await seed(t);
    const emails = [
      // call 1: every row known
      'known1@old.test',
      'known2@old.test',
      'b1@other.test',
      'known1@old.test',
      // call 2: no row known
      'n1@new.test',
      'n2@new.test',
      'n3@new.test',
      'n4@new.test',
      // call 3: a repeat from call 2, a suppressed address, a repeat within the call
      'n1@new.test',
      'gone3@new.test',
      'n5@new.test',
      'n5@new.test',
      // call 4: known and suppressed, domain rule, known (no holders asked any more), new
      'known2500@old.test',
      'y@blocked.test',
      'known3@old.test',
      'n6@new.test',
    ];
    const { report, holders } = await importCsv(storeFor(t), C, `email\n${emails.join('\n')}\n`, 4);
    expect(report).toEqual({
      rows: 16,
      invalid: 0,
      imported: 6,
      duplicateInFile: 2,
      existing: 5,
      suppressed: 3,
    });
    expect(holders).toEqual({ [A]: 3, [B]: 1 });
    expect((await contactsOf(t, C)).map((r) => r.email)).toEqual([
      'n1@new.test',
      'n2@new.test',
      'n3@new.test',
      'n4@new.test',
      'n5@new.test',
      'n6@new.test',
    ]);
  });
});

describe('contact import store, Postgres with other transactions at once', () => {
  let t: TestDatabase | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it('an address another import adds meanwhile is counted as existing, held by that batch; the next chunk waits', async () => {
    t = await openTestDatabase('postgres');
    if (t.dialect !== 'postgres') throw new Error('postgres only');
    await seed(t);
    const other = await t.db.$client.connect();
    try {
      // Another import (another instance) has added race@new.test and not committed yet.
      await other.query('BEGIN');
      await other.query(
        `INSERT INTO contacts (email, email_hash, batch_id, created_at, updated_at) VALUES ($1, $2, $3, 0, 0)`,
        ['race@new.test', emailHash('race@new.test'), B],
      );
      // Calls of 2 rows: while the first waits on the unique index, the second has looked its rows
      // up and opened its transaction, waiting for the first's lock.
      const file = 'email\nrace@new.test\nalone@new.test\nn1@new.test\nn2@new.test\nn3@new.test\n';
      const written = importCsv(storeFor(t), C, file, 2);
      await someoneWaitsForALock(t.query); // the chunk's INSERT waits on the unique index
      await other.query('COMMIT');
      const { report, holders } = await written;
      expect(report).toMatchObject({ imported: 4, existing: 1, duplicateInFile: 0, suppressed: 0 });
      expect(holders).toEqual({ [B]: 1 });
    } finally {
      other.release();
    }
    const emails = ['alone@new.test', 'n1@new.test', 'n2@new.test', 'n3@new.test'];
    expect((await contactsOf(t, C)).map((r) => r.email)).toEqual(emails);
    const [count] = await t.query<{ n: number }>(`SELECT contact_count AS n FROM batches WHERE id = $1`, [C]);
    expect(count?.n).toBe(4);
  });

  it('a domain rule being added makes a chunk wait for it, so its domain is left out', async () => {
    t = await openTestDatabase('postgres');
    if (t.dialect !== 'postgres') throw new Error('postgres only');
    await seed(t);
    const other = await t.db.$client.connect();
    try {
      await other.query('BEGIN');
      await other.query(
        `INSERT INTO domain_suppressions (pattern, actor, reason, created_at) VALUES ('*.late.test', 'U1', NULL, 0)`,
      );
      const written = importCsv(storeFor(t), C, 'email\nsomeone@late.test\nok@new.test\n');
      await someoneWaitsForALock(t.query); // the chunk waits to read the rules
      await other.query('COMMIT');
      const { report } = await written;
      expect(report).toMatchObject({ imported: 1, suppressed: 1 });
    } finally {
      other.release();
    }
    expect((await contactsOf(t, C)).map((r) => r.email)).toEqual(['ok@new.test']);
  });

  it('a chunk that fails fails the import, and the chunk under way beside it adds nothing', async () => {
    t = await openTestDatabase('postgres');
    await seed(t);
    // The server refuses one address: the first call (2 rows) fails while the second, started
    // beside it, has looked its rows up and waits to write them.
    await t.query(`CREATE FUNCTION refuse_boom() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.email = 'boom@new.test' THEN RAISE EXCEPTION 'refused %', NEW.email; END IF; RETURN NEW; END $$`);
    await t.query(
      'CREATE TRIGGER refuse_boom BEFORE INSERT ON contacts FOR EACH ROW EXECUTE FUNCTION refuse_boom()',
    );
    const store = storeFor(t);
    expect(store.chunksInFlight).toBe(2);
    const file =
      'email\nok1@new.test\nboom@new.test\nok2@new.test\nok3@new.test\nok4@new.test\nok5@new.test\n';
    await expect(importCsv(store, C, file, 2)).rejects.toThrow('refused boom@new.test');
    expect(await contactsOf(t, C)).toEqual([]);
    // Nothing left behind: the next import into another batch counts from what is committed.
    const D = 'batch_0000000d_1760000000';
    await seedBatch(t, D, { status: 'importing' });
    const { report } = await importCsv(store, D, file.replace('boom', 'fine'), 2);
    expect(report).toMatchObject({ imported: 6, duplicateInFile: 0, existing: 0 });
  });

  it('two imports of the same addresses in opposite orders at once: no deadlock, each address held once', async () => {
    t = await openTestDatabase('postgres');
    if (t.dialect !== 'postgres') throw new Error('postgres only');
    const pg = t.db;
    // Chunks of two imports running at once would insert these in opposite orders, each waiting
    // on the other's uncommitted rows in the unique index: a deadlock, one import failed.
    const addresses = range(1000, (i) => `p${i}@both.test`);
    for (const round of [1, 2, 3]) {
      const [x, y] = [`batch_0000000${round}_1760000001`, `batch_0000000${round}_1760000002`];
      await seedBatch(t, x, { status: 'importing' });
      await seedBatch(t, y, { status: 'importing' });
      const at = (n: number) => addresses.map((e) => e.replace('@', `.${round}${n}@`));
      const [a, b] = await Promise.all([
        importCsv(new PgContactImportStore(pg), x, `email\n${at(0).join('\n')}\n`),
        importCsv(new PgContactImportStore(pg), y, `email\n${at(0).reverse().join('\n')}\n`),
      ]);
      expect([a.report.imported + b.report.imported, a.report.existing + b.report.existing]).toEqual([
        1000, 1000,
      ]);
      const [held] = await t.query<{ n: number; x: number; y: number; cx: number; cy: number }>(
        `SELECT count(*) AS n, count(*) FILTER (WHERE batch_id = $1) AS x, count(*) FILTER (WHERE batch_id = $2) AS y,
                (SELECT contact_count FROM batches WHERE id = $1) AS cx, (SELECT contact_count FROM batches WHERE id = $2) AS cy
           FROM contacts WHERE batch_id IN ($1, $2)`,
        [x, y],
      );
      const [ia, ib] = [a.report.imported, b.report.imported];
      expect(held).toEqual({ n: 1000, x: ia, y: ib, cx: ia, cy: ib });
    }
  });
});
