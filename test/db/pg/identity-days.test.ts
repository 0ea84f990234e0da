import { afterEach, describe, expect, it } from 'vitest';
import { openPg, type PgDb } from '../../../src/db/pg/client.js';
import { PgIdentityStore } from '../../../src/db/pg/identity-store.js';
import { createLogger } from '../../../src/logger.js';
import { freshPg } from '../../pg/pg.js';

/**
 * A sending identity's daily cap on Postgres (`identity_days`): every instance takes each message
 * from one shared count, so the cap holds across the cluster however the calls interleave.
 */

const log = createLogger('silent');
const dayMs = 86_400_000;
const day = Date.UTC(2026, 0, 14);
const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A database and two instances' stores on it, each with a pool of its own. */
async function twoInstances() {
  const { url, db, drop } = await freshPg();
  cleanups.push(drop);
  const pools: PgDb[] = [openPg(url, { max: 5 }), openPg(url, { max: 5 })];
  for (const p of pools) cleanups.push(() => p.$client.end());
  const stores = await Promise.all(pools.map((p) => PgIdentityStore.load(p, log, day + 3_600_000)));
  return { db, stores: stores as [PgIdentityStore, PgIdentityStore] };
}

/** `n` ledger rows through `account`, claimed at `at`. */
async function ledger(db: PgDb, account: string, n: number, at: number) {
  await db.$client.query(
    `INSERT INTO campaigns (id, name, subject, body, from_address, status, created_by, created_at, updated_at)
     VALUES ('cmp_1', 'c', 's', 'b', 'sales@coldbatch.test', 'sending', 'U1', $1, $1) ON CONFLICT DO NOTHING`,
    [at],
  );
  await db.$client.query(
    `INSERT INTO sends (campaign_id, contact_id, email_hash, run, status, claimed_at, updated_at, account)
     SELECT 'cmp_1', NULL, '\\x00'::bytea, 1, 'sent', $1, $1, $2 FROM generate_series(1, $3)`,
    [at, account, n],
  );
}

const used = async (db: PgDb, account: string, d: number) =>
  (
    await db.$client.query<{ used: number }>(
      'SELECT used FROM identity_days WHERE account = $1 AND day = $2',
      [account, d],
    )
  ).rows[0]?.used;

describe('identity_days: the cluster-wide daily count of a capped sending identity', () => {
  it('20 concurrent reservations from two instances with a cap of 7: exactly 7 are taken, counts 1 to 7', async () => {
    const { db, stores } = await twoInstances();
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) => stores[i % 2]!.reserve('smtp.a:587:alice', day, 7)),
    );
    const taken = answers.filter((n): n is number => n !== null);
    expect(taken.sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(answers.filter((n) => n === null)).toHaveLength(13);
    expect(await used(db, 'smtp.a:587:alice', day)).toBe(7);
    // at the cap: nothing more on either instance
    expect(await stores[0].reserve('smtp.a:587:alice', day, 7)).toBeNull();
    expect(await stores[1].reserve('smtp.a:587:alice', day, 7)).toBeNull();
    expect(await used(db, 'smtp.a:587:alice', day)).toBe(7);
  });

  it('release gives one back (to the other instance too), never below zero; accounts and days count apart', async () => {
    const { db, stores } = await twoInstances();
    expect(await stores[0].reserve('a', day, 2)).toBe(1);
    expect(await stores[1].reserve('a', day, 2)).toBe(2);
    expect(await stores[0].reserve('a', day, 2)).toBeNull();
    await stores[0].release('a', day);
    expect(await used(db, 'a', day)).toBe(1);
    expect(await stores[1].reserve('a', day, 2)).toBe(2);
    // another account, the next day: counted apart
    expect(await stores[0].reserve('b', day, 2)).toBe(1);
    expect(await stores[0].reserve('a', day + dayMs, 2)).toBe(1);
    for (let i = 0; i < 4; i++) await stores[1].release('b', day);
    expect(await used(db, 'b', day)).toBe(0);
    expect(await used(db, 'a', day)).toBe(2);
    // a release with no row for the day changes nothing
    await stores[1].release('c', day);
    expect(await used(db, 'c', day)).toBeUndefined();
  });

  it('the day’s first reservation starts from the ledger’s count for that account and day (an upgrade mid-day)', async () => {
    const { db, stores } = await twoInstances();
    await ledger(db, 'a', 4, day + 60_000); // today through `a`
    await ledger(db, 'a', 9, day - 60_000); // yesterday: not today's
    await ledger(db, 'b', 3, day + 60_000); // another account
    expect(await stores[0].reserve('a', day, 6)).toBe(5);
    expect(await stores[1].reserve('a', day, 6)).toBe(6);
    expect(await stores[0].reserve('a', day, 6)).toBeNull();
    // the row counts from then on: ledger rows added later are not counted twice
    await ledger(db, 'a', 2, day + 120_000);
    await stores[1].release('a', day);
    expect(await stores[1].reserve('a', day, 6)).toBe(6);
    // a ledger already at the cap: nothing taken
    expect(await stores[0].reserve('b', day, 3)).toBeNull();
    expect(await stores[0].reserve('b', day, 4)).toBe(4);
  });
});
