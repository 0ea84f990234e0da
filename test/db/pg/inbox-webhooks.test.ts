import { afterEach, describe, expect, it } from 'vitest';
import type { InboxStore } from '../../../src/core/inbox/inbox-store.js';
import type { WebhookStore } from '../../../src/core/webhooks/webhook-store.js';
import { openPg, type PgDb } from '../../../src/db/pg/client.js';
import { PgInboxStore } from '../../../src/db/pg/inbox-store.js';
import { PgWebhookStore } from '../../../src/db/pg/webhook-store.js';
import { SqliteInboxStore } from '../../../src/db/sqlite/inbox-store.js';
import { SqliteWebhookStore } from '../../../src/db/sqlite/webhook-store.js';
import { dialects, openTestDatabase, type Query, type TestDatabase } from '../../pg/dialects.js';
import { someoneWaitsForALock } from '../../pg/locks.js';
import { freshPg } from '../../pg/pg.js';
import { seedBatch } from '../../pg/seed.js';

function storesOf(t: TestDatabase): { inbox: InboxStore; webhooks: WebhookStore } {
  return t.dialect === 'sqlite'
    ? { inbox: new SqliteInboxStore(t.db), webhooks: new SqliteWebhookStore(t.db) }
    : { inbox: new PgInboxStore(t.db), webhooks: new PgWebhookStore(t.db) };
}

/** Pending deliveries straight into the outbox, due at the given times, ids in that order. */
async function seedDeliveries(q: Query, dueAt: number[]): Promise<number[]> {
  const ids: number[] = [];
  for (const [i, at] of dueAt.entries()) {
    const [r] = await q<{ id: number }>(
      `INSERT INTO webhook_deliveries (event, url, payload, created_at, next_attempt_at)
       VALUES ('batch.activated', 'https://hooks.test/a', $1, 1, $2) RETURNING id`,
      [`{"n":${i}}`, at],
    );
    ids.push(Number(r!.id));
  }
  return ids;
}

describe.each(dialects)('inbox store (%s)', (dialect) => {
  let t: TestDatabase | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it('records events once and forgets old ones', async () => {
    t = await openTestDatabase(dialect);
    const { inbox } = storesOf(t);
    expect(await inbox.recordEvent('Ev1', 100)).toBe(true);
    expect(await inbox.recordEvent('Ev1', 200)).toBe(false);
    expect(await inbox.recordEvent('Ev2', 300)).toBe(true);
    expect(await inbox.forgetEventsBefore(300)).toBe(1);
    expect(await inbox.forgetEventsBefore(300)).toBe(0);
    expect(await inbox.recordEvent('Ev1', 400)).toBe(true);
    expect(await t.query('SELECT event_id, at FROM processed_events ORDER BY at')).toEqual([
      { event_id: 'Ev2', at: 300 },
      { event_id: 'Ev1', at: 400 },
    ]);
  });

  it('claims a file once, keeps where to answer, settles it and sweeps interrupted claims', async () => {
    t = await openTestDatabase(dialect);
    const { inbox } = storesOf(t);
    await seedBatch(t, 'batch_00000001_1760000000');
    const claim = (externalId: string, at: number) =>
      inbox.claimFile({ externalId, actor: 'U1', replyTo: null, at });
    expect(await claim('slack:F1', 10)).toBe(true);
    expect(await claim('slack:F1', 11)).toBe(false);
    expect(
      await inbox.claimFile({ externalId: 'slack:F2', actor: 'U2', replyTo: '{"c":"C1"}', at: 20 }),
    ).toBe(true);
    expect(await claim('slack:F3', 30)).toBe(true);
    expect(await inbox.findFile('slack:F1')).toEqual({
      externalId: 'slack:F1',
      state: 'claimed',
      batchId: null,
      actor: 'U1',
      replyTo: null,
      errorCode: null,
    });
    expect(await inbox.findFile('slack:F9')).toBeNull();
    await inbox.setReplyTo('slack:F1', '{"ts":"1.2"}', 40);
    await inbox.settleFile('slack:F1', { state: 'imported', batchId: 'batch_00000001_1760000000' }, 50);
    await inbox.settleFile('slack:F3', { state: 'failed', errorCode: 'too_large' }, 60);
    expect(await inbox.findFile('slack:F1')).toEqual({
      externalId: 'slack:F1',
      state: 'imported',
      batchId: 'batch_00000001_1760000000',
      actor: 'U1',
      replyTo: '{"ts":"1.2"}',
      errorCode: null,
    });
    // A file once known stays known, whatever became of it.
    expect(await claim('slack:F3', 70)).toBe(false);

    expect(await inbox.failClaimedFiles('interrupted', 80)).toEqual([
      {
        externalId: 'slack:F2',
        state: 'failed',
        batchId: null,
        actor: 'U2',
        replyTo: '{"c":"C1"}',
        errorCode: 'interrupted',
      },
    ]);
    expect(await inbox.failClaimedFiles('interrupted', 90)).toEqual([]);
    expect(
      await t.query(
        'SELECT external_id, state, error_code, updated_at FROM file_imports ORDER BY external_id',
      ),
    ).toEqual([
      { external_id: 'slack:F1', state: 'imported', error_code: null, updated_at: 50 },
      { external_id: 'slack:F2', state: 'failed', error_code: 'interrupted', updated_at: 80 },
      { external_id: 'slack:F3', state: 'failed', error_code: 'too_large', updated_at: 60 },
    ]);
  });
});

