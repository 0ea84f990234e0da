/**
 * Every button the app shows, clicked as Slack would. The real app is driven through ordinary use
 * (CSV drops, slash commands, the App Home, campaigns written in the modal, a retention proposal,
 * a reply read from the mailbox); every button it posted is collected from what the stand-in Web
 * API received and clicked with a signed block_actions request built from the collected block, in
 * the state the use left behind (a fresh app on a copy of that database for each click), then the
 * buttons of each answer too.
 * No click may be answered with an error, go unanswered, or log at error level.
 */
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { proposeRetention } from '../../src/slack/flows/retention.js';
import { memoryLog, startTestApp, tempDir, testClock } from '../helpers.js';
import { startSink } from '../smtp-sink.js';
import {
  campaignSubmission,
  commandBody,
  eventBody,
  FakeSlack,
  signingSecret,
  slackPost,
} from './fake-slack.js';

type Json = Record<string, unknown>;
type Button = {
  type: 'button';
  action_id: string;
  value?: string;
  text: { type: string; text: string };
  style?: string;
  confirm?: unknown;
};
/** Where a button was shown: a message (in a channel, a DM or only to one person), the App Home, a modal. */
type Surface =
  | { kind: 'message'; label: string; channel: string; ts: string; text?: unknown; blocks: Json[] }
  | { kind: 'ephemeral'; label: string; blocks: Json[] }
  | { kind: 'home'; label: string; view: Json }
  | { kind: 'modal'; label: string; view: Json };
type Click = { surface: Surface; block: Json; button: Button };

const day = 86_400_000;
const clock = testClock(Date.UTC(2026, 0, 14, 12));
const log = memoryLog();
const clicker = 'UADMIN2';
let slack: FakeSlack;
let dir: ReturnType<typeof tempDir>;
let sink: Awaited<ReturnType<typeof startSink>>;
let snapshot: string;
/** Bodies the app answered slash commands with (the HTTP response itself). */
const acks: { label: string; body: Json }[] = [];
let copies = 0;

async function boot(databasePath: string) {
  return startTestApp(
    {
      SLACK_BOT_TOKEN: slack.botToken,
      SLACK_SIGNING_SECRET: signingSecret,
      SLACK_API_URL: slack.apiUrl,
      SLACK_ADMIN_USERS: `UADMIN,${clicker}`,
      SLACK_NOTIFY_CHANNEL: 'CNOTICE1',
      APPROVAL_THRESHOLD: '3',
      DATABASE_PATH: databasePath,
      MAIL_FROM: 'Sales <sales@coldbatch.test>',
      MAIL_POSTAL_ADDRESS: 'Rua Exemplo 1, São Paulo',
      PUBLIC_URL: 'https://coldbatch.test',
      SMTP_URL: sink.url,
      LOG_LEVEL: 'warn',
    },
    { slackRetries: 0, slackProgressIntervalMs: 0, scheduler: false, clock, logDestination: log.stream },
  );
}
type Running = Awaited<ReturnType<typeof boot>>;

const errorLines = () => log.lines().filter((l) => Number(l.level) >= 50);

function shareFile(id: string, content: string) {
  slack.files.set(id, {
    id,
    name: `${id}.csv`,
    filetype: 'csv',
    user: 'UADMIN',
    content,
    channel: 'C1',
    ts: `1700000000.00000${id.length}`,
  });
  return { type: 'file_shared', file_id: id, user_id: 'UADMIN', channel_id: 'C1', file: { id } };
}

const modal = (when: Json, name: string) =>
  campaignSubmission({
    name: { type: 'plain_text_input', value: name },
    subject: { type: 'plain_text_input', value: 'Hi {{first_name|there}}' },
    body: { type: 'plain_text_input', value: 'Hello {{name}}' },
    when: { type: 'radio_buttons', selected_option: { value: when.kind } },
    ...(when.at ? { send_at: { type: 'datetimepicker', selected_date_time: when.at } } : {}),
    timezone: { type: 'plain_text_input', value: 'UTC' },
  });

