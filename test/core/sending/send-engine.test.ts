import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Services } from '../../../src/core/index.js';
import { createLogger } from '../../../src/logger.js';
import { createMailer } from '../../../src/mail/index.js';
import { importText, testClock, testCore } from '../../helpers.js';
import { startSink } from '../../smtp-sink.js';

type Sink = Awaited<ReturnType<typeof startSink>>;
let sink: Sink;
let mailer: ReturnType<typeof createMailer> | undefined;
let core: ReturnType<typeof testCore>;
let s: Services;
const clock = testClock(Date.UTC(2026, 0, 14, 12)); // a Wednesday, 12:00 UTC

async function setup(opts: Parameters<typeof startSink>[0] = {}, env: Record<string, string> = {}) {
  sink = await startSink(opts);
  mailer = createMailer({ smtpUrl: sink.url, outboxDir: '/nonexistent', log: createLogger('silent') });
  core = testCore({ clock, mailer, env });
  s = core.services;
}

afterEach(async () => {
  await mailer?.close();
  core?.cleanup();
  await sink?.close();
});

/** Ticks the engine until the campaign leaves `sending` (bounded). */
async function drain(id: string, maxTicks = 50) {
  for (let i = 0; i < maxTicks; i++) {
    await s.sending.runDue();
    const c = await s.campaigns.get(id);
    if (c.status !== 'sending' && c.status !== 'scheduled') return c;
    if (c.status === 'scheduled' && c.runCount > 0) return c;
  }
  return await s.campaigns.get(id);
}

const contactId = (email: string) =>
  (core.db.$client.prepare('SELECT id FROM contacts WHERE email = ?').get(email) as { id: number }).id;