describe.each(dialects)('webhook store (%s)', (dialect) => {
  let t: TestDatabase | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it('claims due deliveries oldest first under a lease, settles them and lists the log', async () => {
    t = await openTestDatabase(dialect);
    const { webhooks } = storesOf(t);
    const [a, b, c, d] = await seedDeliveries(t.query, [300, 100, 100, 900]);
    const claimed = await webhooks.claimDue({ now: 300, leaseUntil: 5000, limit: 2 });
    // As read before the lease.
    expect(claimed).toEqual([
      {
        id: b,
        event: 'batch.activated',
        url: 'https://hooks.test/a',
        payload: '{"n":1}',
        state: 'pending',
        attempts: 0,
        nextAttemptAt: 100,
        lastStatus: null,
        lastError: null,
        createdAt: 1,
        deliveredAt: null,
      },
      expect.objectContaining({ id: c, nextAttemptAt: 100 }),
    ]);
    expect((await webhooks.claimDue({ now: 300, leaseUntil: 5000, limit: 10 })).map((r) => r.id)).toEqual([
      a,
    ]);
    expect(await webhooks.claimDue({ now: 300, leaseUntil: 5000, limit: 10 })).toEqual([]);
    const leased = await t.query<{ id: number; next_attempt_at: number }>(
      'SELECT id, next_attempt_at FROM webhook_deliveries ORDER BY id',
    );
    expect(leased.map((r) => Number(r.next_attempt_at))).toEqual([5000, 5000, 5000, 900]);

    await webhooks.settle(b!, { kind: 'delivered', attempts: 1, status: 204, at: 400 });
    await webhooks.settle(c!, { kind: 'failed', attempts: 1, status: 500, error: 'HTTP 500', retryAt: 700 });
    await webhooks.settle(a!, { kind: 'failed', attempts: 8, status: null, error: 'timeout', retryAt: null });
    expect((await webhooks.listNewestFirst({ limit: 10 })).map((r) => [r.id, r.state])).toEqual([
      [d, 'pending'],
      [c, 'pending'],
      [b, 'delivered'],
      [a, 'failed'],
    ]);
    const [delivered] = await webhooks.listNewestFirst({ state: 'delivered', limit: 10 });
    expect(delivered).toMatchObject({
      attempts: 1,
      lastStatus: 204,
      lastError: null,
      deliveredAt: 400,
      nextAttemptAt: null,
    });
    const [failed] = await webhooks.listNewestFirst({ state: 'failed', limit: 10 });
    expect(failed).toMatchObject({
      attempts: 8,
      lastStatus: null,
      lastError: 'timeout',
      nextAttemptAt: null,
    });
    expect((await webhooks.listNewestFirst({ beforeId: c!, limit: 1 })).map((r) => r.id)).toEqual([b]);
    expect(
      (await webhooks.listNewestFirst({ state: 'pending', beforeId: d!, limit: 10 })).map((r) => r.id),
    ).toEqual([c]);
    // Retried: due again at its time.
    expect((await webhooks.claimDue({ now: 700, leaseUntil: 9000, limit: 10 })).map((r) => r.id)).toEqual([
      c,
    ]);
  });
});

/** Two pools on one fresh Postgres database: two app instances sharing it. */
async function twoInstances(): Promise<{ db: PgDb; other: PgDb; query: Query; close: () => Promise<void> }> {
  const main = await freshPg();
  const other = openPg(main.url, { max: 5 });
  const query: Query = async <T>(text: string, values: unknown[] = []) =>
    (await main.db.$client.query(text, values)).rows as T[];
  return {
    db: main.db,
    other,
    query,
    close: async () => {
      await other.$client.end();
      await main.drop();
    },
  };
}

