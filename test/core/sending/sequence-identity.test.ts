import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { migrateDb, openDb } from '../../../src/db/client.js';
import { SqliteIdentityStore } from '../../../src/db/sqlite/identity-store.js';
import { createLogger } from '../../../src/logger.js';
import { createIdentityMailer } from '../../../src/mail/identities.js';
import type { Mailer } from '../../../src/mail/mailer.js';
import { importText, tempDir, testClock, testCore } from '../../helpers.js';
import { startSink } from '../../smtp-sink.js';

const day = 86_400_000;
const clock = testClock(Date.UTC(2026, 0, 14, 12));
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** Two sending identities on two SMTP sinks (`a` with a cap of one a day), the core over a real file. */
async function twoIdentities() {
  const a = await startSink();
  const b = await startSink();
  cleanups.push(
    () => a.close(),
    () => b.close(),
  );
  const { dir, cleanup } = tempDir();
  cleanups.push(cleanup);
  const path = join(dir, 'test.db');
  const own = openDb(path);
  migrateDb(own);
  cleanups.push(() => own.$client.close());
  const mailer: Mailer = createIdentityMailer({
    accounts: [
      { key: 'a', url: a.url, cap: 1, warmup: null },
      { key: 'b', url: b.url, cap: null, warmup: null },
    ],
    store: new SqliteIdentityStore(own.$client),
    clock,
    log: createLogger('silent'),
  });
  cleanups.push(() => mailer.close());
  const core = testCore({ clock, mailer, at: { path, dir } });
  cleanups.push(() => core.cleanup());
  return { a, b, core, s: core.services };
}

describe('a sequence with several sending identities', () => {
  it('sends each follow-up from the identity of the person’s first step; at its cap, later, without spending an attempt', async () => {
    const { a, b, core, s } = await twoIdentities();
    await importText(s, 'email\np1@x.com\np2@x.com\np3@x.com\n');
    const first = { subject: 'Hi', body: 'one', delayDays: 0 };
    const c = await s.campaigns.create({ name: 'pinned', ...first, sendAt: 'now' }, 'U1');
    // Step 2 is due as soon as step 1 went: the pinned identity `a` is then at today's cap.
    core.db.$client
      .prepare('UPDATE campaigns SET steps = ? WHERE id = ?')
      .run(JSON.stringify([first, { body: 'two', delayDays: 0 }]), c.id);

    await s.sending.runDue();
    await s.sending.runDue();
    expect(a.received).toHaveLength(1); // its cap
    const viaA = a.received[0]!.to;
    const viaB = b.received.filter((m) => m.headers['in-reply-to'] === undefined).map((m) => m.to);
    expect(viaB.sort()).toEqual(['p1@x.com', 'p2@x.com', 'p3@x.com'].filter((e) => e !== viaA));
    // B's people got step 2 from B; A's person waits for A: a retry without an attempt, no outage.
    const followUpsB = b.received.filter((m) => m.headers['in-reply-to'] !== undefined);
    expect(followUpsB.map((m) => m.to).sort()).toEqual(viaB.sort());
    const waiting = core.db.$client
      .prepare(
        `SELECT status, attempts, response FROM sends WHERE campaign_id = ? AND step = 2 AND status <> 'sent'`,
      )
      .all(c.id) as { status: string; attempts: number; response: string }[];
    expect(waiting).toEqual([
      { status: 'retry', attempts: 0, response: expect.stringContaining('identity') },
    ]);
    const campaign = await s.campaigns.get(c.id);
    expect(campaign.status).toBe('sending');
    expect(campaign.statusReason ?? '').not.toContain('cannot be reached');

    clock.advance(day); // a new day: `a` has room again
    await s.sending.runDue();
    expect(a.received).toHaveLength(2);
    const followUpA = a.received[1]!;
    expect(followUpA.to).toBe(viaA);
    expect(followUpA.headers['in-reply-to']).toBe(a.received[0]!.headers['message-id']);
    expect(b.received.filter((m) => m.to === viaA)).toEqual([]);
    expect((await s.campaigns.get(c.id)).status).toBe('completed');
  });

  it('a follow-up whose identity is no longer configured goes through any other', async () => {
    const { a, b, core, s } = await twoIdentities();
    await importText(s, 'email\np1@x.com\n');
    const first = { subject: 'Hi', body: 'one', delayDays: 0 };
    const c = await s.campaigns.create({ name: 'gone', ...first, sendAt: 'now' }, 'U1');
    core.db.$client
      .prepare('UPDATE campaigns SET steps = ? WHERE id = ?')
      .run(JSON.stringify([first, { body: 'two', delayDays: 1 }]), c.id);
    await s.sending.runDue();
    expect(a.received.length + b.received.length).toBe(1);
    // The account that sent step 1 was removed from SMTP_URLS since.
    core.db.$client.prepare(`UPDATE sends SET account = 'removed:587:old' WHERE campaign_id = ?`).run(c.id);
    clock.advance(day);
    await s.sending.runDue();
    const followUp = [...a.received, ...b.received].find((m) => m.headers['in-reply-to'] !== undefined);
    expect(followUp?.to).toBe('p1@x.com');
    expect((await s.campaigns.get(c.id)).status).toBe('completed');
  });
});
