/**
 * Migration 0004 (drizzle/pg/0004_suppression_ids.sql) gives the suppression list an id, its page
 * cursor: the entries a deployment already holds are numbered in the order the list showed them
 * (by created_at, then hash), whatever order they lie in on disk, and new ones follow.
 */
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { rows } from '../../../src/db/pg/client.js';
import { PgSuppressionStore } from '../../../src/db/pg/suppression-store.js';
import { freshPg } from '../../pg/pg.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const migration = (file: string) =>
  readFileSync(new URL(`../../../drizzle/pg/${file}`, import.meta.url), 'utf8')
    .split('--> statement-breakpoint')
    .filter((s) => s.trim() !== '');

describe('suppression ids (Postgres migration 0004)', () => {
  it('numbers existing entries in the list order and pages through them by id', async () => {
    const pg = await freshPg({ migrated: false });
    cleanups.push(pg.drop);
    const q = (text: string, values: unknown[] = []) => pg.db.$client.query(text, values);
    for (const file of [
      '0000_init.sql',
      '0001_leases.sql',
      '0002_validation_lease.sql',
      '0003_identity_days.sql',
    ])
      for (const statement of migration(file)) await q(statement);
    // Written out of order: the newest first, two at the same moment (the hash decides).
    const entries: [string, number][] = [
      ['cc', 3000],
      ['0a', 1000],
      ['bb', 2000],
      ['0b', 2000],
    ];
    for (const [hash, at] of entries)
      await q(
        `INSERT INTO suppressions (email_hash, reason, actor, created_at) VALUES (decode($1, 'hex'), 'manual', 'U1', $2)`,
        [hash.repeat(32), at],
      );
    for (const statement of migration('0004_suppression_ids.sql')) await q(statement);

    const byId = await rows<{ id: number; hash: string }>(
      pg.db.$client,
      `SELECT id, left(encode(email_hash, 'hex'), 2) AS hash FROM suppressions ORDER BY id`,
    );
    expect(byId).toEqual([
      { id: 1, hash: '0a' },
      { id: 2, hash: '0b' },
      { id: 3, hash: 'bb' },
      { id: 4, hash: 'cc' },
    ]);
    // A new entry follows them; pages read after the last id seen.
    await q(
      `INSERT INTO suppressions (email_hash, reason, actor, created_at) VALUES (decode($1, 'hex'), 'manual', 'U1', 500)`,
      ['dd'.repeat(32)],
    );
    const store = new PgSuppressionStore(pg.db);
    const first = await store.listPage(0, 3);
    const second = await store.listPage(first.at(-1)!.id, 3);
    expect(first.map((r) => [r.id, r.hashHex.slice(0, 2)])).toEqual([
      [1, '0a'],
      [2, '0b'],
      [3, 'bb'],
    ]);
    expect(second.map((r) => [r.id, r.hashHex.slice(0, 2)])).toEqual([
      [4, 'cc'],
      [5, 'dd'],
    ]);
  });
});
