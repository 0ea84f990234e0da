import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openPg } from '../../src/db/pg/client.js';
import { PgIdentityStore } from '../../src/db/pg/identity-store.js';
import { createLogger } from '../../src/logger.js';
import { createIdentityMailer, type IdentityConfig, type IdentityStore } from '../../src/mail/identities.js';
import { MailError, type Mailer, type OutgoingMessage } from '../../src/mail/mailer.js';
import { freePort } from '../faults/raw-smtp.js';
import { testClock } from '../helpers.js';
import { freshPg } from '../pg/pg.js';
import { startSink } from '../smtp-sink.js';

/**
 * Several app instances on one Postgres sending through the same SMTP_URLS accounts: each
 * message of a capped account is reserved in the shared count first, so the cap holds for the
 * cluster, not per instance; a message past it is refused as transient (kept for later).
 */

const log = createLogger('silent');
const day = Date.UTC(2026, 0, 14);
const clock = testClock(day + 12 * 3_600_000);
const cleanups: (() => Promise<unknown> | unknown)[] = [];
beforeEach(() => clock.set(day + 12 * 3_600_000));
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const message = (n: number): OutgoingMessage => ({
  from: 'sales@coldbatch.test',
  to: `p${n}@example.org`,
  subject: 'Hi',
  text: 'Hello',
  headers: {},
  ref: `r${n}`,
});

/** `count` instances on one new database: each its own pool, PgIdentityStore and identity mailer. */
async function instances(count: number, accounts: IdentityConfig[]) {
  const { url, db, drop } = await freshPg();
  cleanups.push(drop);
  const mailers: Mailer[] = [];
  for (let i = 0; i < count; i++) {
    const pool = openPg(url, { max: 5 });
    cleanups.push(() => pool.$client.end());
    const store = await PgIdentityStore.load(pool, log, clock.now());
    const mailer = createIdentityMailer({ accounts, store, clock, log });
    cleanups.push(() => mailer.close());
    mailers.push(mailer);
  }
  return { db, mailers };
}

async function sink() {
  const s = await startSink();
  cleanups.push(s.close);
  return s;
}

/** Sends `perInstance` messages from every instance at once; what each send came to. */
async function sendAll(mailers: Mailer[], perInstance: number) {
  const sends = mailers.flatMap((m, i) =>
    Array.from({ length: perInstance }, (_, j) => m.send(message(i * perInstance + j))),
  );
  return await Promise.allSettled(sends);
}

