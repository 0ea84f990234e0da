/**
 * "Stop sequence" in Slack (issue 16, PRODUCT.md §8): the button under a reply notice while the
 * person waits for a follow-up of that campaign, and in `/contacts why` (each sequence of the
 * person: step, next due time or stop reason). Buttons are collected from what the stand-in Web API
 * received and clicked with signed requests; the outcome is checked in the database and in the
 * message Slack was told to draw again. Admins only (SLACK_ADMIN_USERS).
 */
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { importText, startTestApp, tempDir, testClock, waitFor } from '../helpers.js';
import {
  type Call,
  commandBody,
  FakeSlack,
  postedClickBody,
  signingSecret,
  slackPost,
} from './fake-slack.js';

type Json = Record<string, unknown>;
type Button = { type: string; action_id: string; value?: string; text: { text: string } };
type Running = Awaited<ReturnType<typeof startTestApp>>;

const day = 86_400_000;
const clock = testClock(Date.UTC(2026, 0, 14, 12));
let slack: FakeSlack;
let dirs: ReturnType<typeof tempDir>;
let t: Running | undefined;
let uid = 0;
let seq = 0;

beforeEach(async () => {
  slack = await new FakeSlack().start();
  dirs = tempDir();
  clock.set(Date.UTC(2026, 0, 14, 12));
});
afterEach(async () => {
  await t?.stop();
  t = undefined;
  await slack.stop();
  dirs.cleanup();
});

/** The app with Slack and a campaign sent to ana, bia and cai (`wait`: all three waiting for step 2). */
async function boot(wait = true): Promise<{ t: Running; id: string; contact: (email: string) => number }> {
  t = await startTestApp(
    {
      SLACK_BOT_TOKEN: slack.botToken,
      SLACK_SIGNING_SECRET: signingSecret,
      SLACK_API_URL: slack.apiUrl,
      SLACK_ADMIN_USERS: 'UADMIN',
      SLACK_REPLIES_CHANNEL: 'CREPLIES',
      DATABASE_PATH: join(dirs.dir, 'stop.db'),
      MAIL_OUTBOX_DIR: join(dirs.dir, 'outbox'),
      MAIL_FROM: 'Sales <sales@coldbatch.test>',
      MAIL_POSTAL_ADDRESS: 'Rua Exemplo 1, São Paulo',
    },
    { slackRetries: 0, slackProgressIntervalMs: 0, scheduler: false, clock },
  );
  const s = t.app.services;
  await importText(s, 'email,name\nana@x.com,Ana\nbia@x.com,Bia\ncai@x.com,Cai\n', { fileName: 'leads.csv' });
  const { id } = await s.campaigns.create(
    { name: 'Intro', subject: 'Hi', body: 'Hello', sendAt: 'now' },
    'api',
  );
  await s.sending.runDue();
  expect(await s.campaigns.counts(id)).toMatchObject({ sent: 3 });
  if (wait) waitForStep2(t, id);
  const sql = t.app.db.$client;
  const contact = (email: string) =>
    (sql.prepare('SELECT id FROM contacts WHERE email = ?').get(email) as { id: number }).id;
  return { t, id, contact };
}

/** Everyone the campaign reached waits for step 2, due in two days (the engine's record once step 1 is sent). */
function waitForStep2(t: Running, id: string): void {
  t.app.db.$client
    .prepare(
      `INSERT INTO sequence_people (campaign_id, contact_id, step, next_due_at, last_send_id, updated_at)
       SELECT campaign_id, contact_id, 1, ?, id, ? FROM sends WHERE campaign_id = ?`,
    )
    .run(clock.now() + 2 * day, clock.now(), id);
}

function stopRow(t: Running, id: string, contactId: number) {
  return t.app.db.$client
    .prepare(
      'SELECT stop_reason AS reason, next_due_at AS due FROM sequence_people WHERE campaign_id = ? AND contact_id = ?',
    )
    .get(id, contactId) as { reason: string | null; due: number | null };
}

/** A reply to the campaign's message to `email`, as a mail client writes it, read through the app's mailbox. */
async function replyFrom(t: Running, email: string, text: string): Promise<void> {
  const { mid } = t.app.db.$client
    .prepare(
      `SELECT s.message_id AS mid FROM sends s JOIN contacts c ON c.id = s.contact_id
       WHERE c.email = ? AND s.step = 1`,
    )
    .get(email) as { mid: string };
  const raw = [
    `From: ${email.split('@')[0]} <${email}>`,
    'To: Sales <sales@coldbatch.test>',
    'Subject: Re: Hi',
    `Message-ID: <reply-${++uid}@x.com>`,
    `In-Reply-To: ${mid}`,
    `References: ${mid}`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    '',
    text,
    '',
    '> Hello',
    '',
  ].join('\r\n');
  const out = await t.app.services.mailbox.process(
    { mailbox: 'imap://sales@127.0.0.1:1143/INBOX', uidValidity: '7', uid },
    Buffer.from(raw),
  );
  expect(out).toMatchObject({ kind: 'reply' });
}

const noticeOf = (email: string) =>
  slack.callsTo('chat.postMessage').find((c) => JSON.stringify(c.params.blocks ?? []).includes(email));

function buttonsOf(blocks: unknown): Button[] {
  return ((blocks as Json[]) ?? []).flatMap((b) =>
    [...((b.elements as Json[] | undefined) ?? []), ...(b.accessory ? [b.accessory as Json] : [])].filter(
      (e) => e.type === 'button',
    ),
  ) as Button[];
}
const stopButtons = (blocks: unknown) => buttonsOf(blocks).filter((b) => b.action_id === 'sequence_stop');