/** Ordinary use, as an admin would go about it, leaving buttons in every place the app answers. */
async function use(t: Running) {
  const { app, url } = t;
  const settle = () => app.slack?.background.idle();
  const post = async (body: string, type: 'json' | 'form' = 'json') => {
    const res = await slackPost(url, body, { type });
    expect(res.status).toBe(200);
    await settle();
    return res;
  };
  let n = 0;
  const command = async (name: string, text: string) => {
    const res = await post(commandBody(text, 'UADMIN', slack.responseUrl(`use${n++}`), name), 'form');
    if (res.text) acks.push({ label: `${name} ${text}`, body: res.json() as Json });
  };
  const importApi = (name: string, csv: string) =>
    app.services.imports.importFile({
      source: (async function* () {
        yield new TextEncoder().encode(csv);
      })(),
      fileName: name,
      origin: 'api',
      actor: 'api',
    });

  // An old batch, inactive for long (a retention proposal), then ten more over time; two CSV drops.
  const old = await importApi('old-1.csv', 'email\nold1@x.com\n');
  await app.services.batches.deactivate(old.batch.id, 'UADMIN');
  clock.advance(40 * day);
  const older: string[] = [];
  for (let i = 2; i <= 10; i++)
    older.push((await importApi(`old-${i}.csv`, `email\nold${i}@x.com\n`)).batch.id);
  await post(
    eventBody(
      shareFile(
        'F1',
        'email,name,company\nana@acme.com,Ana,Acme\nbruno@acme.com,Bruno,Acme\nnot-an-address,X,Y\n',
      ),
      'EvF1',
    ),
  );
  await post(
    eventBody(
      shareFile('F22', 'email,name\nok@x.com,Ok\nf1@x.com,Fay\nu1@x.com,Uma\nzoe@x.com,Zoe\n'),
      'EvF2',
    ),
  );
  const active = (await app.services.batches.getActive())!;
  expect(active.name).toBe('F22.csv');
  expect((await app.services.batches.list({ limit: 50 })).batches).toHaveLength(12);

  // A campaign written in the modal, approved by a second admin, sent: one failure, one unknown.
  await post(modal({ kind: 'now' }, 'Intro'), 'form');
  const [sent] = (await app.services.campaigns.list()).campaigns;
  await app.services.campaigns.approve(sent!.id, clicker);
  for (let i = 0; i < 20 && (await app.services.campaigns.get(sent!.id)).status !== 'completed'; i++) {
    await app.services.sending.runDue();
    clock.advance(2 * 3_600_000);
  }
  app.db.$client
    .prepare(
      `UPDATE sends SET status = 'claimed' WHERE contact_id = (SELECT id FROM contacts WHERE email = ?)`,
    )
    .run('u1@x.com');
  await app.services.sending.sweepInterrupted();
  expect(await app.services.campaigns.counts(sent!.id)).toMatchObject({ failed: 1, unknown: 1 });
  // One scheduled for tomorrow (waiting for approval), one draft.
  await post(modal({ kind: 'at', at: Math.floor((clock.now() + day) / 1000) }, 'Follow-up'), 'form');
  await post(modal({ kind: 'draft' }, 'Someday'), 'form');
  await settle();
  // A human reply to Intro, read from the mailbox (after Follow-up counted ok@ in its audience): its
  // notice goes in Intro's progress thread.
  const { inReplyTo } = app.db.$client
    .prepare(
      'SELECT message_id AS inReplyTo FROM sends WHERE contact_id = (SELECT id FROM contacts WHERE email = ?)',
    )
    .get('ok@x.com') as { inReplyTo: string };
  const reply = `From: Ok <ok@x.com>\r\nTo: sales@coldbatch.test\r\nSubject: Re: Hi Ok\r\nMessage-ID: <r1@x.com>\r\nIn-Reply-To: ${inReplyTo}\r\n\r\nSounds good, tell me more.\r\n`;
  await app.services.mailbox.process(
    { mailbox: 'imap://sales@127.0.0.1/INBOX', uidValidity: '1', uid: 1 },
    Buffer.from(reply),
  );
  await settle();

  await command('/batches', 'list');
  await command('/batches', `show ${active.id}`);
  await command('/batches', `show ${older[0]} company:acme`);
  await command('/batches', `activate ${older[1]} in 2h`);
  await command('/batches', 'scheduled');
  await command('/campaigns', 'list');
  await command('/campaigns', `show ${sent!.id}`);
  await command('/campaigns', 'new');
  await command('/contacts', 'why ok@x.com');
  await command('/contacts', 'forget zoe@x.com');
  await post(eventBody({ type: 'app_home_opened', user: clicker, tab: 'home', channel: 'D1' }, 'EvHome'));
  expect(
    await proposeRetention(
      { services: app.services, client: app.slack!.client, slack: app.config.slack!, log: app.log },
      30,
    ),
  ).toBe(1);
  await settle();
}

