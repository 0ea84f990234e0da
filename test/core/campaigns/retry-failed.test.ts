import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Services } from '../../../src/core/index.js';
import { createLogger } from '../../../src/logger.js';
import { createMailer } from '../../../src/mail/index.js';
import { importText, refusal, testClock, testCore } from '../../helpers.js';
import { startSink } from '../../smtp-sink.js';

let sink: Awaited<ReturnType<typeof startSink>>;
let mailer: ReturnType<typeof createMailer>;
let core: ReturnType<typeof testCore>;
let s: Services;
const clock = testClock(Date.UTC(2026, 0, 14, 12));
/** Recipients the sink answers 451 while `failing` is on. */
let failing = true;
const flaky = new Set(['f1@x.com', 'f2@x.com', 'gone@x.com']);

beforeEach(async () => {
  clock.set(Date.UTC(2026, 0, 14, 12));
  failing = true;
  sink = await startSink({ reject: (to) => (failing && flaky.has(to) ? 451 : undefined) });
  mailer = createMailer({ smtpUrl: sink.url, outboxDir: '/nonexistent', log: createLogger('silent') });
  core = testCore({ clock, mailer });
  s = core.services;
});
afterEach(async () => {
  await mailer.close();
  core.cleanup();
  await sink.close();
});

const contactId = (email: string) =>
  (core.db.$client.prepare('SELECT id FROM contacts WHERE email = ?').get(email) as { id: number }).id;
const received = (to: string) => sink.received.filter((m) => m.to === to).length;

/** Ticks (moving the clock past each retry delay) until the campaign is completed. */
async function untilCompleted(id: string) {
  for (let i = 0; i < 20 && (await s.campaigns.get(id)).status !== 'completed'; i++) {
    await s.sending.runDue();
    clock.advance(2 * 3_600_000);
  }
  expect((await s.campaigns.get(id)).status).toBe('completed');
}

/** A completed campaign: ok1, ok2 sent; f1, f2, gone failed (3 × 451); late was inactive during the send. */
async function completedWithFailures() {
  await importText(s, 'email\nok1@x.com\nok2@x.com\nf1@x.com\nf2@x.com\ngone@x.com\nlate@x.com\n');
  await s.contacts.setStatus(contactId('late@x.com'), 'inactive', 'U1');
  const c = await s.campaigns.create({ name: 'c', subject: 's', body: 'b', sendAt: 'now' }, 'U1');
  await untilCompleted(c.id);
  expect(await s.campaigns.counts(c.id)).toMatchObject({ sent: 2, failed: 3, unknown: 0 });
  expect(sink.received).toHaveLength(2);
  return c.id;
}

describe('retry failed sends', () => {
  it('re-sends exactly the failed ones, once, never to people who left the audience or were never in the run', async () => {
    const id = await completedWithFailures();
    failing = false;
    await s.contacts.setStatus(contactId('gone@x.com'), 'unsubscribed', 'system');
    // Back in the audience after the run: not one of this campaign's recipients.
    await s.contacts.setStatus(contactId('late@x.com'), 'active', 'U1');

    const r = await s.campaigns.retryFailed(id, 'U1');
    expect(r.requeued).toBe(2);
    expect(r.campaign.status).toBe('sending');
    await untilCompleted(id);
    expect(sink.received.map((m) => m.to).sort()).toEqual(['f1@x.com', 'f2@x.com', 'ok1@x.com', 'ok2@x.com']);
    expect(received('gone@x.com')).toBe(0);
    expect(received('late@x.com')).toBe(0);
    expect(await s.campaigns.counts(id)).toMatchObject({ sent: 4, failed: 1, pending: 0, total: 5 });

    // Only gone@ is left failed, and it is out of the audience: nothing to retry.
    expect((await refusal(() => s.campaigns.retryFailed(id, 'U1'))).code).toBe('conflict');
    expect((await s.campaigns.get(id)).status).toBe('completed');
    await s.sending.runDue();
    expect(sink.received).toHaveLength(4);
  });

  it('retries that fail again end failed again after fresh attempts', async () => {
    const id = await completedWithFailures();
    await s.campaigns.retryFailed(id, 'U1');
    await untilCompleted(id);
    expect(await s.campaigns.counts(id)).toMatchObject({ sent: 2, failed: 3 });
    expect(sink.received).toHaveLength(2);
  });

  it('re-sends unknown deliveries only with includeUnknown and the confirmation', async () => {
    const id = await completedWithFailures();
    failing = false;
    // ok2's delivery was interrupted by a stop: the start-up sweep reports it unknown.
    core.db.$client
      .prepare(`UPDATE sends SET status = 'claimed' WHERE contact_id = ?`)
      .run(contactId('ok2@x.com'));
    expect(await s.sending.sweepInterrupted()).toBe(1);
    expect(await s.campaigns.counts(id)).toMatchObject({ unknown: 1, failed: 3 });

    const refused = await refusal(() => s.campaigns.retryFailed(id, 'U1', { includeUnknown: true }));
    expect(refused.code).toBe('invalid_input');
    expect(refused.message).toContain('resend-unknown');
    expect((await s.campaigns.get(id)).status).toBe('completed');

    await s.campaigns.retryFailed(id, 'U1');
    await untilCompleted(id);
    expect(received('ok2@x.com')).toBe(1); // failed only: unknown untouched
    expect(await s.campaigns.counts(id)).toMatchObject({ unknown: 1, failed: 0, sent: 4 });

    const r = await s.campaigns.retryFailed(id, 'U1', { includeUnknown: true, confirm: 'resend-unknown' });
    expect(r.requeued).toBe(1);
    await untilCompleted(id);
    expect(received('ok2@x.com')).toBe(2);
    expect(received('ok1@x.com')).toBe(1);
    expect(await s.campaigns.counts(id)).toMatchObject({ unknown: 0, failed: 0, sent: 5 });
  });

  it('refuses a campaign that is not completed', async () => {
    await importText(s, 'email\na@x.com\n');
    const c = await s.campaigns.create({ name: 'c', subject: 's', body: 'b' }, 'U1');
    expect((await refusal(() => s.campaigns.retryFailed(c.id, 'U1'))).code).toBe('conflict');
    expect((await refusal(() => s.campaigns.retryFailed('cmp_nope', 'U1'))).code).toBe('not_found');
  });
});
