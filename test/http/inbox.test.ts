/**
 * End to end through the real classifier: a campaign sent to the local SMTP sink with VERP on,
 * then raw messages for those sends (a DSN, an ARF report, an out-of-office, a human reply, a
 * DSN for nobody of ours) processed by the app's mailbox, and the REST listing of them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import type { MailboxRef } from '../../src/core/mailbox/types.js';
import { startTestApp, uploadCsv } from '../helpers.js';
import { type Received, startSink } from '../smtp-sink.js';

type Sink = Awaited<ReturnType<typeof startSink>>;
let sink: Sink;
let t: Awaited<ReturnType<typeof startTestApp>>;
let app: App;
let campaignId: string;
let uid = 0;
const ids: Record<string, number> = {};

const date = () => new Date(Date.now() - 60_000).toUTCString();
const ref = (): MailboxRef => ({ mailbox: 'imap://bounces@mx.test:143/INBOX', uidValidity: '1', uid: ++uid });
const crlf = (s: string) => Buffer.from(s.replace(/\r?\n/g, '\r\n'));

function sentTo(email: string): Received {
  const m = sink.received.find((r) => r.to === email);
  if (!m) throw new Error(`nothing sent to ${email}`);
  return m;
}

function dsn(to: string, failed: string, quotedMessageId: string | null, n: number): Buffer {
  return crlf(`Return-Path: <>
Delivered-To: ${to}
From: Mail Delivery System <MAILER-DAEMON@mx.remote.test>
To: ${to}
Subject: Undelivered Mail Returned to Sender
Date: ${date()}
Message-ID: <dsn${n}@mx.remote.test>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="BOUND"

--BOUND
Content-Type: text/plain; charset=us-ascii

This is the mail system at host mx.remote.test.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients.

<${failed}>: host mx.remote.test[192.0.2.1] said: 550 5.1.1 <${failed}>:
    Recipient address rejected: User unknown in virtual mailbox table

--BOUND
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.remote.test

Final-Recipient: rfc822; ${failed}
Original-Recipient: rfc822;${failed}
Action: failed
Status: 5.1.1
Remote-MTA: dns; mx.remote.test
Diagnostic-Code: smtp; 550 5.1.1 <${failed}>: Recipient address rejected: User
    unknown in virtual mailbox table

--BOUND
Content-Type: text/rfc822-headers

From: Sales <sales@coldbatch.test>
To: ${failed}
Subject: Hi
${quotedMessageId ? `Message-ID: ${quotedMessageId}\n` : ''}
--BOUND--
`);
}

function arf(complainer: string, original: Received): Buffer {
  return crlf(`From: Feedback Loop <fbl@isp.test>
To: abuse@coldbatch.test
Subject: Abuse report
Date: ${date()}
Message-ID: <arf1@isp.test>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=feedback-report; boundary="ARF"

--ARF
Content-Type: text/plain

This is an e-mail abuse report for an e-mail message received from IP 192.0.2.9.

--ARF
Content-Type: message/feedback-report

Feedback-Type: abuse
User-Agent: ISP-FBL/1.0
Version: 1
Original-Rcpt-To: ${complainer}
Arrival-Date: ${date()}

--ARF
Content-Type: message/rfc822

Return-Path: <${original.from}>
From: Sales <sales@coldbatch.test>
To: ${complainer}
Subject: Hi
Message-ID: ${original.headers['message-id']}

Hello
--ARF--
`);
}

function outOfOffice(from: string, inReplyTo: string): Buffer {
  return crlf(`From: Carla <${from}>
To: Sales <sales@coldbatch.test>
Subject: Out of Office: Hi
Auto-Submitted: auto-replied
Date: ${date()}
Message-ID: <ooo1@beta.test>
In-Reply-To: ${inReplyTo}
Content-Type: text/plain; charset=utf-8

I am out of the office until Monday with limited access to e-mail.
`);
}

function reply(from: string, inReplyTo: string): Buffer {
  return crlf(`From: Dora <${from}>
To: Sales <sales@coldbatch.test>
Subject: Re: Hi
Date: ${date()}
Message-ID: <reply1@beta.test>
In-Reply-To: ${inReplyTo}
References: ${inReplyTo}
Content-Type: text/plain; charset=utf-8

Yes, let's talk next week. Tuesday works for me.

On Wed, Jan 14, 2026 at 12:00 PM Sales <sales@coldbatch.test> wrote:
> Hello
`);
}

async function get(path: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${t.url}${path}`);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

beforeAll(async () => {
  sink = await startSink();
  t = await startTestApp(
    {
      SMTP_URL: sink.url,
      MAIL_FROM: 'Sales <sales@coldbatch.test>',
      MAIL_POSTAL_ADDRESS: 'Rua Exemplo 100, São Paulo',
      MAIL_BOUNCE_ADDRESS: 'bounces@coldbatch.test',
    },
    { scheduler: false },
  );
  app = t.app;
  const csv =
    'email,name\nana@acme.test,Ana\nbruno@acme.test,Bruno\ncarla@beta.test,Carla\ndora@beta.test,Dora\n';
  expect((await uploadCsv(t.url, csv)).status).toBe(201);
  const c = await app.services.campaigns.create(
    { name: 'Intro', subject: 'Hi', body: 'Hello', sendAt: 'now' },
    'api',
  );
  campaignId = c.id;
  await app.services.sending.runDue();
  expect(sink.received).toHaveLength(4);

  const process = async (name: string, raw: Buffer) => {
    const out = await app.services.mailbox.process(ref(), raw);
    if (out === 'duplicate') throw new Error('duplicate');
    ids[name] = out.id;
    return out;
  };
  const ana = sentTo('ana@acme.test');
  expect(
    await process('hard', dsn(ana.from, 'ana@acme.test', ana.headers['message-id'] ?? null, 1)),
  ).toMatchObject({
    kind: 'bounce',
  });
  expect(await process('complaint', arf('bruno@acme.test', sentTo('bruno@acme.test')))).toMatchObject({
    kind: 'complaint',
  });
  expect(
    await process(
      'ooo',
      outOfOffice('carla@beta.test', sentTo('carla@beta.test').headers['message-id'] ?? ''),
    ),
  ).toMatchObject({ kind: 'auto_reply' });
  expect(
    await process('reply', reply('dora@beta.test', sentTo('dora@beta.test').headers['message-id'] ?? '')),
  ).toMatchObject({
    kind: 'reply',
  });
  expect(
    await process('stranger', dsn('sales@coldbatch.test', 'stranger@elsewhere.test', null, 2)),
  ).toMatchObject({
    kind: 'bounce',
  });
}, 30_000);

afterAll(async () => {
  await t?.stop();
  await sink?.close();
});

describe('the inbox end to end (real classifier)', () => {
  it('applies each message: bounced, complained, nothing for the auto-reply, replied', async () => {
    const status = (email: string) =>
      (app.db.$client.prepare('SELECT status FROM contacts WHERE email = ?').get(email) as { status: string })
        .status;
    expect(status('ana@acme.test')).toBe('bounced');
    expect(status('bruno@acme.test')).toBe('complained');
    expect(status('carla@beta.test')).toBe('active');
    expect(status('dora@beta.test')).toBe('replied');
    // `sent` counts what the server accepted: the DSN adds to `bounced`, it does not lower `sent` (PRODUCT.md §8).
    expect(await app.services.campaigns.counts(campaignId)).toMatchObject({ sent: 4, bounced: 1 });
    const [notice] = await app.services.mailbox.pendingNotices(5);
    expect(notice).toMatchObject({
      id: ids.reply,
      from: 'dora@beta.test',
      name: 'Dora',
      campaignName: 'Intro',
    });
    expect(notice?.snippet).toContain('Tuesday works for me');
    expect(notice?.snippet).not.toContain('wrote:');
  });

  it('GET /inbox/messages lists them newest first in the documented shape', async () => {
    const { status, body } = await get('/inbox/messages');
    expect(status).toBe(200);
    const messages = body.messages as Record<string, unknown>[];
    expect(messages.map((m) => m.id)).toEqual([ids.stranger, ids.reply, ids.ooo, ids.complaint, ids.hard]);
    expect(body.nextCursor).toBeNull();
    const byId = (id: number | undefined) => messages.find((m) => m.id === id);
    expect(byId(ids.hard)).toEqual({
      id: ids.hard,
      kind: 'bounce',
      from: 'mailer-daemon@mx.remote.test',
      subject: 'Undelivered Mail Returned to Sender',
      messageId: '<dsn1@mx.remote.test>',
      receivedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      campaignId,
      contactId: expect.any(Number),
      snippet: expect.any(String),
      bounce: {
        recipients: [{ email: 'ana@acme.test', status: '5.1.1', permanent: true, hard: true, matched: true }],
      },
    });
    expect(byId(ids.complaint)).toMatchObject({
      kind: 'complaint',
      campaignId,
      complaint: { feedbackType: 'abuse', emails: ['bruno@acme.test'] },
    });
    expect(byId(ids.reply)).toMatchObject({
      kind: 'reply',
      from: 'dora@beta.test',
      subject: 'Re: Hi',
      messageId: '<reply1@beta.test>',
      campaignId,
    });
    expect(byId(ids.reply)).not.toHaveProperty('bounce');
    // A bounce is listed even when no recipient matched a send.
    const stranger = byId(ids.stranger);
    expect(stranger).toMatchObject({
      kind: 'bounce',
      bounce: { recipients: [{ email: 'stranger@elsewhere.test', hard: true, matched: false }] },
    });
    expect(stranger).not.toHaveProperty('campaignId');
    expect(stranger).not.toHaveProperty('contactId');
  });

  it('filters by kind and by campaign', async () => {
    const bounces = (await get('/inbox/messages?kind=bounce')).body.messages as { id: number }[];
    expect(bounces.map((m) => m.id)).toEqual([ids.stranger, ids.hard]);
    const replies = (await get('/inbox/messages?kind=reply')).body.messages as { id: number }[];
    expect(replies.map((m) => m.id)).toEqual([ids.reply]);
    const ofCampaign = (await get(`/inbox/messages?campaign=${campaignId}`)).body.messages as {
      id: number;
    }[];
    expect(ofCampaign.map((m) => m.id)).toEqual([ids.reply, ids.ooo, ids.complaint, ids.hard]);
    const both = (await get(`/inbox/messages?campaign=${campaignId}&kind=auto_reply`)).body.messages as {
      id: number;
    }[];
    expect(both.map((m) => m.id)).toEqual([ids.ooo]);
    expect((await get('/inbox/messages?campaign=nope')).body).toEqual({ messages: [], nextCursor: null });
  });

  it('pages with limit and cursor', async () => {
    const seen: number[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page = await get(`/inbox/messages?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(page.status).toBe(200);
      const messages = page.body.messages as { id: number }[];
      expect(messages.length).toBeLessThanOrEqual(2);
      seen.push(...messages.map((m) => m.id));
      cursor = page.body.nextCursor as string | null;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen).toEqual([ids.stranger, ids.reply, ids.ooo, ids.complaint, ids.hard]);
  });

  it('refuses a bad kind, limit or cursor with a 400', async () => {
    for (const q of ['kind=spam', 'limit=0', 'limit=201', 'cursor=not-a-cursor']) {
      const { status, body } = await get(`/inbox/messages?${q}`);
      expect(status, q).toBe(400);
      expect((body.error as { code: string }).code).toBe('invalid_input');
    }
  });

  it('a message read again is not processed twice', async () => {
    const again = await app.services.mailbox.process(
      { mailbox: 'imap://bounces@mx.test:143/INBOX', uidValidity: '1', uid: 1 },
      Buffer.from('anything'),
    );
    expect(again).toBe('duplicate');
    expect(((await get('/inbox/messages')).body.messages as unknown[]).length).toBe(5);
  });
});
