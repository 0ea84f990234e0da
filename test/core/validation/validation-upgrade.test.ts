import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { Db } from '../../../src/db/client.js';
import { undoInboxMigrations } from '../../db/undo-inbox.js';
import { importText, testCore, waitFor } from '../../helpers.js';
import { FakeDns, type Zone } from './fake-dns.js';

/*
 * Before validation_runs (migration 0005_validation_runs), validation kept its runs, counts and
 * failures as JSON in `settings`. A database of that version keeps them after the upgrade: the
 * run under way continues from its cursor, the counts and the last failure read as before.
 */

const zone = (name: string): Zone | undefined =>
  name === 'probe.test' || /^d\d+\.test$/.test(name) ? { mx: [`mail.${name}`] } : undefined;

let dns: FakeDns | undefined;
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  await dns?.stop();
  dns = undefined;
});

const T = Date.UTC(2026, 0, 5, 10, 0, 0);

/** Core services over an existing database file, as the app builds them at start (migrated first). */
const servicesOver = (path: string, dir: string, env: Record<string, string>) =>
  testCore({ at: { path, dir }, env });

/** Turns a database of today's schema back into one of the version before validation_runs. */
function backToSettingsVersion(db: Db, rows: Record<string, unknown>): void {
  const s = db.$client;
  undoInboxMigrations(s); // and the inbox's (0008–0010)
  s.exec('DROP TABLE validation_runs');
  // And every later migration's change (0006: batches.importer; 0007: retention_proposals).
  s.exec('ALTER TABLE batches DROP COLUMN importer');
  s.exec('DROP TABLE retention_proposals');
  // The migrator applies every migration newer than the last one it recorded: forget 0005 onwards.
  const journal = z
    .object({ entries: z.array(z.object({ tag: z.string(), when: z.number() })) })
    .parse(JSON.parse(readFileSync(new URL('../../../drizzle/meta/_journal.json', import.meta.url), 'utf8')));
  const since = journal.entries.find((e) => e.tag === '0005_validation_runs')?.when;
  s.prepare('DELETE FROM __drizzle_migrations WHERE created_at >= ?').run(since);
  const put = s.prepare('INSERT INTO settings (key, value) VALUES (?, ?)');
  for (const [key, value] of Object.entries(rows)) put.run(key, JSON.stringify(value));
}

