/**
 * Large files are decoded, parsed and validated in a worker thread (contact-stream.ts) while the
 * main thread writes; small ones on the calling thread. Both must give the same rows, the same
 * report and the same refusals: each case runs both ways on its own database.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { emailHash } from '../../../src/core/contacts/email-hash.js';
import { ImportService } from '../../../src/core/imports/import-service.js';
import { SqliteContactImportStore } from '../../../src/db/sqlite/contact-import-store.js';
import { DomainError } from '../../../src/errors.js';
import { bytes, importText, testCore } from '../../helpers.js';

type Core = ReturnType<typeof testCore>;
const cores: Core[] = [];
afterEach(() => {
  for (const c of cores.splice(0)) c.cleanup();
});

const maxBytes = 10 * 1024 * 1024;
const paths = {
  inline: Number.MAX_SAFE_INTEGER,
  worker: 0,
} as const;
type Path = keyof typeof paths;

/** A core whose importer reads every file on the given path. */
function coreFor(path: Path, opts: { maxBytes?: number } = {}) {
  const core = testCore();
  cores.push(core);
  const importer = new ImportService(
    core.deps,
    { maxBytes: opts.maxBytes ?? maxBytes, inlineMaxBytes: paths[path] },
    new SqliteContactImportStore(core.db.$client),
    core.services.batches,
  );
  const run = (source: AsyncIterable<Uint8Array | string>, fileName = 'big.csv') =>
    importer.importFile({ source, fileName, origin: 'api', actor: 'test' });
  return { core, run };
}

const rowsOf = (core: Core) =>
  core.db.$client
    .prepare(
      `SELECT email, name, company, position, hex(email_hash) AS hash FROM contacts WHERE batch_id != ? ORDER BY id`,
    )
    .all('batch_0000seed_1');

/**
 * Over 64 KB (the inline limit's default) with every kind of row the report counts: 3,000 new
 * addresses, an invalid one every 500 rows, ten repeated at the end, 25 held by another batch,
 * 5 suppressed, blank lines, a quoted company over two lines, accents, `;` and CRLF.
 */
function bigFile(): { text: string; invalidLines: number[] } {
  const lines = ['e-mail;nome;empresa;cargo'];
  const invalidLines: number[] = [];
  let line = 1;
  const push = (l: string, breaks = 0) => {
    lines.push(l);
    line += 1 + breaks;
  };
  for (let i = 0; i < 3000; i++) {
    if (i % 500 === 250) {
      invalidLines.push(line + 1);
      push(`not-an-address-${i};Ninguém;X;Y`);
    }
    if (i === 1200) push('');
    if (i === 40) push(`new${i}@acme.com.br;João Ção;"Acme\r\nLtda";Diretor`, 1);
    else push(`new${i}@acme.com.br;Pessoa ${i} Ñandú;Empresa ${i % 37};Cargo ${i % 11}`);
  }
  for (let i = 0; i < 25; i++) push(`held${i}@other.com;Held ${i};Other;Role`);
  for (let i = 0; i < 5; i++) push(`gone${i}@other.com;Gone ${i};Other;Role`);
  for (let i = 10; i < 20; i++) push(`NEW${i}@Acme.com.br;Again ${i};Acme;Role`);
  return { text: `${lines.join('\r\n')}\r\n`, invalidLines };
}

/** Another batch holding 25 of the file's addresses, and 5 suppressed ones. */
async function seedOthers(core: Core) {
  const held = ['email'];
  for (let i = 0; i < 25; i++) held.push(`held${i}@other.com`);
  await importText(core.services, `${held.join('\n')}\n`, { fileName: 'held.csv', activate: false });
  const suppress = core.db.$client.prepare(
    `INSERT INTO suppressions (email_hash, reason, actor, created_at) VALUES (?, 'manual', 'test', 0)`,
  );
  for (let i = 0; i < 5; i++) suppress.run(emailHash(`gone${i}@other.com`));
  return core.db.$client.prepare(`SELECT id FROM batches WHERE name = 'held.csv'`).pluck().get() as string;
}

async function refusalOf(p: Promise<unknown>): Promise<DomainError> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  if (!(e instanceof DomainError)) throw new Error(`expected a refusal, got ${String(e)}`);
  return e;
}

const batchCount = (core: Core) =>
  core.db.$client.prepare(`SELECT count(*) FROM batches`).pluck().get() as number;

