/**
 * The inbox end to end, as a user meets it (issue 15): the real app with a real SQLite file, the
 * SMTP sink, MAIL_BOUNCE_ADDRESS (VERP), INBOX_URL at a real IMAP server on loopback
 * (hoodiecrow-imap) and Slack on the stand-in Web API. A batch is imported and a campaign sent over
 * REST; bounces, a complaint, an auto-reply, replies and garbage are built from what the sink
 * received and delivered to the mailbox; the app is restarted and the IMAP server killed and
 * started again mid-way. Asserted on the database, the REST API and what Slack received.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { memoryLog, startTestApp, tempDir, testClock, uploadCsv, waitFor } from '../helpers.js';
import { type ImapServer, imapPassword, imapUser, startImapServer } from '../mail/imap-server.js';
import { arf, dsn, header, outOfOffice, reply } from '../mail/messages.js';
import { type Call, FakeSlack, postedClickBody, signingSecret, slackPost } from '../slack/fake-slack.js';
import { startSink } from '../smtp-sink.js';

type Json = Record<string, unknown>;
type Running = Awaited<ReturnType<typeof startTestApp>> & { log: ReturnType<typeof memoryLog> };
type Sink = Awaited<ReturnType<typeof startSink>>;
type Button = { type: string; action_id: string; value?: string; text: { text: string }; confirm?: unknown };

const token = 'api-token-inbox-e2e-0123456789';
const bounceAddress = 'bounces@coldbatch.test';
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const imapUrl = (s: ImapServer) =>
  `imap://${encodeURIComponent(imapUser)}:${encodeURIComponent(imapPassword)}@127.0.0.1:${s.port}/INBOX`;

async function boot(o: {
  db: string;
  sink: Sink;
  imap: ImapServer;
  slack?: FakeSlack;
  env?: Record<string, string>;
  clock?: ReturnType<typeof testClock>;
}): Promise<Running> {
  const log = memoryLog();
  const t = await startTestApp(
    {
      API_TOKEN: token,
      DATABASE_PATH: o.db,
      MAIL_FROM: 'Sales <sales@coldbatch.test>',
      MAIL_POSTAL_ADDRESS: 'Rua Exemplo 1, São Paulo',
      SMTP_URL: o.sink.url,
      MAIL_BOUNCE_ADDRESS: bounceAddress,
      INBOX_URL: imapUrl(o.imap),
      INBOX_POLL: '1s',
      LOG_LEVEL: 'info',
      ...(o.slack
        ? {
            SLACK_BOT_TOKEN: o.slack.botToken,
            SLACK_SIGNING_SECRET: signingSecret,
            SLACK_API_URL: o.slack.apiUrl,
            SLACK_ADMIN_USERS: 'UADMIN,UREP',
            SLACK_REPLIES_CHANNEL: 'CREPLIES',
          }
        : {}),
      ...o.env,
    },
    {
      slackRetries: 0,
      slackProgressIntervalMs: 0,
      scheduler: false,
      logDestination: log.stream,
      ...(o.clock ? { clock: o.clock } : {}),
    },
  );
  const r = { ...t, log };
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await t.stop();
  };
  cleanups.push(stop);
  return { ...r, stop };
}

async function api<T = Json>(t: Running, path: string, init: RequestInit = {}, status = 200): Promise<T> {
  const res = await fetch(`${t.url}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...init.headers },
  });
  const text = await res.text();
  expect(res.status, `${path}: ${text.slice(0, 300)}`).toBe(status);
  return JSON.parse(text) as T;
}

/** Creates a campaign over REST and sends it (the engine's passes, as the scheduler would run them). */
async function sendCampaign(t: Running, body: Json, until: string[] = ['completed']): Promise<string> {
  const created = await api<{ campaign: { id: string } }>(
    t,
    '/campaigns',
    { method: 'POST', body: JSON.stringify(body) },
    201,
  );
  const id = created.campaign.id;
  for (let i = 0; i < 20 && !until.includes((await t.app.services.campaigns.get(id)).status); i++)
    await t.app.services.sending.runDue();
  return id;
}