describe('upgrading a database that kept validation in settings', () => {
  it('keeps its finished counts, its failure and its run under way, which continues from its cursor', async () => {
    dns = await new FakeDns(zone).start();
    const env = {
      VALIDATION_DNS_SERVERS: dns.address,
      VALIDATION_TIMEOUT: '300ms',
      VALIDATION_PROBE_DOMAINS: 'probe.test',
    };
    const old = testCore({ env });
    cleanups.push(() => old.cleanup());
    const csv = (n: number, tag: string) =>
      `email\n${Array.from({ length: n }, (_, i) => `${tag}${i}@d${i}.test`).join('\n')}\n`;
    const done = (await importText(old.services, csv(3, 'a'))).batch.id;
    const running = (await importText(old.services, csv(4, 'b'))).batch.id;
    const failed = (await importText(old.services, csv(2, 'c'))).batch.id;
    const s = old.db.$client;
    const ids = (b: string) =>
      s.prepare('SELECT id FROM contacts WHERE batch_id = ? ORDER BY id').pluck().all(b) as number[];
    // What the old version had written: verdicts on contacts, and its JSON in settings.
    const mark = s.prepare('UPDATE contacts SET validation = ?, validated_at = ? WHERE id = ?');
    for (const id of ids(done)) mark.run('valid', T, id);
    const first = ids(running)[0]!;
    mark.run('valid', T, first);
    const secret = s.prepare('SELECT key, value FROM settings ORDER BY key').all();
    const message = 'DNS lookups are failing on this server; no contact was marked.';
    backToSettingsVersion(old.db, {
      [`validation:counts:${done}`]: {
        valid: 3,
        role: 0,
        disposable: 0,
        no_mail_domain: 0,
        unknown: 0,
        contactCount: 3,
        finishedAt: T,
      },
      [`validation:run:${running}`]: {
        id: 'val_0000beef',
        batchId: running,
        actor: 'U123',
        startedAt: T,
        afterId: first,
        checked: 1,
      },
      [`validation:counts:${running}`]: {
        valid: 1,
        role: 0,
        disposable: 0,
        no_mail_domain: 0,
        unknown: 0,
        contactCount: 4,
        finishedAt: null,
      },
      [`validation:failure:${failed}`]: {
        runId: 'val_0000dead',
        status: 'dns_unavailable',
        message,
        at: T,
        checked: 0,
      },
      // A run of a batch deleted since: nothing to keep.
      'validation:run:batch_00000000_1700000000': {
        id: 'val_00000000',
        batchId: 'batch_00000000_1700000000',
        actor: 'api',
        startedAt: T,
        afterId: 0,
        checked: 0,
      },
    });
    s.close();

    const now = servicesOver(old.path, join(old.path, '..'), env);
    cleanups.push(async () => {
      await now.services.validation.stop();
      now.db.$client.close();
    });
    const v = now.services.validation;
    // Other features' settings are untouched; validation's moved out.
    expect(now.db.$client.prepare('SELECT key, value FROM settings ORDER BY key').all()).toEqual(secret);

    expect(await v.summary(done)).toEqual({
      counts: { valid: 3, role: 0, disposable: 0, no_mail_domain: 0, unknown: 0, unchecked: 0 },
      run: null,
      failure: null,
      lastValidatedAt: new Date(T).toISOString(),
      includeInvalidDomains: false,
    });
    expect(await v.summary(failed)).toMatchObject({
      counts: { valid: 0, unchecked: 2 },
      run: null,
      failure: {
        runId: 'val_0000dead',
        status: 'dns_unavailable',
        message,
        at: new Date(T).toISOString(),
        checked: 0,
      },
      lastValidatedAt: null,
    });
    expect(await v.summary(running)).toMatchObject({
      counts: { valid: 1, unchecked: 3 },
      run: { id: 'val_0000beef', actor: 'U123', startedAt: new Date(T).toISOString(), checked: 1, total: 4 },
      failure: null,
    });

    // The run under way continues from its cursor: the first contact's domain is not asked again.
    expect(await v.resumeInterrupted()).toEqual([running]);
    await waitFor(async () => (await v.summary(running)).run === null);
    await v.idle();
    expect(await v.counts(running)).toEqual({
      valid: 4,
      role: 0,
      disposable: 0,
      no_mail_domain: 0,
      unknown: 0,
      unchecked: 0,
    });
    expect(dns.queries.map((q) => q.name)).not.toContain('d0.test');
    expect(dns.queries.map((q) => q.name)).toContain('d1.test');
    expect((await v.summary(running)).lastValidatedAt).not.toBeNull();

    // A second start finds nothing left to move and changes nothing.
    const again = servicesOver(old.path, join(old.path, '..'), env);
    expect((await again.services.validation.summary(done)).lastValidatedAt).toBe(new Date(T).toISOString());
    expect((await again.services.validation.summary(failed)).failure?.runId).toBe('val_0000dead');
    const runs = again.db.$client
      .prepare('SELECT batch_id AS batchId, seq, status FROM validation_runs ORDER BY batch_id')
      .all();
    again.db.$client.close();
    expect(runs).toHaveLength(3);
    expect(runs).toEqual(
      expect.arrayContaining([
        { batchId: done, seq: 1, status: 'finished' },
        { batchId: running, seq: 1, status: 'finished' },
        { batchId: failed, seq: 1, status: 'dns_unavailable' },
      ]),
    );
  });
});