describe('send engine', () => {
  beforeEach(() => {
    clock.set(Date.UTC(2026, 0, 14, 12));
  });

  it('reaches exactly the sendable contacts of the active batch, once each, personalised, with both unsubscribe headers', async () => {
    await setup();
    await importText(s, 'email,name\nold@x.com,Old Lead\n', { fileName: 'old.csv' });
    await importText(
      s,
      'email,name,company\nana@acme.com,Ana Souza,Acme\nbruno@acme.com,Bruno,Acme\ncarla@beta.io,,Beta\n' +
        'inactive@x.com,In Active,\nbounced@x.com,Bo,\nunsub@x.com,Un,\nsupp@x.com,Su,\n',
      { fileName: 'new.csv' },
    );
    await s.contacts.setStatus(contactId('inactive@x.com'), 'inactive', 'U1');
    await s.contacts.setStatus(contactId('bounced@x.com'), 'bounced', 'system');
    await s.contacts.setStatus(contactId('unsub@x.com'), 'unsubscribed', 'system');
    await s.contacts.delete(contactId('supp@x.com'), 'api');

    const c = await s.campaigns.create(
      {
        name: 'Q1 intro',
        subject: 'Hi {{first_name|there}} at {{company|your company}}',
        body: 'Hello {{name|friend}}, see {{unsubscribe_url}}',
        sendAt: 'now',
      },
      'U1',
    );
    const done = await drain(c.id);
    expect(done.status).toBe('completed');
    expect(sink.received.map((m) => m.to).sort()).toEqual([
      'ana@acme.com',
      'bruno@acme.com',
      'carla@beta.io',
    ]);
    const ana = sink.received.find((m) => m.to === 'ana@acme.com')!;
    expect(ana.headers.subject).toBe('Hi Ana at Acme');
    const carla = sink.received.find((m) => m.to === 'carla@beta.io')!;
    expect(carla.headers.subject).toBe('Hi there at Beta');
    expect(carla.body).toContain('Hello friend');
    expect(ana.headers['list-unsubscribe']).toMatch(
      /^<https:\/\/coldbatch\.test\/u\/[^>]+>, <mailto:sales@coldbatch\.test\?subject=unsubscribe%20[^>]+>$/,
    );
    expect(ana.headers['list-unsubscribe-post']).toBe('List-Unsubscribe=One-Click');
    expect(ana.body).toContain('Rua Exemplo 100');
    expect(await s.campaigns.counts(c.id)).toMatchObject({
      total: 3,
      sent: 3,
      pending: 0,
      failed: 0,
      bounced: 0,
      unknown: 0,
    });

    // Running again sends nothing more.
    await s.sending.runDue();
    expect(sink.received).toHaveLength(3);
  });

  it('a 550 marks the contact bounced and suppressed; a 451 is retried with backoff, then sent', async () => {
    let greylisted = true;
    await setup({
      reject: (to) => (to === 'gone@x.com' ? 550 : to === 'grey@x.com' && greylisted ? 451 : undefined),
    });
    await importText(s, 'email\nok@x.com\ngone@x.com\ngrey@x.com\n');
    const c = await s.campaigns.create({ name: 'c', subject: 's', body: 'b', sendAt: 'now' }, 'U1');
    await s.sending.runDue();
    expect(sink.received.map((m) => m.to)).toEqual(['ok@x.com']);
    expect((await s.contacts.get(contactId('gone@x.com'))).status).toBe('bounced');
    expect(await s.contacts.isSuppressed('gone@x.com')).toBe(true);
    expect((await s.campaigns.get(c.id)).status).toBe('sending'); // waiting for the retry
    expect(await s.campaigns.counts(c.id)).toMatchObject({ sent: 1, bounced: 1, pending: 1 });

    greylisted = false;
    await s.sending.runDue(); // too early: nothing
    expect(sink.received).toHaveLength(1);
    clock.advance(61_000);
    await drain(c.id);
    expect(sink.received.map((m) => m.to).sort()).toEqual(['grey@x.com', 'ok@x.com']);
    expect((await s.campaigns.get(c.id)).status).toBe('completed');
    expect(await s.campaigns.counts(c.id)).toMatchObject({ sent: 2, bounced: 1, failed: 0 });
  });

  it('a 4xx that never clears ends as failed after 3 attempts', async () => {
    await setup({ reject: () => 451 });
    await importText(s, 'email\nstuck@x.com\n');
    const c = await s.campaigns.create({ name: 'c', subject: 's', body: 'b', sendAt: 'now' }, 'U1');
    for (let i = 0; i < 5; i++) {
      await s.sending.runDue();
      clock.advance(2 * 3_600_000);
    }
    expect(await s.campaigns.counts(c.id)).toMatchObject({ failed: 1, sent: 0 });
    expect((await s.campaigns.get(c.id)).status).toBe('completed');
  });

  it('a pass ends with a progress event after its last messages are marked sent (a sequence then waits days)', async () => {
    await setup();
    await importText(s, 'email\na@x.com\nb@x.com\nc@x.com\nd@x.com\n');
    const c = await s.campaigns.create(
      {
        name: 'seq',
        sendAt: 'now',
        steps: [
          { subject: 'Hi', body: 'One', delayDays: 0 },
          { body: 'Two', delayDays: 2 },
        ],
      },
      'U1',
    );
    // What a view redrawn on each event shows (Slack's progress message reads the figures then).
    const drawn: Promise<number>[] = [];
    const off = s.events.on((e) => {
      if (e.type === 'progress' && e.campaignId === c.id)
        drawn.push(s.progress.get(c.id).then((p) => p.counts.sent));
    });
    await s.sending.runDue();
    off();
    expect(sink.received).toHaveLength(4);
    expect((await s.campaigns.get(c.id)).status).toBe('sending'); // people wait for step 2
    expect(await drawn.at(-1)).toBe(4);
  });

  it('pause stops sending before the next message; resume finishes the rest', async () => {
    await setup({ delayMs: 30 });
    const rows = Array.from({ length: 40 }, (_, i) => `p${i}@x.com`).join('\n');
    await importText(s, `email\n${rows}\n`);
    const c = await s.campaigns.create({ name: 'c', subject: 's', body: 'b', sendAt: 'now' }, 'U1');
    const off = s.events.on(async (e) => {
      if (e.type === 'progress' && sink.received.length >= 10) await s.campaigns.pause(c.id, 'U1');
    });
    await s.sending.runDue();
    off();
    const atPause = sink.received.length;
    expect((await s.campaigns.get(c.id)).status).toBe('paused');
    expect(atPause).toBeGreaterThanOrEqual(10);
    expect(atPause).toBeLessThan(40);
    await s.sending.runDue();
    expect(sink.received).toHaveLength(atPause);
    await s.campaigns.resume(c.id, 'U1');
    await drain(c.id);
    expect(sink.received).toHaveLength(40);
    expect(new Set(sink.received.map((m) => m.to)).size).toBe(40);
  });

  it('auto-pauses when the bounce rate passes 5% after 20 sends, with the reason', async () => {
    await setup({ reject: (to) => (/^bad/.test(to) ? 550 : undefined) });
    const rows = Array.from({ length: 60 }, (_, i) =>
      i % 10 === 0 ? `bad${i}@x.com` : `good${i}@x.com`,
    ).join('\n');
    await importText(s, `email\n${rows}\n`);
    const c = await s.campaigns.create({ name: 'c', subject: 's', body: 'b', sendAt: 'now' }, 'U1');
    const events: string[] = [];
    s.events.on((e) => events.push(e.type));
    await drain(c.id);
    const after = await s.campaigns.get(c.id);
    expect(after.status).toBe('paused');
    // The exact share depends on which messages settled first; it is over the 5% threshold.
    const share = Number(/bounced \((\d+(?:\.\d+)?)%, over 5%\)/.exec(after.statusReason ?? '')?.[1]);
    expect(share).toBeGreaterThan(5);
    expect(events).toContain('paused');
    expect(sink.received.length).toBeLessThan(54);
  });

  it('a cron drip sends at most dailyLimit per run, only inside its window', async () => {
    await setup();
    const rows = Array.from({ length: 25 }, (_, i) => `d${i}@x.com`).join('\n');
    await importText(s, `email\n${rows}\n`);
    // Runs at 08:00 São Paulo time (UTC-3, 11:00 UTC), but the window opens at 09:00 (12:00 UTC).
    const window = { days: [1, 2, 3, 4, 5], start: '09:00', end: '17:00', timezone: 'America/Sao_Paulo' };
    clock.set(Date.UTC(2026, 0, 14, 10)); // Wednesday
    const c = await s.campaigns.create(
      {
        name: 'drip',
        subject: 's',
        body: 'b',
        cron: '0 8 * * 1-5',
        timezone: 'America/Sao_Paulo',
        dailyLimit: 10,
        window,
      },
      'U1',
    );
    expect(c).toMatchObject({ status: 'scheduled', nextRunAt: '2026-01-14T11:00:00.000Z' });
    await s.sending.runDue(); // not due yet
    expect((await s.campaigns.get(c.id)).status).toBe('scheduled');

    clock.set(Date.UTC(2026, 0, 14, 11, 0, 5));
    await s.sending.runDue(); // the run starts, but the window is closed
    expect((await s.campaigns.get(c.id)).status).toBe('sending');
    expect(sink.received).toHaveLength(0);

    clock.set(Date.UTC(2026, 0, 14, 12, 0, 5));
    await drain(c.id);
    expect(sink.received).toHaveLength(10);
    expect(await s.campaigns.get(c.id)).toMatchObject({
      status: 'scheduled',
      nextRunAt: '2026-01-15T11:00:00.000Z',
    });

    clock.set(Date.UTC(2026, 0, 15, 11, 0, 5)); // Thursday's run starts (the scheduler ticks all day)
    await s.sending.runDue();
    clock.set(Date.UTC(2026, 0, 15, 12, 30));
    await drain(c.id);
    expect(sink.received).toHaveLength(20);

    // Friday's run starts; at 17:30 local the window is closed and nothing goes until Monday 09:00.
    clock.set(Date.UTC(2026, 0, 16, 11, 0, 5));
    await s.sending.runDue();
    clock.set(Date.UTC(2026, 0, 16, 20, 30));
    await s.sending.runDue();
    clock.set(Date.UTC(2026, 0, 17, 14)); // Saturday
    await s.sending.runDue();
    expect(sink.received).toHaveLength(20);
    clock.set(Date.UTC(2026, 0, 19, 12, 1)); // Monday 09:01 local
    await s.sending.runDue();
    expect(sink.received).toHaveLength(25);
    expect(new Set(sink.received.map((m) => m.to)).size).toBe(25);
  });

  it('a schedule missed by more than the grace waits for a confirmation, then sends', async () => {
    await setup();
    await importText(s, 'email\nlate@x.com\n');
    const c = await s.campaigns.create(
      { name: 'c', subject: 's', body: 'b', sendAt: '2026-01-14T13:00:00Z' },
      'U1',
    );
    clock.set(Date.UTC(2026, 0, 14, 15)); // the app was down for 2 h
    const events: string[] = [];
    s.events.on((e) => events.push(e.type));
    await s.sending.runDue();
    expect(sink.received).toHaveLength(0);
    expect(await s.campaigns.get(c.id)).toMatchObject({ status: 'scheduled', awaitingConfirmation: true });
    expect(events).toEqual(['needs_confirmation']);
    await s.sending.runDue();
    expect(sink.received).toHaveLength(0);
    await s.campaigns.resume(c.id, 'U1');
    await drain(c.id);
    expect(sink.received.map((m) => m.to)).toEqual(['late@x.com']);
  });

  it('refuses unknown template variables on save, and a start without a postal address', async () => {
    await setup();
    await expect(
      s.campaigns.create({ name: 'c', subject: 'Hi {{firstname}}', body: 'b' }, 'U1'),
    ).rejects.toThrow(/firstname/);
    core.cleanup();
    core = testCore({ clock, env: { MAIL_POSTAL_ADDRESS: '' } });
    s = core.services;
    const draft = await s.campaigns.create({ name: 'c', subject: 's', body: 'b' }, 'U1');
    expect(draft.status).toBe('draft');
    await expect(s.campaigns.schedule(draft.id, { sendAt: 'now' }, 'U1')).rejects.toThrow(
      /MAIL_POSTAL_ADDRESS/,
    );
  });
});