/** Clicks a button of a message as Slack sends it (the message with its blocks, a response_url); the answer. */
async function click(
  t: Running,
  posted: { channel: string; ts: string; text: unknown; blocks: unknown },
  button: Button,
  user: string,
) {
  const name = `stop-click${++seq}`;
  const res = await slackPost(t.url, postedClickBody(posted, button, user, slack.responseUrl(name)), {
    type: 'form',
  });
  expect(res.status).toBe(200);
  await t.app.slack?.background.idle();
  return (await waitFor(() => slack.responses.find((r) => r.path === `/respond/${name}`))).body;
}
const asPosted = (c: Call) => ({
  channel: String(c.result?.channel),
  ts: String(c.result?.ts),
  text: c.params.text,
  blocks: c.params.blocks,
});

describe('Stop sequence under a reply notice', () => {
  it('a reply stops the sequence: the notice says so and has no Stop button', async () => {
    const { t, id, contact } = await boot();
    await replyFrom(t, 'bia@x.com', 'Thanks, I will get back to you.');
    const notice = await waitFor(() => noticeOf('bia@x.com'));
    expect(stopRow(t, id, contact('bia@x.com')).reason).toBe('replied');
    expect(JSON.stringify(notice.params.blocks)).toContain('stopped (they replied)');
    expect(stopButtons(notice.params.blocks)).toEqual([]);
  });

  it('shown while a follow-up is due; an admin’s click stops it and the notice says who', async () => {
    const { t, id, contact } = await boot(false);
    const ana = contact('ana@x.com');
    // Her reply is read before her step 1 is recorded in the sequence (a reply racing the engine's
    // sent mark), and Slack does not take the notice at once.
    slack.inject('chat.postMessage', { status: 500 });
    await replyFrom(t, 'ana@x.com', 'Interesting, tell me more.');
    await waitFor(() => slack.faultedCalls('chat.postMessage').length > 0);
    await t.app.slack?.background.idle();
    // Then the engine's record: step 1 sent, step 2 due. The next sweep posts the notice.
    waitForStep2(t, id);
    expect(stopRow(t, id, ana)).toEqual({ reason: null, due: clock.now() + 2 * day });
    expect(await t.app.slack!.sweepReplies()).toBe(1);
    const notice = noticeOf('ana@x.com')!;
    expect(JSON.stringify(notice.params.blocks)).toContain('step 1 sent · step 2 due');
    const [button] = stopButtons(notice.params.blocks);
    expect(button?.text.text).toBe('Stop sequence');

    const refused = await click(t, asPosted(notice), button!, 'UINTRUDER');
    expect(JSON.stringify(refused)).toContain('Only coldbatch admins may stop sequences');
    expect(stopRow(t, id, ana).reason).toBeNull();

    clock.advance(60_000);
    const answer = await click(t, asPosted(notice), button!, 'UADMIN');
    expect(answer).toMatchObject({ replace_original: true });
    expect(JSON.stringify(answer.blocks)).toContain('Sequence stopped by <@UADMIN>');
    expect(JSON.stringify(answer.blocks)).toContain('reply_why'); // still the notice, its buttons kept
    expect(stopButtons(answer.blocks)).toEqual([]);
    expect(stopRow(t, id, ana)).toEqual({ reason: 'stopped', due: null });
    // The others keep waiting.
    expect(stopRow(t, id, contact('cai@x.com')).reason).toBeNull();

    // A second click on the old button: refused, saying the state.
    const again = await click(t, asPosted(notice), button!, 'UADMIN');
    expect(JSON.stringify(again)).toContain('already stopped (stopped)');
  });
});

describe('Stop sequence in /contacts why', () => {
  it('lists the person’s sequences with the button while a follow-up is due; the click stops it', async () => {
    const { t, id, contact } = await boot();
    const name = `why${++seq}`;
    const res = await slackPost(
      t.url,
      commandBody('why cai@x.com', 'UADMIN', slack.responseUrl(name), '/contacts'),
      {
        type: 'form',
      },
    );
    expect(res.status).toBe(200);
    const why = (await waitFor(() => slack.responses.find((r) => r.path === `/respond/${name}`))).body;
    const text = JSON.stringify(why.blocks);
    expect(text).toContain('*Sequences*');
    expect(text).toContain(`\`${id}\`: step 1 sent · step 2 due`);
    const [button] = stopButtons(why.blocks);
    expect(button).toBeDefined();

    const answer = await click(
      t,
      { channel: 'C1', ts: '1700000000.000100', text: why.text, blocks: why.blocks },
      button!,
      'UADMIN',
    );
    expect(answer).toMatchObject({ replace_original: true });
    const after = JSON.stringify(answer.blocks);
    expect(after).toContain('Sequence stopped by <@UADMIN>');
    expect(after).toContain('stopped (stopped by hand)');
    expect(after).toContain('Why (not)');
    expect(stopButtons(answer.blocks)).toEqual([]);
    expect(stopRow(t, id, contact('cai@x.com')).reason).toBe('stopped');
  });

  it('a person in no sequence: no Sequences section', async () => {
    const { t } = await boot();
    t.app.db.$client.prepare('DELETE FROM sequence_people').run();
    const name = `why${++seq}`;
    await slackPost(t.url, commandBody('why bia@x.com', 'UADMIN', slack.responseUrl(name), '/contacts'), {
      type: 'form',
    });
    const why = (await waitFor(() => slack.responses.find((r) => r.path === `/respond/${name}`))).body;
    expect(JSON.stringify(why.blocks)).not.toContain('Sequences');
    expect(stopButtons(why.blocks)).toEqual([]);
  });
});