describe('sending identities on several instances sharing Postgres', () => {
  it('two instances sending 16 messages at once through one account with cap 5: exactly 5 leave, the rest are transient with nothing sent, both show 5 today', async () => {
    const a = await sink();
    const key = `127.0.0.1:${a.port}:a`;
    const { db, mailers } = await instances(2, [{ key, url: a.url, cap: 5, warmup: null }]);

    const results = await sendAll(mailers, 8);
    const sent = results.filter((r) => r.status === 'fulfilled');
    const refused = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
    expect(sent).toHaveLength(5);
    expect(a.received).toHaveLength(5);
    expect(refused).toHaveLength(11);
    for (const e of refused) {
      expect(e).toBeInstanceOf(MailError);
      expect((e as MailError).kind).toBe('transient');
      expect((e as MailError).unreachable).toBe(true); // nothing left: no attempt is spent
      // the cap, not a server outage: the engine keeps the row without announcing one
      expect((e as MailError).noRoom).toBe(true);
    }
    for (const m of mailers) {
      expect(m.identities?.(clock.now())).toEqual([
        { key, sentToday: 5, capToday: 5, skippedUntil: null, consecutiveFailures: 0 },
      ]);
      expect(m.room?.(clock.now())).toBe(0);
    }
    const { rows } = await db.$client.query('SELECT used FROM identity_days WHERE account = $1', [key]);
    expect(rows).toEqual([{ used: 5 }]);

    // the next day each instance has the cap again, for the cluster
    clock.advance(86_400_000);
    const next = await sendAll(mailers, 4);
    expect(next.filter((r) => r.status === 'fulfilled')).toHaveLength(5);
    expect(a.received).toHaveLength(10);
  });

  it('an account the other instance filled is passed over for the next one; an unreachable one gives its reservation back', async () => {
    const capped = await sink();
    const open = await sink();
    const dead = `127.0.0.1:${await freePort()}:dead`;
    const kc = `127.0.0.1:${capped.port}:c`;
    const ko = `127.0.0.1:${open.port}:o`;
    const { db, mailers } = await instances(2, [
      { key: dead, url: `smtp://${dead.split(':').slice(0, 2).join(':')}`, cap: 2, warmup: null },
      { key: kc, url: capped.url, cap: 3, warmup: null },
      { key: ko, url: open.url, cap: null, warmup: null },
    ]);

    const results = await sendAll(mailers, 10);
    expect(results.every((r) => r.status === 'fulfilled')).toBe(true);
    expect(capped.received).toHaveLength(3);
    expect(open.received).toHaveLength(17);
    const { rows } = await db.$client.query<{ account: string; used: number }>(
      'SELECT account, used FROM identity_days',
    );
    expect(Object.fromEntries(rows.map((r) => [r.account, r.used]))).toEqual({ [dead]: 0, [kc]: 3 });
    // (the dead account's count in memory is left out: a release by the other instance is not
    // seen here, so it may show one it was refused; the database's count above is the truth)
    for (const m of mailers) {
      const state = new Map(m.identities?.(clock.now()).map((s) => [s.key, s]));
      expect(state.get(kc)?.sentToday).toBe(3);
      expect(state.get(dead)?.consecutiveFailures).toBeGreaterThan(0); // each instance tried it
    }
  });

  it('in memory: a reservation counts at once; answers arriving out of order leave the highest (a refusal: the cap); a store error is transient with nothing sent', async () => {
    const waiting: ((n: number | null) => void)[] = [];
    let broken = false;
    const store: IdentityStore = {
      countSince: () => new Map(),
      loadHealth: () => [],
      saveHealth: () => {},
      reserve: () =>
        broken
          ? Promise.reject(new Error('connection lost'))
          : new Promise<number | null>((resolve) => waiting.push(resolve)),
      release: async () => {},
    };
    const sent: string[] = [];
    const mailer = createIdentityMailer({
      accounts: [{ key: 'a', url: 'smtp://unused', cap: 5, warmup: null }],
      store,
      clock,
      log,
      transport: () => ({
        kind: 'smtp',
        send: async (m) => {
          sent.push(m.to);
          return { messageId: '<x@coldbatch.test>', response: '250 ok' };
        },
        verify: async () => true,
        close: async () => {},
      }),
    });
    const now = clock.now();
    const sends = Promise.allSettled(Array.from({ length: 5 }, (_, i) => mailer.send(message(i))));
    expect(waiting).toHaveLength(5);
    expect(mailer.room?.(now)).toBe(0); // counted before the answers
    const tick = () => new Promise((r) => setImmediate(r));
    // the other instance took three meanwhile: two refusals, then 3 and 4 (arriving last)
    for (const [i, answer] of [
      [0, null],
      [1, null],
      [2, 3],
      [3, null],
      [4, 4],
    ] as const) {
      waiting[i]!(answer);
      await tick();
    }
    const results = await sends;
    expect(results.map((r) => r.status)).toEqual([
      'rejected',
      'rejected',
      'fulfilled',
      'rejected',
      'fulfilled',
    ]);
    expect(sent).toHaveLength(2);
    expect(mailer.identities?.(now)[0]).toMatchObject({ sentToday: 5, capToday: 5 });
    expect(mailer.room?.(now)).toBe(0);

    // a new day; the database cannot be reached: nothing sent, no attempt spent, nothing counted
    clock.advance(86_400_000);
    broken = true;
    const e = await mailer.send(message(9)).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(MailError);
    expect(e).toMatchObject({ kind: 'transient', unreachable: true });
    expect(sent).toHaveLength(2);
    expect(mailer.identities?.(clock.now())[0]).toMatchObject({ sentToday: 0 });
    expect(mailer.room?.(clock.now())).toBe(5);
  });
});