// ---------------------------------------------------------------------------------------------
// Messages as real senders write them (test/mail/messages.ts), built for the sends the sink received;
// and one that is not.

/** Not a message at all: binary noise with no header block. */
const garbage = Buffer.concat([
  Buffer.from([0x00, 0xff, 0xfe, 0x1b, 0x5b, 0x00, 0x7f]),
  Buffer.from('\u0000\u0001 not a mail \u0002 \u00ff\u00fe ===== \r\n', 'latin1'),
  Buffer.from(Array.from({ length: 200 }, (_, i) => (i * 37) % 256)),
  Buffer.from('\r\n', 'latin1'),
]);

// ---------------------------------------------------------------------------------------------

const people = ['hard', 'verp', 'soft', 'soft2', 'abuse', 'ooo', 'reply', 'remove', 'quiet'];
const at = (p: string) => `${p}@x.com`;

const noticePosts = (slack: FakeSlack) =>
  slack
    .callsTo('chat.postMessage')
    .filter((c) => JSON.stringify(c.params.blocks ?? []).includes('reply_why'));

function buttonsOf(call: Call): Button[] {
  return ((call.params.blocks as Json[]) ?? []).flatMap((b) =>
    [...((b.elements as Json[] | undefined) ?? []), ...(b.accessory ? [b.accessory as Json] : [])].filter(
      (e) => e.type === 'button',
    ),
  ) as Button[];
}

let clicks = 0;
/** Clicks a button of a posted message as Slack would (in the message, with a response_url). */
async function click(t: Running, slack: FakeSlack, posted: Call, button: Button, user = 'UADMIN') {
  const name = `e2e-click${++clicks}`;
  const body = postedClickBody(
    {
      channel: String(posted.result?.channel),
      ts: String(posted.result?.ts),
      text: posted.params.text,
      blocks: posted.params.blocks,
    },
    button,
    user,
    slack.responseUrl(name),
  );
  const res = await slackPost(t.url, body, { type: 'form' });
  expect(res.status).toBe(200);
  await t.app.slack?.background.idle();
  return (await waitFor(() => slack.responses.find((r) => r.path === `/respond/${name}`))).body;
}

type InboxList = {
  messages: {
    id: number;
    kind: string;
    from: string | null;
    subject: string;
    campaignId?: string;
    contactId?: number;
    snippet: string | null;
    bounce?: {
      recipients: {
        email: string | null;
        status: string;
        permanent: boolean;
        hard: boolean;
        matched: boolean;
      }[];
    };
    complaint?: { feedbackType: string; emails: string[] };
  }[];
  nextCursor: string | null;
};

