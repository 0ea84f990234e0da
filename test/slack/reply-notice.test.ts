/**
 * Reply notices (issue 15, PRODUCT.md §7): a human reply the inbox stores through services.mailbox
 * is posted to SLACK_REPLIES_CHANNEL, else in the campaign's progress thread; a restart posts what
 * was not posted, once; every button of the notice (collected from what the stand-in Web API
 * received) is clicked with a signed request and its outcome checked in the database.
 */
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { importText, memoryLog, startTestApp, tempDir, testClock, waitFor } from '../helpers.js';
import {
  type Call,
  campaignSubmission,
  FakeSlack,
  postedClickBody,
  signingSecret,
  slackPost,
} from './fake-slack.js';

type Json = Record<string, unknown>;
type Button = { type: string; action_id: string; value?: string; text: { text: string }; confirm?: unknown };
type Running = Awaited<ReturnType<typeof startTestApp>> & { log: ReturnType<typeof memoryLog> };

let slack: FakeSlack;
let dirs: ReturnType<typeof tempDir>;
const running: Running[] = [];
const clock = testClock(Date.UTC(2026, 0, 15, 12));
const mailbox = 'imap://sales%40coldbatch.test@127.0.0.1:1143/INBOX';
let uid = 0;

beforeEach(async () => {
  slack = await new FakeSlack().start();
  dirs = tempDir();
  clock.set(Date.UTC(2026, 0, 15, 12));
});
afterEach(async () => {
  for (const t of running.splice(0)) await t.stop();
  await slack.stop();
  dirs.cleanup();
});

async function boot(env: Record<string, string> = {}): Promise<Running> {
  const log = memoryLog();
  const t = await startTestApp(
    {
      SLACK_BOT_TOKEN: slack.botToken,
      SLACK_SIGNING_SECRET: signingSecret,
      SLACK_API_URL: slack.apiUrl,
      SLACK_ADMIN_USERS: 'UADMIN,UREP',
      DATABASE_PATH: join(dirs.dir, 'replies.db'),
      MAIL_OUTBOX_DIR: join(dirs.dir, 'outbox'),
      MAIL_FROM: 'Sales <sales@coldbatch.test>',
      MAIL_POSTAL_ADDRESS: 'Rua Exemplo 1, São Paulo',
      LOG_LEVEL: 'info',
      ...env,
    },
    { slackRetries: 0, slackProgressIntervalMs: 0, scheduler: false, clock, logDestination: log.stream },
  );
  const r = { ...t, log };
  running.push(r);
  return r;
}

async function restart(t: Running, env: Record<string, string> = {}): Promise<Running> {
  running.splice(running.indexOf(t), 1);
  await t.stop();
  return boot(env);
}

const settle = (t: Running) => t.app.slack?.background.idle();

/** Imports the leads and sends a campaign to them; `slack`: written in the modal (it has a progress message). */
async function sendCampaign(t: Running, how: 'slack' | 'api'): Promise<string> {
  const { app } = t;
  await importText(app.services, 'email,name\nana@x.com,Ana <b>Lima</b>\nbia@x.com,Bia\n', {
    fileName: 'leads.csv',
  });
  let id: string;
  if (how === 'slack') {
    const res = await slackPost(
      t.url,
      campaignSubmission({
        name: { type: 'plain_text_input', value: 'Intro <!here>' },
        subject: { type: 'plain_text_input', value: 'Hi {{first_name|there}}' },
        body: { type: 'plain_text_input', value: 'Hello {{name}}' },
        when: { type: 'radio_buttons', selected_option: { value: 'now' } },
        timezone: { type: 'plain_text_input', value: 'UTC' },
      }),
      { type: 'form' },
    );
    expect(res.status).toBe(200);
    await settle(t);
    id = (await app.services.campaigns.list()).campaigns[0]!.id;
    expect(await app.services.campaigns.progressRef(id)).toBeTruthy();
  } else {
    id = (
      await app.services.campaigns.create(
        { name: 'Intro <!here>', subject: 'Hi {{first_name|there}}', body: 'Hello {{name}}', sendAt: 'now' },
        'api',
      )
    ).id;
  }
  await app.services.sending.runDue();
  expect(await app.services.campaigns.counts(id)).toMatchObject({ sent: 2 });
  return id;
}