/** The buttons of blocks (also a section's accessory). */
function buttonsOf(blocks: Json[]): { block: Json; button: Button }[] {
  return blocks.flatMap((block) => {
    const els = [
      ...((block.elements as Json[] | undefined) ?? []),
      ...(block.accessory ? [block.accessory as Json] : []),
    ];
    return els.filter((e) => e.type === 'button').map((button) => ({ block, button: button as Button }));
  });
}

const blocksOf = (s: Surface): Json[] =>
  (s.kind === 'home' || s.kind === 'modal' ? (s.view.blocks as Json[]) : s.blocks) ?? [];

/**
 * What the app showed since call `from` / response `fromResponse`: the latest version of each message
 * (a chat.update replaces its chat.postMessage), each ephemeral answer (a response_url answer that
 * replaces the clicked message stands in for it), the latest App Home of each user, each modal.
 */
function surfacesSince(from: number, fromResponse: number, clicked?: Surface): Surface[] {
  const messages = new Map<string, Surface>();
  const homes = new Map<string, Surface>();
  const out: Surface[] = [];
  for (const c of slack.calls.slice(from)) {
    const p = c.params;
    if (c.method === 'chat.postMessage' && c.result) {
      const key = `${c.result.channel}:${c.result.ts}`;
      messages.set(key, {
        kind: 'message',
        label: `chat.postMessage to ${p.channel}`,
        channel: String(c.result.channel),
        ts: String(c.result.ts),
        text: p.text,
        blocks: (p.blocks as Json[]) ?? [],
      });
    } else if (c.method === 'chat.update') {
      const key = `${p.channel}:${p.ts}`;
      messages.set(key, {
        kind: 'message',
        label: `chat.update of ${key}`,
        channel: String(p.channel),
        ts: String(p.ts),
        text: p.text,
        blocks: (p.blocks as Json[]) ?? [],
      });
    } else if (c.method === 'chat.postEphemeral') {
      out.push({ kind: 'ephemeral', label: 'chat.postEphemeral', blocks: (p.blocks as Json[]) ?? [] });
    } else if (c.method === 'views.publish') {
      homes.set(String(p.user_id), { kind: 'home', label: `App Home of ${p.user_id}`, view: p.view as Json });
    } else if (c.method === 'views.open' || c.method === 'views.update' || c.method === 'views.push') {
      out.push({ kind: 'modal', label: c.method, view: p.view as Json });
    }
  }
  for (const r of slack.responses.slice(fromResponse)) {
    const blocks = (r.body.blocks as Json[]) ?? [];
    if (r.body.replace_original === true && clicked && clicked.kind === 'message')
      out.push({ ...clicked, label: `${clicked.label}, replaced`, blocks });
    else out.push({ kind: 'ephemeral', label: `response to ${r.path}`, blocks });
  }
  return [...messages.values(), ...homes.values(), ...out];
}

