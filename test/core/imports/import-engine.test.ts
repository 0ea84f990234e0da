import { monitorEventLoopDelay } from 'node:perf_hooks';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DomainError } from '../../../src/errors.js';
import { importText, testCore } from '../../helpers.js';

type Core = ReturnType<typeof testCore>;
let core: Core;
beforeEach(() => {
  core = testCore();
});
afterEach(() => core.cleanup());

const count = (sql: string) => (core.db.$client.prepare(sql).get() as { n: number }).n;

function csv(rows: number, prefix: string): string {
  const lines = ['email,first name,last name,company,position'];
  for (let i = 0; i < rows; i++)
    lines.push(`${prefix}${i}@example.com,First${i},Last${i},Company ${i % 100},Role ${i % 7}`);
  return `${lines.join('\n')}\n`;
}

describe('import engine', () => {
  it('keeps exactly one active batch when two imports run at once', async () => {
    const results = await Promise.all([
      importText(core.services, csv(5000, 'a'), { fileName: 'a.csv' }),
      importText(core.services, csv(5000, 'b'), { fileName: 'b.csv' }),
    ]);
    expect(results.map((r) => r.report.imported)).toEqual([5000, 5000]);
    expect(count(`SELECT count(*) AS n FROM batches WHERE status = 'active'`)).toBe(1);
    expect(count(`SELECT count(*) AS n FROM batches WHERE status = 'inactive'`)).toBe(1);
    expect(count('SELECT count(*) AS n FROM contacts')).toBe(10000);
    // The audience is the active batch only.
    expect(await core.services.audience.count()).toBe(5000);
  });

  it('enforces one active batch in the schema, not only in code', () => {
    const insert = core.db.$client.prepare(
      `INSERT INTO batches (id, name, source, status, created_by, created_at) VALUES (?, 'x', 'api', 'active', 't', 1)`,
    );
    insert.run('batch_00000001_1');
    expect(() => insert.run('batch_00000002_1')).toThrow(/UNIQUE/);
  });

  it('counts in-file duplicates, existing and invalid rows, with line numbers for errors', async () => {
    await importText(core.services, 'email\nknown@x.com\n', { fileName: 'first.csv' });
    const r = await importText(
      core.services,
      'email,name\nnew@x.com,A\nNEW@x.com,B\nknown@x.com,C\nnope,D\n,E\n,,\nother@x.com,F\n',
    );
    expect(r.report).toMatchObject({
      rows: 6,
      imported: 2,
      duplicateInFile: 1,
      existing: 1,
      invalid: 2,
      suppressed: 0,
    });
    expect(r.report.errors).toEqual([
      { line: 5, reason: 'invalid e-mail address "nope"' },
      { line: 6, reason: 'no e-mail address' },
    ]);
  });

  it('keeps only the first 100 errors in the report', async () => {
    const bad = Array.from({ length: 150 }, (_, i) => `bad${i}`).join('\n');
    const r = await importText(core.services, `email\nok@x.com\n${bad}\n`);
    expect(r.report.invalid).toBe(150);
    expect(r.report.errors).toHaveLength(100);
  });

  it('leaves nothing behind when the source fails half-way, and the previous batch stays active', async () => {
    const first = await importText(core.services, csv(10, 'keep'));
    async function* failing() {
      yield Buffer.from(csv(6000, 'lost'));
      throw new Error('connection reset');
    }
    await expect(
      core.services.imports.importFile({ source: failing(), fileName: 'x.csv', origin: 'api', actor: 't' }),
    ).rejects.toThrow('connection reset');
    expect(count('SELECT count(*) AS n FROM batches')).toBe(1);
    expect(count('SELECT count(*) AS n FROM contacts')).toBe(10);
    expect((await core.services.batches.getActive())?.id).toBe(first.batch.id);
  });

  it('does not block the event loop for long on 200,000 rows', async () => {
    const content = csv(200_000, 'loop');
    const h = monitorEventLoopDelay({ resolution: 10 });
    h.enable();
    const started = performance.now();
    const r = await importText(core.services, content, { chunkSize: 64 * 1024 });
    const seconds = (performance.now() - started) / 1000;
    h.disable();
    const maxBlockMs = h.max / 1e6;
    console.log(
      `200k-row import: ${seconds.toFixed(2)} s (${Math.round(200_000 / seconds)} rows/s), ` +
        `longest event-loop block ${maxBlockMs.toFixed(1)} ms, p99 ${(h.percentile(99) / 1e6).toFixed(1)} ms`,
    );
    expect(r.report.imported).toBe(200_000);
    // Slack needs an ack within 3 s; chunks keep each block far below that.
    expect(maxBlockMs).toBeLessThan(1000);
  });

  it('refuses with DomainError codes the transports map', async () => {
    const err = await importText(core.services, '').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DomainError);
    expect((err as DomainError).code).toBe('empty_file');
  });
});