/** The Message-ID of the message the campaign sent to an address. */
function sentMessageId(t: Running, email: string): string {
  const row = t.app.db.$client
    .prepare(
      'SELECT s.message_id AS id FROM sends s JOIN contacts c ON c.id = s.contact_id WHERE c.email = ?',
    )
    .get(email) as { id: string | null } | undefined;
  expect(row?.id).toBeTruthy();
  return row!.id!;
}

/** A reply as a mail client writes it: new text on top, the quoted original below. */
function replyMail(t: Running, opts: { from: string; name: string; text: string; subject?: string }): Buffer {
  const inReplyTo = sentMessageId(t, opts.from);
  return Buffer.from(
    [
      `From: ${opts.name} <${opts.from}>`,
      'To: Sales <sales@coldbatch.test>',
      `Subject: ${opts.subject ?? 'Re: Hi Ana'}`,
      `Message-ID: <reply-${++uid}@x.com>`,
      `In-Reply-To: ${inReplyTo}`,
      `References: ${inReplyTo}`,
      `Date: ${new Date(clock.now()).toUTCString()}`,
      'MIME-Version: 1.0',
      'Content-Type: text/plain; charset=utf-8',
      '',
      opts.text,
      '',
      `On Thu, 15 Jan 2026 at 12:00, Sales <sales@coldbatch.test> wrote:`,
      '> Hello Ana',
      '> QUOTED-HISTORY',
      '',
    ].join('\r\n'),
  );
}

/** Stores a reply through the service, as the IMAP reader would hand it over (`at`: its IMAP UID). */
async function storeReply(t: Running, raw: Buffer, at = ++uid): Promise<number> {
  const out = await t.app.services.mailbox.process({ mailbox, uidValidity: '7', uid: at }, raw);
  if (out === 'duplicate') throw new Error('stored before');
  expect(out.kind).toBe('reply');
  return out.id;
}

const noticePosts = () =>
  slack
    .callsTo('chat.postMessage')
    .filter((c) => JSON.stringify(c.params.blocks ?? []).includes('reply_why'));

function buttonsOf(call: Call): Button[] {
  return ((call.params.blocks as Json[]) ?? []).flatMap((b) =>
    ((b.elements as Json[] | undefined) ?? []).filter((e) => e.type === 'button'),
  ) as Button[];
}

let clicks = 0;
/** Clicks a button of a posted notice as Slack would (in the message, with a response_url). */
async function click(t: Running, notice: Call, button: Button, user = 'UADMIN') {
  const name = `click${++clicks}`;
  const body = postedClickBody(
    {
      channel: String(notice.result?.channel),
      ts: String(notice.result?.ts),
      text: notice.params.text,
      blocks: notice.params.blocks,
    },
    button,
    user,
    slack.responseUrl(name),
  );
  const res = await slackPost(t.url, body, { type: 'form' });
  expect(res.status).toBe(200);
  await settle(t);
  return (await waitFor(() => slack.responses.find((r) => r.path === `/respond/${name}`))).body;
}

const contactRow = (t: Running, email: string) =>
  t.app.db.$client.prepare('SELECT id, status, interest FROM contacts WHERE email = ?').get(email) as
    | { id: number; status: string; interest: string | null }
    | undefined;

const noticeRef = (t: Running, id: number) =>
  t.app.db.$client
    .prepare('SELECT notice_ref AS ref, notified_at AS at FROM inbox_messages WHERE id = ?')
    .get(id) as {
    ref: string | null;
    at: number | null;
  };

const errorLines = (t: Running) => t.log.lines().filter((l) => Number(l.level) >= 50);