/** The block_actions payload Slack sends for a click on this button where it was shown. */
function payloadOf(c: Click, responseUrl: string): Json {
  const { surface, block, button } = c;
  const base = {
    type: 'block_actions',
    user: { id: clicker, username: 'second', name: 'second', team_id: 'T1' },
    api_app_id: 'A1',
    token: 'legacy',
    trigger_id: '123.456.click',
    team: { id: 'T1', domain: 'acme' },
    enterprise: null,
    is_enterprise_install: false,
    state: { values: {} },
    actions: [
      {
        type: 'button',
        action_id: button.action_id,
        block_id: block.block_id ?? 'auto',
        text: button.text,
        ...(button.value !== undefined ? { value: button.value } : {}),
        ...(button.style ? { style: button.style } : {}),
        action_ts: '1700000999.000100',
      },
    ],
  };
  if (surface.kind === 'home' || surface.kind === 'modal') {
    // No response_url: a click in a view is answered by updating or re-publishing views.
    const view = {
      id: 'V1',
      team_id: 'T1',
      type: surface.kind,
      state: { values: {} },
      hash: 'h',
      ...surface.view,
    };
    return { ...base, container: { type: 'view', view_id: 'V1' }, view };
  }
  const inChannel = { channel: { id: surface.kind === 'message' ? surface.channel : 'C1', name: 'leads' } };
  if (surface.kind === 'ephemeral')
    return {
      ...base,
      ...inChannel,
      container: { type: 'message', message_ts: '1700000500.000100', channel_id: 'C1', is_ephemeral: true },
      response_url: responseUrl,
    };
  return {
    ...base,
    ...inChannel,
    container: { type: 'message', message_ts: surface.ts, channel_id: surface.channel, is_ephemeral: false },
    message: {
      type: 'message',
      user: 'UBOT',
      bot_id: 'BBOT',
      ts: surface.ts,
      text: surface.text,
      blocks: surface.blocks,
    },
    response_url: responseUrl,
  };
}

const where = (s: Surface) => (s.kind === 'home' || s.kind === 'modal' ? s.kind : 'message');
/**
 * Buttons that differ only in the batch or campaign they name are clicked once: the same action
 * from the same place (a message, the Home, a modal), carrying the same view and kind of page.
 */
function keyOf(c: Click): string {
  let shape = 'bare';
  try {
    const v = JSON.parse(c.button.value ?? '') as Json;
    shape = Object.keys(v)
      .sort()
      .map((k) => (k === 'view' ? `view=${v.view}` : k === 'page' ? `page=${v.page ? 'cursor' : 'none'}` : k))
      .join(',');
  } catch {}
  return `${where(c.surface)} ${c.button.action_id} ${shape}`;
}
const describeClick = (c: Click) => `"${c.button.text.text}" (${c.button.action_id}) in ${c.surface.label}`;

/** Clicks a button as Slack would (after its confirm dialog, if it has one); returns what the app showed. */
async function click(t: Running, c: Click, name: string) {
  const from = slack.calls.length;
  const fromResponse = slack.responses.length;
  const body = new URLSearchParams({
    payload: JSON.stringify(payloadOf(c, slack.responseUrl(name))),
  }).toString();
  const res = await slackPost(t.url, body, { type: 'form' });
  expect(res.status, describeClick(c)).toBe(200);
  await t.app.slack?.background.idle();
  const sent = [
    ...slack.calls.slice(from).map((x) => x.params),
    ...slack.responses.slice(fromResponse).map((r) => r.body),
  ];
  return { sent, surfaces: surfacesSince(from, fromResponse, c.surface) };
}

beforeAll(async () => {
  slack = await new FakeSlack().start();
  dir = tempDir();
  sink = await startSink({ reject: (to) => (to.startsWith('f1@') ? 451 : undefined) });
  const t = await boot(join(dir.dir, 'use.db'));
  try {
    await use(t);
    snapshot = join(dir.dir, 'snapshot.db');
    await t.app.db.$client.backup(snapshot);
  } finally {
    await t.stop();
  }
}, 60_000);
afterAll(async () => {
  await slack?.stop();
  await sink?.close();
  dir?.cleanup();
});

