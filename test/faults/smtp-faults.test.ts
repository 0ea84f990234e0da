import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isCampaignEvent } from '../../src/core/events.js';
import type { CampaignEvent } from '../../src/core/sending/send-engine.js';
import { createLogger } from '../../src/logger.js';
import type { Mailer } from '../../src/mail/index.js';
import { createSmtpMailer } from '../../src/mail/smtp.js';
import { campaignProgressBlocks } from '../../src/slack/blocks/campaigns.js';
import { importText, startTestApp, testClock, testCore, waitFor } from '../helpers.js';
import { campaignSubmission, FakeSlack, signingSecret, slackPost } from '../slack/fake-slack.js';
import { type Fault, freePort, type Stage, startRawSmtp } from './raw-smtp.js';

type Server = Awaited<ReturnType<typeof startRawSmtp>>;
const cleanups: (() => Promise<void> | void)[] = [];
const clock = testClock();
const minute = 60_000;

let server: Server;
let core: ReturnType<typeof testCore>;

beforeEach(() => clock.set(Date.UTC(2026, 0, 14, 12))); // a Wednesday noon, no send window
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** The raw SMTP stand-in with a fault hook, a pooled SMTP mailer on it, and core services on a fresh database. */
async function setup(
  fault: (stage: Stage, to: string | undefined) => Fault,
  opts: { socketTimeoutMs?: number; html?: string } = {},
) {
  server = await startRawSmtp({ fault });
  cleanups.push(() => server.close());
  const mailer: Mailer = createSmtpMailer({
    url: server.url,
    log: createLogger('silent'),
    maxConnections: 2,
    timeoutsMs: { connection: 2_000, greeting: 2_000, socket: opts.socketTimeoutMs ?? 2_000 },
  });
  cleanups.push(() => mailer.close());
  core = testCore({ clock, mailer });
  cleanups.push(() => core.cleanup());
  await importText(core.services, 'email,name\nana@x.com,Ana\nbia@x.com,Bia\ncai@x.com,Cai\n');
  return await core.services.campaigns.create(
    {
      name: 'Faults',
      subject: 'Hi {{first_name|there}}',
      body: 'Hello {{name|friend}}',
      ...(opts.html ? { html: opts.html } : {}),
      sendAt: 'now',
    },
    'U1',
  );
}

/** Ticks the engine until the campaign is no longer sending (bounded). */
async function drain(id: string) {
  for (let i = 0; i < 20; i++) {
    await core.services.sending.runDue();
    if ((await core.services.campaigns.get(id)).status !== 'sending') break;
  }
  return await core.services.campaigns.get(id);
}

type LedgerRow = { email: string; status: string; attempts: number; next: number | null; response: string };
const ledger = (id: string): Record<string, LedgerRow> =>
  Object.fromEntries(
    (
      core.db.$client
        .prepare(
          `SELECT c.email, x.status, x.attempts, x.next_attempt_at AS next, coalesce(x.response, '') AS response
           FROM sends x JOIN contacts c ON c.id = x.contact_id WHERE x.campaign_id = ? ORDER BY c.email`,
        )
        .all(id) as LedgerRow[]
    ).map((r) => [r.email, r]),
  );
const statuses = (id: string) =>
  Object.fromEntries(Object.entries(ledger(id)).map(([k, r]) => [k, r.status]));
const everyoneOnce = { 'ana@x.com': 1, 'bia@x.com': 1, 'cai@x.com': 1 };
const allSent = { 'ana@x.com': 'sent', 'bia@x.com': 'sent', 'cai@x.com': 'sent' };