describe('reply notices', () => {
  it('posts to SLACK_REPLIES_CHANNEL: who, which campaign, the subject, the new text escaped, the buttons', async () => {
    const t = await boot({ SLACK_REPLIES_CHANNEL: 'CREPLIES' });
    await sendCampaign(t, 'api');
    const id = await storeReply(
      t,
      replyMail(t, {
        from: 'ana@x.com',
        name: 'Ana Lima',
        text: `Sounds good <!channel> & <@U999>, call me on Monday.\n${'More words here. '.repeat(60)}`,
      }),
    );
    const posted = await waitFor(() => noticePosts()[0]);
    await settle(t);
    expect(posted.params.channel).toBe('CREPLIES');
    expect(posted.params.thread_ts).toBeUndefined();
    expect(String(posted.params.text)).toMatch(/Reply from .+ to Intro &lt;!here&gt;/);
    const shown = JSON.stringify(posted.params.blocks);
    expect(shown).toContain('ana@x.com');
    expect(shown).toContain('Intro &lt;!here&gt;');
    expect(shown).toContain('Re: Hi Ana');
    expect(shown).toContain('Sounds good &lt;!channel&gt; &amp; &lt;@U999&gt;, call me on Monday.');
    expect(shown).not.toContain('<!channel>');
    expect(shown).not.toContain('QUOTED-HISTORY');
    expect(shown).not.toContain('<b>');
    // ~500 characters of the new text, not the whole of it.
    expect(shown.match(/More words here\./g)!.length).toBeGreaterThan(10);
    expect(shown.match(/More words here\./g)!.length).toBeLessThan(35);
    expect(buttonsOf(posted).map((b) => b.action_id)).toEqual([
      'reply_interested',
      'reply_not_interested',
      'reply_unsubscribe',
      'reply_why',
    ]);
    // Stored as noticed, with where it was posted; a later sweep posts nothing more.
    expect(JSON.parse(noticeRef(t, id).ref!)).toEqual({ channel: 'CREPLIES', ts: posted.result?.ts });
    expect(await t.app.slack!.sweepReplies()).toBe(0);
    expect(noticePosts()).toHaveLength(1);
    expect(errorLines(t)).toEqual([]);
  });

  it("without SLACK_REPLIES_CHANNEL it goes in the campaign's progress thread; a reply asking removal says they were unsubscribed", async () => {
    const t = await boot();
    const campaignId = await sendCampaign(t, 'slack');
    const progress = JSON.parse((await t.app.services.campaigns.progressRef(campaignId))!) as {
      channel: string;
      ts: string;
    };
    await storeReply(
      t,
      replyMail(t, { from: 'bia@x.com', name: 'Bia', text: 'Please remove me from your list.' }),
    );
    const posted = await waitFor(() => noticePosts()[0]);
    expect(posted.params).toMatchObject({ channel: progress.channel, thread_ts: progress.ts });
    const shown = JSON.stringify(posted.params.blocks);
    expect(shown).toContain('bia@x.com');
    expect(shown).toContain('they were unsubscribed');
    // Already unsubscribed: no Unsubscribe button.
    expect(buttonsOf(posted).map((b) => b.action_id)).toEqual([
      'reply_interested',
      'reply_not_interested',
      'reply_why',
    ]);
    expect(contactRow(t, 'bia@x.com')?.status).toBe('unsubscribed');
  });

  it('with neither a replies channel nor a progress message: logged once, marked noticed, never retried', async () => {
    const t = await boot();
    await sendCampaign(t, 'api');
    const id = await storeReply(t, replyMail(t, { from: 'ana@x.com', name: 'Ana', text: 'Tell me more.' }));
    await waitFor(() => noticeRef(t, id).at);
    await settle(t);
    expect(JSON.parse(noticeRef(t, id).ref!)).toEqual({ posted: false, reason: 'no_place' });
    expect(await t.app.slack!.sweepReplies()).toBe(0);
    expect(noticePosts()).toHaveLength(0);
    expect(t.log.lines().filter((l) => String(l.msg).startsWith('reply notice not posted'))).toHaveLength(1);
  });

  it('a notice Slack did not take is posted once after a restart; racing sweeps post it once', async () => {
    let t = await boot({ SLACK_REPLIES_CHANNEL: 'CREPLIES' });
    await sendCampaign(t, 'api');
    slack.inject('chat.postMessage', { status: 500 });
    const raw = replyMail(t, { from: 'ana@x.com', name: 'Ana', text: 'Interesting!' });
    const id = await storeReply(t, raw, 500);
    await waitFor(() => slack.faultedCalls('chat.postMessage').length > 0);
    await settle(t);
    expect(noticeRef(t, id).at).toBeNull();
    expect(noticePosts()).toHaveLength(0);

    t = await restart(t, { SLACK_REPLIES_CHANNEL: 'CREPLIES' });
    await waitFor(() => noticePosts()[0]);
    await settle(t);
    expect(noticeRef(t, id).at).not.toBeNull();
    // Another reply while sweeps race with the event's own pass: still one notice each.
    const second = await storeReply(t, replyMail(t, { from: 'bia@x.com', name: 'Bia', text: 'Call me.' }));
    await Promise.all([
      t.app.slack!.sweepReplies(),
      t.app.slack!.sweepReplies(),
      t.app.slack!.sweepReplies(),
    ]);
    await settle(t);
    expect(noticeRef(t, second).at).not.toBeNull();
    expect(noticePosts().map((c) => JSON.stringify(c.params.blocks).includes('bia@x.com'))).toEqual([
      false,
      true,
    ]);
    // After another restart the same message read again is a duplicate: no notice is posted again.
    t = await restart(t, { SLACK_REPLIES_CHANNEL: 'CREPLIES' });
    expect(await t.app.services.mailbox.process({ mailbox, uidValidity: '7', uid: 500 }, raw)).toBe(
      'duplicate',
    );
    expect(await t.app.slack!.sweepReplies()).toBe(0);
    await settle(t);
    expect(noticePosts()).toHaveLength(2);
  });

  it('every button of the notice: interest stored and shown with who chose, unsubscribe, why; refusals are clear', async () => {
    const t = await boot({ SLACK_REPLIES_CHANNEL: 'CREPLIES' });
    await sendCampaign(t, 'api');
    await storeReply(t, replyMail(t, { from: 'ana@x.com', name: 'Ana Lima', text: 'Yes, interested.' }));
    const notice = await waitFor(() => noticePosts()[0]);
    const buttons = Object.fromEntries(buttonsOf(notice).map((b) => [b.action_id, b]));

    const interested = await click(t, notice, buttons.reply_interested!);
    expect(interested.replace_original).toBe(true);
    expect(JSON.stringify(interested.blocks)).toContain('Interested*, marked by <@UADMIN>');
    expect(contactRow(t, 'ana@x.com')?.interest).toBe('interested');
    // The buttons stay: someone else changes the choice.
    const still = (interested.blocks as Json[]).flatMap((b) => (b.elements as Json[] | undefined) ?? []);
    expect(still.map((b) => b.action_id)).toContain('reply_not_interested');
    const changed = await click(t, notice, buttons.reply_not_interested!, 'UREP');
    expect(JSON.stringify(changed.blocks)).toContain('Not interested*, marked by <@UREP>');
    expect(contactRow(t, 'ana@x.com')?.interest).toBe('not_interested');

    // Not an admin: refused, nothing changes.
    const refused = await click(t, notice, buttons.reply_interested!, 'UOTHER');
    expect(JSON.stringify(refused)).toContain('Only coldbatch admins');
    expect(refused.replace_original).toBe(false);
    expect(contactRow(t, 'ana@x.com')?.interest).toBe('not_interested');

    const why = await click(t, notice, buttons.reply_why!, 'UOTHER');
    expect(why).toMatchObject({ response_type: 'ephemeral', replace_original: false });
    const explained = JSON.stringify(why.blocks);
    expect(explained).toContain('ana@x.com');
    expect(explained).toContain('Intro &lt;!here&gt;');

    expect(buttons.reply_unsubscribe!.confirm).toBeTruthy();
    const unsubscribed = await click(t, notice, buttons.reply_unsubscribe!);
    expect(JSON.stringify(unsubscribed.blocks)).toContain('Unsubscribed by <@UADMIN>');
    const ana = contactRow(t, 'ana@x.com')!;
    expect(ana.status).toBe('unsubscribed');
    expect(await t.app.services.contacts.isSuppressed('ana@x.com')).toBe(true);
    const history = await t.app.services.contacts.history(ana.id);
    expect(history.at(-1)).toMatchObject({ to: 'unsubscribed', actor: 'UADMIN' });
    const whyAfter = JSON.stringify((await click(t, notice, buttons.reply_why!)).blocks);
    expect(whyAfter).toContain('Suppressed (*unsubscribed*)');

    // A button of another shape (an old message, a hand-made request): a clear answer.
    const stale = await click(t, notice, { ...buttons.reply_interested!, value: '{"id":"nope"}' });
    expect(JSON.stringify(stale)).toContain('not one I can read');
    expect(errorLines(t)).toEqual([]);
  });

  it('a contact forgotten after the notice: every button answers clearly, nothing crashes', async () => {
    const t = await boot({ SLACK_REPLIES_CHANNEL: 'CREPLIES' });
    await sendCampaign(t, 'api');
    await storeReply(t, replyMail(t, { from: 'ana@x.com', name: 'Ana Lima', text: 'Maybe later.' }));
    const notice = await waitFor(() => noticePosts()[0]);
    await t.app.services.people.forgetPerson('ana@x.com', 'UADMIN');
    for (const b of buttonsOf(notice)) {
      const answer = await click(t, notice, b);
      expect(answer.replace_original, b.action_id).not.toBe(true);
      expect(JSON.stringify(answer), b.action_id).toMatch(/:warning: .*(forgotten|no longer)/);
    }
    expect(errorLines(t)).toEqual([]);
  });
});