describe('every button the app shows', () => {
  it('answers each click without an error, and logs no error', async () => {
    expect(errorLines()).toEqual([]);
    const shown: Surface[] = [
      ...surfacesSince(0, 0),
      ...acks.map(
        (a): Surface => ({
          kind: 'ephemeral',
          label: `ack of ${a.label}`,
          blocks: (a.body.blocks as Json[]) ?? [],
        }),
      ),
    ];
    const first = shown.flatMap((surface) => buttonsOf(blocksOf(surface)).map((b) => ({ surface, ...b })));
    // The places the use left buttons in; a change that drops one of them fails here, not silently.
    const ids = new Set(first.map((c) => c.button.action_id));
    for (const id of [
      'import_undo',
      'batch_details',
      'batch_activate',
      'batch_deactivate',
      'batches_page',
      'batch_export',
      'batch_schedule_activation',
      'batch_cancel_activation',
      'campaign_new',
      'campaign_pause',
      'campaign_cancel',
      'campaign_approve',
      'campaign_retry_failed',
      'campaign_resend_unknown',
      'contact_forget',
      'retention_delete_batch',
      'reply_interested',
      'reply_not_interested',
      'reply_unsubscribe',
      'reply_why',
    ])
      expect(ids, id).toContain(id);

    const seen = new Set<string>();
    const queue: Click[][] = [];
    const enqueue = (path: Click[], clicks: Click[]) => {
      for (const c of clicks) {
        if (seen.has(keyOf(c))) continue;
        seen.add(keyOf(c));
        queue.push([...path, c]);
      }
    };
    enqueue([], first);
    const problems: string[] = [];
    let clicked = 0;
    while (queue.length > 0) {
      const path = queue.shift()!;
      const db = join(dir.dir, `click-${copies++}.db`);
      copyFileSync(snapshot, db);
      const t = await boot(db);
      const logged = errorLines().length;
      try {
        let answer: Awaited<ReturnType<typeof click>> | undefined;
        for (const [i, c] of path.entries()) answer = await click(t, c, `click${copies}-${i}`);
        const last = path.at(-1)!;
        clicked++;
        const said = JSON.stringify(answer!.sent);
        if (answer!.sent.length === 0) problems.push(`${describeClick(last)}: nothing happened`);
        if (/:warning:|Something went wrong/.test(said))
          problems.push(`${describeClick(last)}: answered with an error: ${said.slice(0, 400)}`);
        const errors = errorLines().slice(logged);
        if (errors.length > 0)
          problems.push(`${describeClick(last)}: logged ${JSON.stringify(errors).slice(0, 600)}`);
        if (path.length < 3)
          enqueue(
            path,
            answer!.surfaces.flatMap((surface) =>
              buttonsOf(blocksOf(surface)).map((b) => ({ surface, ...b })),
            ),
          );
      } finally {
        await t.stop();
      }
    }
    expect(problems).toEqual([]);
    expect(clicked).toBeGreaterThan(30);
  }, 240_000);

  it('every message and answer the app sent with blocks has a fallback text', async () => {
    const withBlocks = [
      ...slack.calls
        .filter((c) => c.method.startsWith('chat.') && Array.isArray(c.params.blocks))
        .map((c) => ({ label: c.method, body: c.params })),
      ...slack.responses
        .filter((r) => Array.isArray(r.body.blocks))
        .map((r) => ({ label: `response ${r.path}`, body: r.body })),
      ...acks.filter((a) => Array.isArray(a.body.blocks)),
    ];
    expect(withBlocks.length).toBeGreaterThan(10);
    for (const m of withBlocks)
      expect(
        typeof m.body.text === 'string' && m.body.text.trim().length > 0,
        `${m.label}: ${JSON.stringify(m.body).slice(0, 200)}`,
      ).toBe(true);
  });
});