describe('claims on Postgres with several instances', () => {
  let close: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await close?.();
    close = undefined;
  });

  it('imports a Slack file and handles an event once when two instances get them at the same moment', async () => {
    const two = await twoInstances();
    close = two.close;
    const instances = [new PgInboxStore(two.db), new PgInboxStore(two.other)];
    const imported: string[] = [];
    const handled: string[] = [];
    // What each instance's Slack handler does with a delivery: import the file if it claimed it.
    const receive = async (inbox: InboxStore, i: number, n: number) => {
      if (await inbox.recordEvent(`Ev${n}`, n)) handled.push(`Ev${n}@${i}`);
      if (await inbox.claimFile({ externalId: `slack:F${n}`, actor: 'U1', replyTo: null, at: n }))
        imported.push(`F${n}@${i}`);
    };
    for (let n = 0; n < 20; n++) await Promise.all(instances.map((inbox, i) => receive(inbox, i, n)));
    expect(handled.map((h) => h.split('@')[0])).toEqual(Array.from({ length: 20 }, (_, n) => `Ev${n}`));
    expect(imported.map((h) => h.split('@')[0])).toEqual(Array.from({ length: 20 }, (_, n) => `F${n}`));
    expect(await two.query('SELECT count(*) AS n FROM file_imports')).toEqual([{ n: 20 }]);
  });

  it('lets the second claim of an event wait for the first: false once it commits, true if it rolls back', async () => {
    const two = await twoInstances();
    close = two.close;
    const inbox = new PgInboxStore(two.other);
    for (const [outcome, expected] of [
      ['COMMIT', false],
      ['ROLLBACK', true],
    ] as const) {
      const first = await two.db.$client.connect();
      try {
        await first.query('BEGIN');
        await first.query(`INSERT INTO processed_events (event_id, at) VALUES ($1, 1)`, [outcome]);
        await first.query(
          `INSERT INTO file_imports (external_id, state, actor, created_at, updated_at)
          VALUES ($1, 'claimed', 'U1', 1, 1)`,
          [outcome],
        );
        const second = inbox.recordEvent(outcome, 2);
        const file = inbox.claimFile({ externalId: outcome, actor: 'U2', replyTo: null, at: 2 });
        await someoneWaitsForALock(two.query);
        await first.query(outcome);
        expect([await second, await file]).toEqual([expected, expected]);
      } finally {
        first.release();
      }
    }
  });

  it('never hands the same delivery to two instances claiming at once', async () => {
    const two = await twoInstances();
    close = two.close;
    const stores = [new PgWebhookStore(two.db), new PgWebhookStore(two.other)];
    const ids = await seedDeliveries(
      two.query,
      Array.from({ length: 40 }, (_, i) => 100 + i),
    );
    const got: number[] = [];
    for (let round = 0; round < 40; round++) {
      const claims = await Promise.all(
        stores.map((s) => s.claimDue({ now: 1000, leaseUntil: 60_000, limit: 3 })),
      );
      const ids = claims.flat().map((r) => r.id);
      if (ids.length === 0) break;
      got.push(...ids);
    }
    // Every delivery claimed, none twice.
    expect(got).toHaveLength(40);
    expect(new Set(got).size).toBe(40);
    expect([...got].sort((x, y) => x - y)).toEqual(ids);
  });

  it('skips deliveries another instance holds instead of waiting for them', async () => {
    const two = await twoInstances();
    close = two.close;
    const ids = await seedDeliveries(two.query, [100, 200, 300, 400, 500]);
    const holder = await two.db.$client.connect();
    try {
      await holder.query('BEGIN');
      // Another instance is in the middle of claiming the two oldest.
      await holder.query('SELECT id FROM webhook_deliveries WHERE id = ANY($1::bigint[]) FOR UPDATE', [
        ids.slice(0, 2),
      ]);
      const claimed = await new PgWebhookStore(two.other).claimDue({
        now: 1000,
        leaseUntil: 60_000,
        limit: 2,
      });
      expect(claimed.map((r) => r.id)).toEqual(ids.slice(2, 4));
      await holder.query('ROLLBACK');
    } finally {
      holder.release();
    }
    const rest = await new PgWebhookStore(two.other).claimDue({ now: 1000, leaseUntil: 60_000, limit: 10 });
    expect(rest.map((r) => r.id)).toEqual([ids[0], ids[1], ids[4]]);
  });
});