describe('SMTP server faults', () => {
  // Mid-message: a large text + HTML message is still being written when the server drops the
  // connection on its first bytes, so its final "." was never sent (a small message is written to
  // the socket whole at once: a drop after that is case 2, from the client's side).
  it.each([
    ['after the DATA command, before 354', 'data', undefined],
    ['mid-message, before its final "."', 'body', `<p>${'Hello there. '.repeat(16_000)}</p>`],
  ] as const)(
    '1. a connection dropped %s: retried after 1 min and delivered exactly once',
    async (_, stage, html) => {
      let drops = 0;
      const c = await setup(
        (at, to) => {
          if (at !== stage || to !== 'bia@x.com' || drops > 0) return undefined;
          drops += 1;
          return 'drop';
        },
        { html },
      );
      await core.services.sending.runDue();
      expect(drops).toBe(1);
      expect(server.countsByRecipient()).toEqual({ 'ana@x.com': 1, 'cai@x.com': 1 });
      expect(ledger(c.id)['bia@x.com']).toMatchObject({
        status: 'retry',
        attempts: 1,
        next: clock.now() + minute,
      });

      await core.services.sending.runDue(); // before the retry is due: nothing more goes out
      expect(server.received).toHaveLength(2);
      clock.advance(minute + 1_000);
      expect((await drain(c.id)).status).toBe('completed');
      expect(server.countsByRecipient()).toEqual(everyoneOnce);
      expect(statuses(c.id)).toEqual(allSent);
    },
  );

  it.each([
    ['drops the connection', 'drop'],
    ['never answers (socket timeout)', 'silent'],
  ] as const)(
    '2. a server that %s after the final ".": the row is unknown, reported, never re-sent',
    async (_, fault) => {
      let faults = 0;
      const c = await setup(
        (at, to) => {
          if (at !== 'dot' || to !== 'bia@x.com' || faults > 0) return undefined;
          faults += 1;
          return fault;
        },
        { socketTimeoutMs: 1_000 },
      );
      await drain(c.id);
      clock.advance(3 * 3_600_000); // long past every retry delay
      const done = await drain(c.id);
      expect(done.status).toBe('completed');
      // The server had the whole message: it got it once, and was never offered it again.
      expect(server.countsByRecipient()).toEqual(everyoneOnce);
      expect(faults).toBe(1);
      expect(statuses(c.id)).toEqual({ ...allSent, 'bia@x.com': 'unknown' });
      expect(ledger(c.id)['bia@x.com']!.response).toMatch(/no answer after the message was sent/);
      const counts = await core.services.campaigns.counts(c.id);
      expect(counts).toMatchObject({ total: 3, sent: 2, unknown: 1, failed: 0, pending: 0 });
      // The campaign's figures (its Slack message and App Home) show it.
      expect(JSON.stringify(campaignProgressBlocks(done, counts, null))).toContain(
        '1 unknown (may have been delivered, not re-sent)',
      );
    },
  );

  it.each([
    ['at the greeting', 'greeting'],
    ['to MAIL FROM', 'mail'],
  ] as const)(
    '3. 421 %s for a while: retried after 1 min and 10 min, then all delivered once',
    async (_, stage) => {
      let down = true;
      const c = await setup((at) => (down && at === stage ? 421 : undefined));
      const t0 = clock.now();
      await core.services.sending.runDue();
      expect(server.received).toHaveLength(0);
      expect(Object.values(ledger(c.id))).toEqual(
        Array.from({ length: 3 }, () =>
          expect.objectContaining({ status: 'retry', attempts: 1, next: t0 + minute }),
        ),
      );

      clock.advance(59_000);
      await core.services.sending.runDue(); // not due yet
      expect(Object.values(ledger(c.id)).map((r) => r.attempts)).toEqual([1, 1, 1]);
      clock.advance(2_000);
      await core.services.sending.runDue(); // second attempt, still refused
      expect(Object.values(ledger(c.id))).toEqual(
        Array.from({ length: 3 }, () =>
          expect.objectContaining({ status: 'retry', attempts: 2, next: clock.now() + 10 * minute }),
        ),
      );
      expect(Object.values(ledger(c.id))[0]!.response).toMatch(/^421 /);

      down = false;
      clock.advance(10 * minute);
      expect((await drain(c.id)).status).toBe('completed');
      expect(server.countsByRecipient()).toEqual(everyoneOnce);
      expect(statuses(c.id)).toEqual(allSent);
    },
  );

  it('3. 421 that never clears: failed after the third attempt, nothing delivered, the campaign ends', async () => {
    const c = await setup((at) => (at === 'greeting' ? 421 : undefined));
    await core.services.sending.runDue();
    clock.advance(minute + 1_000);
    await core.services.sending.runDue();
    clock.advance(10 * minute + 1_000);
    const done = await drain(c.id);
    expect(done.status).toBe('completed');
    expect(server.received).toHaveLength(0);
    expect(Object.values(ledger(c.id)).map((r) => [r.status, r.attempts])).toEqual([
      ['failed', 3],
      ['failed', 3],
      ['failed', 3],
    ]);
  });
});

