import { afterEach, describe, expect, it } from 'vitest';
import { migratePg, openPg, rows } from '../../src/db/pg/client.js';
import { freshPg } from '../pg/pg.js';

describe('Postgres client (DATABASE_URL)', () => {
  const drops: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const d of drops.splice(0)) await d();
  });

  it('a database that is not UTF-8 is refused before anything is created, saying how to make one', async () => {
    const ascii = await freshPg({ encoding: 'SQL_ASCII' });
    drops.push(ascii.drop);
    const refused = await migratePg(ascii.db).then(
      () => null,
      (e: unknown) => (e instanceof Error ? e.message : String(e)),
    );
    expect(refused).toContain(`"${ascii.name}" uses the encoding SQL_ASCII`);
    expect(refused).toContain(`CREATE DATABASE ${ascii.name} ENCODING 'UTF8' TEMPLATE template0`);
    const tables = await rows<{ n: number }>(
      ascii.db.$client,
      `SELECT count(*) AS n FROM information_schema.tables WHERE table_schema IN ('public', 'drizzle')`,
    );
    expect(tables).toEqual([{ n: 0 }]);
  });

  it('three instances starting together migrate once, under the advisory lock', async () => {
    const empty = await freshPg({ migrated: false });
    drops.push(empty.drop);
    const pools = [0, 1, 2].map(() => openPg(empty.url, { max: 2 }));
    await Promise.all(pools.map((p) => migratePg(p)));
    await Promise.all(pools.map((p) => p.$client.end()));
    const applied = await rows<{ n: number }>(
      empty.db.$client,
      'SELECT count(*) AS n FROM drizzle.__drizzle_migrations',
    );
    expect(applied[0]?.n).toBeGreaterThanOrEqual(1);
    const again = await rows<{ n: number }>(
      empty.db.$client,
      'SELECT count(*) AS n FROM drizzle.__drizzle_migrations',
    );
    expect(again).toEqual(applied);
    const tables = await rows<{ table_name: string }>(
      empty.db.$client,
      `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1`,
    );
    expect(tables.map((t) => t.table_name)).toEqual(
      expect.arrayContaining([
        'batches',
        'contacts',
        'sends',
        'campaigns',
        'sequence_people',
        'inbox_messages',
      ]),
    );
  });

  it('keeps the invariants in the schema: one active batch, numbers as numbers', async () => {
    const { db, drop } = await freshPg();
    drops.push(drop);
    const insert = `INSERT INTO batches (id, name, source, status, created_by, created_at) VALUES ($1, $1, 'cli', 'active', 'test', $2)`;
    await db.$client.query(insert, ['b1', 1_700_000_000_000]);
    await expect(db.$client.query(insert, ['b2', 1_700_000_000_001])).rejects.toThrow(/batches_one_active/);
    const [b] = await rows<{ created_at: number; n: number }>(
      db.$client,
      `SELECT created_at, (SELECT count(*) FROM batches) AS n FROM batches`,
    );
    expect(b).toEqual({ created_at: 1_700_000_000_000, n: 1 });
  });
});