describe('the inbox, end to end', () => {
  it('bounces, a complaint, an auto-reply, replies and garbage read from IMAP across an app restart and an IMAP crash: each once, with its effects, in REST and Slack', async () => {
    const dirs = tempDir();
    cleanups.push(dirs.cleanup);
    const db = join(dirs.dir, 'inbox.db');
    const slack = await new FakeSlack().start();
    cleanups.push(() => slack.stop());
    const sink = await startSink();
    cleanups.push(sink.close);
    let imap = await startImapServer();
    cleanups.push(() => imap.kill());
    let t = await boot({ db, sink, imap, slack });

    // A batch imported and a campaign sent, over REST.
    const up = await uploadCsv(t.url, `email,name\n${people.map((p) => `${at(p)},${p}`).join('\n')}\n`, {
      fileName: 'leads.csv',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(up.status).toBe(201);
    const campaignId = await sendCampaign(t, {
      name: 'Intro Q1',
      subject: 'Quick question, {{first_name|there}}',
      body: 'Hi {{first_name|there}}, a short note.',
      sendAt: 'now',
    });
    expect(sink.received).toHaveLength(people.length);
    const sent = Object.fromEntries(sink.received.map((m) => [m.to.split('@')[0]!, m]));
    for (const m of sink.received) {
      // Every message names its send: a tagged Message-ID and the VERP envelope sender.
      expect(header(m, 'message-id')).toMatch(/^<cb\.[0-9a-z]+\.[A-Za-z0-9_-]{10}@coldbatch\.test>$/);
      expect(m.from).toMatch(/^bounces\+cb\.[0-9a-z]+\.[A-Za-z0-9_-]{10}@coldbatch\.test$/);
      expect(header(m, 'from')).toContain('sales@coldbatch.test');
    }
    const verpOf = (p: string) => sent[p]!.from;

    // Part 1, read by the running app.
    const part1: (string | Buffer)[] = [
      // A standard DSN to the plain bounce address: matched by the quoted Message-ID.
      dsn({
        to: bounceAddress,
        recipient: at('hard'),
        status: '5.1.1',
        code: '550',
        words: 'Recipient address rejected: User unknown in virtual mailbox table',
        quote: sent.hard,
      }),
      // A DSN quoting nothing, to the VERP address: matched by the envelope alone.
      dsn({
        to: verpOf('verp'),
        recipient: at('verp'),
        status: '5.1.1',
        code: '550',
        words: 'No such user here',
      }),
      dsn({
        to: verpOf('soft'),
        recipient: at('soft'),
        status: '4.2.2',
        code: '452',
        words: 'Mailbox full',
        quote: sent.soft,
      }),
      dsn({
        to: verpOf('soft2'),
        recipient: at('soft2'),
        status: '4.2.2',
        code: '452',
        words: 'Mailbox full',
        quote: sent.soft2,
      }),
      arf(sent.abuse!),
      reply(sent.reply!, 'Olá! Sounds interesting — can we talk on Thursday at 10? NEW-TEXT-MARK'),
    ];
    const uids = part1.map((m) => imap.append(m));
    const inbox = () => api<InboxList>(t, '/inbox/messages?limit=200');
    await waitFor(async () => (await inbox()).messages.length === part1.length, 15_000);
    await waitFor(() => noticePosts(slack).length === 1);
    await waitFor(() => uids.every((u) => imap.flags(u).includes('$Coldbatch')));

    // The app stops; mail arrives meanwhile; it starts again on the same database.
    await t.stop();
    const part2 = [
      dsn({
        to: verpOf('soft'),
        recipient: at('soft'),
        status: '4.2.2',
        code: '452',
        words: 'Mailbox full',
        quote: sent.soft,
      }),
      outOfOffice(sent.ooo!, { language: 'pt' }),
      reply(sent.remove!, 'Please remove me from your mailing list. I am not interested.'),
    ];
    for (const m of part2) imap.append(m);
    t = await boot({ db, sink, imap, slack });
    await waitFor(async () => (await inbox()).messages.length === part1.length + part2.length, 15_000);

    // The IMAP server dies; mail is delivered to its store while it is down; it starts again on the same port.
    const port = imap.port;
    const storage = imap.storage;
    await imap.kill();
    await waitFor(() => t.log.lines().some((l) => l.msg === 'mailbox disconnected; reconnecting'));
    const part3 = [
      dsn({
        to: verpOf('soft'),
        recipient: at('soft'),
        status: '4.2.2',
        code: '452',
        words: 'Mailbox full',
        quote: sent.soft,
      }),
      dsn({
        to: verpOf('soft2'),
        recipient: at('soft2'),
        status: '4.2.2',
        code: '452',
        words: 'Mailbox full',
        quote: sent.soft2,
      }),
      garbage,
    ];
    for (const m of part3)
      storage.INBOX!.messages!.push({ raw: typeof m === 'string' ? m : m.toString('latin1'), flags: [] });
    imap = await startImapServer({ port, storage });
    const total = part1.length + part2.length + part3.length;
    await waitFor(async () => (await inbox()).messages.length === total, 20_000);
    await waitFor(() => imap.messages().every((m) => m.flags.includes('$Coldbatch')));
    await t.app.slack?.background.idle();

    // What was read and what it was matched to (GET /inbox/messages).
    const listed = (await inbox()).messages;
    expect(listed).toHaveLength(total);
    const kinds = listed.map((m) => m.kind).sort();
    expect(kinds).toEqual(
      [...Array(7).fill('bounce'), 'complaint', 'auto_reply', 'reply', 'reply', 'unknown'].sort(),
    );
    for (const m of listed.filter((x) => x.kind !== 'unknown'))
      expect(m.campaignId, m.subject).toBe(campaignId);
    expect(listed.find((m) => m.kind === 'unknown')?.campaignId).toBeUndefined();
    const bounces = listed.filter((m) => m.kind === 'bounce');
    const recipients = bounces.flatMap((m) => m.bounce?.recipients ?? []);
    expect(recipients.every((r) => r.matched)).toBe(true);
    expect(
      recipients
        .filter((r) => r.hard)
        .map((r) => r.email)
        .sort(),
    ).toEqual([at('hard'), at('verp')]);
    expect(recipients.filter((r) => !r.hard).map((r) => [r.email, r.status, r.permanent])).toEqual(
      expect.arrayContaining([[at('soft'), '4.2.2', false]]),
    );
    expect(recipients.filter((r) => r.email === at('soft'))).toHaveLength(3);
    expect(recipients.filter((r) => r.email === at('soft2'))).toHaveLength(2);
    expect(listed.find((m) => m.kind === 'complaint')?.complaint).toEqual({
      feedbackType: 'abuse',
      emails: [at('abuse')],
    });
    const replies = listed.filter((m) => m.kind === 'reply');
    expect(replies.map((m) => m.from).sort()).toEqual([at('remove'), at('reply')]);
    const human = replies.find((m) => m.from === at('reply'))!;
    expect(human.snippet).toContain('NEW-TEXT-MARK');
    expect(human.snippet).not.toContain('QUOTED-HISTORY');
    // ?kind= filters.
    expect((await api<InboxList>(t, '/inbox/messages?kind=auto_reply')).messages.map((m) => m.from)).toEqual([
      at('ooo'),
    ]);
    expect((await api<InboxList>(t, '/inbox/messages?kind=bounce')).messages).toHaveLength(7);

    // Each message read once: one row per IMAP message, nothing twice across the restarts.
    const sql = t.app.db.$client;
    const rows = sql.prepare('SELECT count(*) AS n, count(DISTINCT uid) AS u FROM inbox_messages').get() as {
      n: number;
      u: number;
    };
    expect(rows).toEqual({ n: total, u: total });
    const processedLines = t.log.lines().filter((l) => l.msg === 'inbox message processed');
    expect(processedLines).toHaveLength(part2.length + part3.length); // the second run read only what was new

    // Contact statuses.
    const status = (p: string) =>
      (sql.prepare('SELECT status FROM contacts WHERE email = ?').get(at(p)) as { status: string }).status;
    expect(Object.fromEntries(people.map((p) => [p, status(p)]))).toEqual({
      hard: 'bounced',
      verp: 'bounced',
      soft: 'active', // suppressed (soft_bounced) below, the status unchanged
      soft2: 'active',
      abuse: 'complained',
      ooo: 'active',
      reply: 'replied',
      remove: 'unsubscribed',
      quiet: 'active',
    });

    // Suppressions (and why), as /contacts/why tells them.
    const why = (p: string) =>
      api<{ suppression: { reason: string } | null; history: { to: string; reason: string | null }[] }>(
        t,
        `/contacts/why?email=${encodeURIComponent(at(p))}`,
      );
    const suppressed: Record<string, string | null> = {};
    for (const p of people) suppressed[p] = (await why(p)).suppression?.reason ?? null;
    expect(suppressed).toEqual({
      hard: 'bounced',
      verp: 'bounced',
      soft: 'soft_bounced',
      soft2: null,
      abuse: 'complained',
      ooo: null,
      reply: null,
      remove: 'unsubscribed',
      quiet: null,
    });
    // One history row per change, none repeated by the restarts.
    for (const p of ['hard', 'verp', 'abuse', 'reply', 'remove']) {
      const tos = (await why(p)).history.map((h) => h.to);
      expect(new Set(tos).size, `${p}: ${tos.join(',')}`).toBe(tos.length);
    }

    // The ledger rows.
    const ledger = Object.fromEntries(
      (
        sql
          .prepare(
            `SELECT c.email AS email, s.status AS status, s.replied_at AS replied, s.complained_at AS complained,
                    s.soft_bounced_at AS soft FROM sends s JOIN contacts c ON c.id = s.contact_id WHERE s.campaign_id = ?`,
          )
          .all(campaignId) as {
          email: string;
          status: string;
          replied: number | null;
          complained: number | null;
          soft: number | null;
        }[]
      ).map((r) => [
        r.email.split('@')[0]!,
        [r.status, r.replied !== null, r.complained !== null, r.soft !== null],
      ]),
    );
    expect(ledger).toMatchObject({
      hard: ['bounced', false, false, false],
      verp: ['bounced', false, false, false],
      soft: ['sent', false, false, true],
      soft2: ['sent', false, false, true],
      abuse: ['sent', false, true, false],
      ooo: ['sent', false, false, false],
      reply: ['sent', true, false, false],
      remove: ['sent', true, false, false],
      quiet: ['sent', false, false, false],
    });

    // The campaign's figures over REST.
    const detail = await api<{ campaign: { counts: Json; rates: Json } }>(t, `/campaigns/${campaignId}`);
    expect(detail.campaign.counts).toMatchObject({ bounced: 2, complained: 1, softBounced: 2 });
    // The removal reply is a reply too (counted in `replied`) and an unsubscribe. `sent` counts what
    // the server accepted: the two messages a DSN bounced later stay in it (PRODUCT.md §8).
    expect(detail.campaign.counts).toMatchObject({
      total: 9,
      sent: 9,
      replied: 2,
      unsubscribed: 1,
      interested: 0,
    });
    expect(detail.campaign.rates).toEqual({ reply: 0.2222, interested: 0 });

    // Slack: one notice per reply, in SLACK_REPLIES_CHANNEL, never again after the restarts.
    const notices = noticePosts(slack);
    expect(notices).toHaveLength(2);
    for (const c of notices) expect(c.params.channel).toBe('CREPLIES');
    const humanNotice = notices.find((c) => JSON.stringify(c.params.blocks).includes(at('reply')))!;
    const removalNotice = notices.find((c) => JSON.stringify(c.params.blocks).includes(at('remove')))!;
    expect(JSON.stringify(humanNotice.params.blocks)).toContain('Intro Q1');
    expect(JSON.stringify(humanNotice.params.blocks)).toContain('NEW-TEXT-MARK');
    expect(JSON.stringify(humanNotice.params.blocks)).not.toContain('QUOTED-HISTORY');
    expect(JSON.stringify(removalNotice.params.blocks)).toContain('they were unsubscribed');
    expect(buttonsOf(removalNotice).map((b) => b.action_id)).not.toContain('reply_unsubscribe');

    // Every button of the human reply's notice, clicked as Slack would.
    const buttons = Object.fromEntries(buttonsOf(humanNotice).map((b) => [b.action_id, b]));
    expect(Object.keys(buttons).sort()).toEqual(
      ['reply_interested', 'reply_not_interested', 'reply_unsubscribe', 'reply_why'].sort(),
    );
    const interest = () =>
      (
        sql.prepare('SELECT interest FROM contacts WHERE email = ?').get(at('reply')) as {
          interest: string | null;
        }
      ).interest;
    const interested = await click(t, slack, humanNotice, buttons.reply_interested!);
    expect(JSON.stringify(interested.blocks)).toContain('marked by <@UADMIN>');
    expect(interest()).toBe('interested');
    expect(
      (await api<{ campaign: { counts: Json } }>(t, `/campaigns/${campaignId}`)).campaign.counts,
    ).toMatchObject({
      interested: 1,
    });
    await click(t, slack, humanNotice, buttons.reply_not_interested!, 'UREP');
    expect(interest()).toBe('not_interested');
    const whyAnswer = JSON.stringify((await click(t, slack, humanNotice, buttons.reply_why!)).blocks);
    expect(whyAnswer).toContain(at('reply'));
    expect(whyAnswer).toContain('Intro Q1');
    const unsub = await click(t, slack, humanNotice, buttons.reply_unsubscribe!);
    expect(JSON.stringify(unsub.blocks)).toContain('Unsubscribed by <@UADMIN>');
    expect(status('reply')).toBe('unsubscribed');
    expect((await why('reply')).suppression?.reason).toBe('unsubscribed');

    // Nothing logged at error level; the reader is up.
    expect(t.log.lines().filter((l) => Number(l.level) >= 50)).toEqual([]);
    const health = await api<{ mailboxes: { state: string }[] }>(t, '/healthz');
    expect(health.mailboxes.map((m) => m.state)).toEqual(['idle']);
  }, 90_000);

  it('a campaign whose hard bounces, read from the mailbox after it was accepted, pass BOUNCE_PAUSE_RATE pauses itself', async () => {
    const dirs = tempDir();
    cleanups.push(dirs.cleanup);
    const sink = await startSink();
    cleanups.push(sink.close);
    const imap = await startImapServer();
    cleanups.push(() => imap.kill());
    const clock = testClock(Date.UTC(2026, 0, 13, 9));
    const t = await boot({
      db: join(dirs.dir, 'pause.db'),
      sink,
      imap,
      clock,
      env: { BOUNCE_PAUSE_RATE: '0.2', BOUNCE_PAUSE_MIN_SENDS: '10', SMTP_MAX_CONNECTIONS: '1' },
    });
    const leads = Array.from({ length: 40 }, (_, i) => `lead${i}@y.com`);
    const up = await uploadCsv(t.url, `email\n${leads.join('\n')}\n`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(up.status).toBe(201);
    // 10 a day: the first day's sends are all accepted (250) by the relay.
    const id = await sendCampaign(
      t,
      { name: 'Daily', subject: 'Hi', body: 'Hello', sendAt: 'now', timezone: 'UTC', dailyLimit: 10 },
      ['completed', 'paused'],
    );
    expect(sink.received).toHaveLength(10);
    expect((await t.app.services.campaigns.get(id)).status).toBe('sending');
    // Then 4 of them bounce, as e-mails to their VERP addresses (40 % > 20 %).
    for (const m of sink.received.slice(0, 4))
      imap.append(dsn({ to: m.from, recipient: m.to, status: '5.1.1', code: '550', words: 'User unknown' }));
    await waitFor(
      async () => (await t.app.services.mailbox.list({ kind: 'bounce' })).messages.length === 4,
      10_000,
    );
    expect(await t.app.services.campaigns.counts(id)).toMatchObject({ bounced: 4 });
    // The next day's pass counts them like synchronous 5xx answers and pauses the campaign.
    clock.advance(86_400_000);
    for (let i = 0; i < 5 && (await t.app.services.campaigns.get(id)).status === 'sending'; i++)
      await t.app.services.sending.runDue();
    const c = await api<{ campaign: { status: string; statusReason: string | null; counts: Json } }>(
      t,
      `/campaigns/${id}`,
    );
    expect(c.campaign.status).toBe('paused');
    expect(c.campaign.statusReason).toMatch(/Paused automatically: 4 of 1\d messages bounced/);
    expect(sink.received.length).toBeLessThan(20);
    expect(t.log.lines().some((l) => l.msg === 'campaign auto-paused on bounce rate')).toBe(true);
  }, 60_000);
});