describe('4. SMTP server down when the campaign starts', () => {
  it('waits without losing or doubling anyone, stays up, and says so once in the campaign message', async () => {
    const slack = await new FakeSlack().start();
    cleanups.push(() => slack.stop());
    const port = await freePort();
    const t = await startTestApp(
      {
        SLACK_BOT_TOKEN: slack.botToken,
        SLACK_SIGNING_SECRET: signingSecret,
        SLACK_API_URL: slack.apiUrl,
        SMTP_URL: `smtp://127.0.0.1:${port}`,
        MAIL_FROM: 'Sales <sales@coldbatch.test>',
        MAIL_POSTAL_ADDRESS: 'Rua Exemplo 1, São Paulo',
      },
      { slackRetries: 0, slackProgressIntervalMs: 0, scheduler: false, clock },
    );
    cleanups.push(() => t.stop());
    const { app } = t;
    const events: CampaignEvent[] = [];
    app.services.events.on((e) => {
      if (isCampaignEvent(e)) events.push(e);
    });
    await importText(app.services, 'email,name\nana@x.com,Ana\nbia@x.com,Bia\ncai@x.com,Cai\n');

    // Saved from Slack: its progress message is posted in the channel.
    const res = await slackPost(url(t), campaignNow(), { type: 'form' });
    expect(res.status).toBe(200);
    await app.slack?.background.idle();
    const [campaign] = (await app.services.campaigns.list()).campaigns;
    expect(slack.callsTo('chat.postMessage')).toHaveLength(1);

    const health = async () => (await fetch(`${url(t)}/healthz`)).status;
    const lastUpdate = () => JSON.stringify(slack.callsTo('chat.update').at(-1)?.params.blocks ?? '');
    const id = campaign!.id;

    // The server refuses connections: nobody is sent to, nobody's attempts are spent.
    await app.services.sending.runDue();
    let c = await app.services.campaigns.get(id);
    expect(c.status).toBe('sending');
    expect(c.statusReason).toMatch(/^The mail server cannot be reached \(.*ECONNREFUSED.*\)/);
    const rows = app.db.$client
      .prepare('SELECT status, attempts FROM sends WHERE campaign_id = ?')
      .all(id) as { status: string; attempts: number }[];
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.every((r) => r.status === 'retry' && r.attempts === 0)).toBe(true);
    await waitFor(() => lastUpdate().includes('The mail server cannot be reached'));
    expect(await health()).toBe(200);

    // Still down over several ticks and probes: no new notice, no new Slack message.
    for (let i = 0; i < 3; i++) {
      await app.services.sending.runDue();
      clock.advance(minute + 1_000);
      await app.services.sending.runDue();
    }
    expect(events.filter((e) => e.type === 'mail_unreachable')).toHaveLength(1);
    expect(slack.callsTo('chat.postMessage')).toHaveLength(1);
    expect(await health()).toBe(200);

    // The server comes up on the same address: everyone gets the message once, the notice goes.
    const up = await startRawSmtp({ port });
    cleanups.push(() => up.close());
    clock.advance(minute + 1_000);
    for (let i = 0; i < 10 && (await app.services.campaigns.get(id)).status === 'sending'; i++) {
      await app.services.sending.runDue();
    }
    c = await app.services.campaigns.get(id);
    expect(c.status).toBe('completed');
    expect(c.statusReason).toBeNull();
    expect(up.countsByRecipient()).toEqual(everyoneOnce);
    expect(await app.services.campaigns.counts(id)).toMatchObject({
      sent: 3,
      failed: 0,
      unknown: 0,
      pending: 0,
    });
    expect(events.filter((e) => e.type === 'mail_recovered')).toHaveLength(1);
    await waitFor(() => lastUpdate().includes('*3/3* sent'));
    expect(lastUpdate()).not.toContain('cannot be reached');
    expect(slack.callsTo('chat.postMessage')).toHaveLength(1);
  });
});

const url = (t: { url: string }) => t.url;

/** The "New campaign" modal submitted in channel C1 by an admin, sending now. */
const campaignNow = () =>
  campaignSubmission({
    name: { type: 'plain_text_input', value: 'Outage' },
    subject: { type: 'plain_text_input', value: 'Hi {{first_name|there}}' },
    body: { type: 'plain_text_input', value: 'Hello {{name}}' },
    when: { type: 'radio_buttons', selected_option: { value: 'now' } },
    timezone: { type: 'plain_text_input', value: 'UTC' },
  });