describe('one import engine on two threads', () => {
  it('gives the same exact report and the same stored rows whether read inline or in a worker', async () => {
    const { text, invalidLines } = bigFile();
    expect(Buffer.byteLength(text)).toBeGreaterThan(100 * 1024);
    const results = [];
    for (const path of ['inline', 'worker'] as const) {
      const { core, run } = coreFor(path);
      const heldBatch = await seedOthers(core);
      // Uneven chunks: records, CRLFs and multi-byte characters cross chunk boundaries.
      const result = await run(bytes(text, 4093));
      const { durationMs: _, ...report } = result.report;
      expect(report).toEqual({
        rows: 3000 + invalidLines.length + 25 + 5 + 10,
        imported: 3000,
        invalid: invalidLines.length,
        duplicateInFile: 10,
        existing: 25,
        suppressed: 5,
        errors: invalidLines.map((line, i) => ({
          line,
          reason: `invalid e-mail address "not-an-address-${i * 500 + 250}"`,
        })),
      });
      expect(result.batch.contactCount).toBe(3000);
      expect(result.batch.status).toBe('active');
      const rows = rowsOf(core).filter((r) => (r as { email: string }).email.startsWith('new'));
      expect(rows).toHaveLength(3000);
      expect(rows[40]).toMatchObject({ name: 'João Ção', company: 'Acme\r\nLtda' });
      expect(rows[7]).toEqual({
        email: 'new7@acme.com.br',
        name: 'Pessoa 7 Ñandú',
        company: 'Empresa 7',
        position: 'Cargo 7',
        hash: emailHash('new7@acme.com.br').toString('hex').toUpperCase(),
      });
      results.push({ report, rows, heldBatch });
    }
    expect(results[1]!.rows).toEqual(results[0]!.rows);
  });

  it('counts rows held elsewhere and repeated rows exactly when they share an insert group with new ones', async () => {
    for (const path of ['inline', 'worker'] as const) {
      const { core, run } = coreFor(path);
      await seedOthers(core);
      // 250 rows: new and held addresses interleaved, each new one twice, within the same 100-row groups.
      const lines = ['email'];
      for (let i = 0; i < 100; i++) {
        lines.push(`n${i}@x.com`);
        if (i < 25) lines.push(`held${i}@other.com`);
        if (i % 4 === 0) lines.push(`n${i}@x.com`);
        lines.push(`n${i}@x.com`.toUpperCase());
      }
      const result = await run(bytes(`${lines.join('\n')}\n`, 1000));
      expect(result.report).toMatchObject({ rows: 250, imported: 100, duplicateInFile: 125, existing: 25 });
      expect(await core.services.audience.count()).toBe(100);
    }
  });

  it('refuses a broken quote after the first 64 KB at its line, leaving nothing behind', async () => {
    const lines = ['email,name'];
    for (let i = 0; i < 4000; i++) lines.push(`p${i}@x.com,Person ${i}`);
    lines.push('late@x.com,"never closed');
    lines.push('after@x.com,After');
    for (const path of ['inline', 'worker'] as const) {
      const { core, run } = coreFor(path);
      const before = batchCount(core);
      const e = await refusalOf(run(bytes(lines.join('\n'), 8192)));
      expect(e.code).toBe('malformed_csv');
      expect(e.details).toMatchObject({ line: 4002 });
      expect(e.message).toContain('line 4002');
      expect(batchCount(core)).toBe(before);
      expect(core.db.$client.prepare('SELECT count(*) FROM contacts').pluck().get()).toBe(0);
    }
  });

  it('refuses in the worker what it refuses inline: too large, not text, no valid rows', async () => {
    const big = `email\n${'x@y.com\n'.repeat(30_000)}`;
    const zip = Buffer.concat([Buffer.from('PK\x03\x04'), Buffer.alloc(100_000, 7)]);
    const noAddresses = `email,name\n${'nobody,Someone\n'.repeat(5_000)}`;
    for (const path of ['inline', 'worker'] as const) {
      const { core, run } = coreFor(path, { maxBytes: 100 * 1024 });
      expect((await refusalOf(run(bytes(big, 16_384)))).code).toBe('too_large');
      expect((await refusalOf(run(bytes(zip, 16_384)))).code).toBe('not_csv');
      const none = await refusalOf(run(bytes(noAddresses, 16_384)));
      expect(none.code).toBe('no_valid_rows');
      expect(none.message).toContain('line 2');
      expect(batchCount(core)).toBe(0);
    }
  });

  it('fails the import and leaves nothing when the upload breaks off in the middle', async () => {
    async function* breaksOff() {
      yield 'email,name\n';
      for (let i = 0; i < 50; i++)
        yield `${Array.from({ length: 100 }, (_, j) => `a${i}_${j}@x.com,A`).join('\n')}\n`;
      throw new Error('client went away');
    }
    for (const path of ['inline', 'worker'] as const) {
      const { core, run } = coreFor(path);
      await expect(run(breaksOff())).rejects.toThrow('client went away');
      expect(batchCount(core)).toBe(0);
      expect(core.db.$client.prepare('SELECT count(*) FROM contacts').pluck().get()).toBe(0);
      // The importer is still usable afterwards.
      const ok = await run(bytes('email\nfine@x.com\n'), 'ok.csv');
      expect(ok.report.imported).toBe(1);
    }
  });
});
