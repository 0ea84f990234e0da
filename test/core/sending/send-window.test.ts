import { afterEach, expect, it } from 'vitest';
import { hardBounceRule } from '../../../src/core/contacts/hard-bounce.js';
import { SendEngine } from '../../../src/core/sending/send-engine.js';
import { sqliteStores } from '../../../src/db/sqlite/stores.js';
import type { Mailer, OutgoingMessage, SentInfo } from '../../../src/mail/mailer.js';
import { importText, testCore, waitFor } from '../../helpers.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/**
 * A mail server that holds every answer until the test lets it go: what the engine has in flight
 * (handed to the mailer, not yet answered) can be counted at any moment.
 */
function heldMailer() {
  const waiting: { to: string; answer: () => void }[] = [];
  const sent: string[] = [];
  let most = 0;
  const mailer: Mailer = {
    kind: 'smtp',
    send: (m: OutgoingMessage) =>
      new Promise<SentInfo>((resolve) => {
        waiting.push({
          to: m.to,
          answer: () => {
            sent.push(m.to);
            resolve({ messageId: `<${m.ref}@test>`, response: '250 ok' });
          },
        });
        most = Math.max(most, waiting.length);
      }),
    verify: async () => true,
    close: async () => {},
  };
  return {
    mailer,
    sent,
    /** Messages handed to the mailer and not yet answered. */
    get inFlight() {
      return waiting.length;
    },
    /** The most ever in flight at once. */
    get most() {
      return most;
    },
    /** Answers the `n` oldest messages in flight. */
    answer(n = 1) {
      for (const w of waiting.splice(0, n)) w.answer();
    },
  };
}

/** Lets every pending callback, timer of 0 ms and I/O turn run (the engine reacts to an answer). */
const settle = async () => {
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
};

const list = (n: number) => `email\n${Array.from({ length: n }, (_, i) => `w${i}@x.com`).join('\n')}\n`;

it('keeps twice SMTP_MAX_CONNECTIONS messages in flight while there is more to send, never more', async () => {
  const held = heldMailer();
  const core = testCore({ mailer: held.mailer, env: { SMTP_MAX_CONNECTIONS: '3' } });
  cleanups.push(core.cleanup);
  const s = core.services;
  await importText(s, list(40));
  const c = await s.campaigns.create({ name: 'c', subject: 's', body: 'b', sendAt: 'now' }, 'U1');

  const run = s.sending.runDue();
  await waitFor(() => held.inFlight === 6);
  await settle();
  expect(held.inFlight).toBe(6); // the whole window, and no more
  // Answered one at a time, the window is claimed again before it runs low: the pool (3) always
  // has messages waiting beyond the ones its connections carry, while there are more to send.
  const low: number[] = [];
  while (held.sent.length < 34) {
    held.answer(1);
    await settle();
    low.push(held.inFlight);
  }
  expect(Math.min(...low)).toBeGreaterThan(3);
  expect(held.most).toBe(6);
  while (held.sent.length < 40) {
    held.answer(held.inFlight);
    await settle();
  }
  await run;
  expect((await s.campaigns.get(c.id)).status).toBe('completed');
  expect(new Set(held.sent).size).toBe(40);
  expect(await s.campaigns.counts(c.id)).toMatchObject({ sent: 40, pending: 0 });
});

it('a pass that used its budget goes on in the same runDue call (no wait for the next tick)', async () => {
  // Every answer comes after a few ms: a 1 ms budget ends every pass after its first answer.
  const mailer: Mailer = {
    kind: 'smtp',
    send: (m) =>
      new Promise((r) => setTimeout(() => r({ messageId: `<${m.ref}@test>`, response: '250 ok' }), 3)),
    verify: async () => true,
    close: async () => {},
  };
  const core = testCore({ mailer });
  cleanups.push(core.cleanup);
  const s = core.services;
  const stores = sqliteStores(core.db);
  const engine = new SendEngine(
    {
      log: core.deps.log,
      clock: core.deps.clock,
      mailer,
      store: stores.sends,
      campaigns: s.campaigns.machine,
      audience: s.audience,
      bounces: hardBounceRule(stores.suppressions),
    },
    {
      publicUrl: 'https://coldbatch.test',
      postalAddress: 'Rua Exemplo 100',
      unsubscribeMailto: undefined,
      unsubscribeKey: async () => 'a-test-signing-key-of-some-length',
      missedGraceMs: 3_600_000,
      bouncePause: { rate: 0.5, minSends: 1000 },
      maxAttempts: 3,
      retryDelaysMs: [60_000],
      concurrency: 1,
      runBudgetMs: 1,
    },
  );
  await importText(s, list(12));
  const c = await s.campaigns.create({ name: 'c', subject: 's', body: 'b', sendAt: 'now' }, 'U1');

  await engine.runDue();
  expect((await s.campaigns.get(c.id)).status).toBe('completed');
  expect(await s.campaigns.counts(c.id)).toMatchObject({ sent: 12, pending: 0 });
});
