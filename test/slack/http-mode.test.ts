import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bytes, startTestApp, tempDir, waitFor } from '../helpers.js';
import {
  actionBody,
  commandBody,
  eventBody,
  FakeSlack,
  sign,
  signingSecret,
  slackPost,
} from './fake-slack.js';

type Block = {
  type: string;
  text?: { text: string };
  elements?: { action_id?: string; value?: string; text?: unknown }[];
};

let slack: FakeSlack;
let url: string;
let stopApp: () => Promise<void>;
let app: Awaited<ReturnType<typeof startTestApp>>['app'];
let dbDir: ReturnType<typeof tempDir>;

const csv = 'email,name,company\nana@acme.com,Ana,Acme\nbruno@acme.com,Bruno,Acme\n';

async function boot(env: Record<string, string> = {}) {
  const t = await startTestApp(
    {
      SLACK_BOT_TOKEN: slack.botToken,
      SLACK_SIGNING_SECRET: signingSecret,
      SLACK_API_URL: slack.apiUrl,
      DATABASE_PATH: join(dbDir.dir, 'slack.db'),
      ...env,
    },
    { slackRetries: 0, slackProgressIntervalMs: 0 },
  );
  url = t.url;
  app = t.app;
  stopApp = t.stop;
}

beforeEach(async () => {
  slack = await new FakeSlack().start();
  dbDir = tempDir();
});
afterEach(async () => {
  await stopApp?.();
  await slack.stop();
  dbDir.cleanup();
});

const batches = async () => (await app.services.batches.list()).batches;
const allBlocks = (body: Record<string, unknown>) => (body.blocks ?? []) as Block[];
const blockText = (blocks: Block[]) => JSON.stringify(blocks);
const findButton = (blocks: Block[], actionId: string) =>
  blocks.flatMap((b) => b.elements ?? []).find((e) => e.action_id === actionId);

function shareFile(
  id: string,
  content: string | Buffer,
  extra: Partial<Parameters<FakeSlack['files']['set']>[1]> = {},
) {
  const user = extra.user ?? 'UADMIN';
  slack.files.set(id, {
    id,
    name: `${id}.csv`,
    filetype: 'csv',
    user,
    content,
    channel: 'C1',
    ts: '1700000000.000001',
    ...extra,
  });
  return {
    type: 'file_shared',
    file_id: id,
    user_id: user,
    channel_id: 'C1',
    file: { id },
    event_ts: '1700000000.2',
  };
}

async function settle() {
  await app.slack?.background.idle();
}

describe('Slack HTTP mode: request verification', () => {
  beforeEach(() => boot());

  it('answers 401 to a bad signature, a missing one and a stale timestamp; url_verification works', async () => {
    const body = eventBody({ type: 'app_home_opened', user: 'U1', tab: 'home' }, 'Ev0');
    expect((await slackPost(url, body, { signature: 'v0=deadbeef' })).status).toBe(401);
    expect((await slackPost(url, body, { signature: null })).status).toBe(401);
    const old = Math.floor(Date.now() / 1000) - 6 * 60;
    expect((await slackPost(url, body, { timestamp: old, signature: sign(body, old) })).status).toBe(401);
    expect(slack.callsTo('views.publish')).toHaveLength(0);

    const challenge = JSON.stringify({ type: 'url_verification', challenge: 'abc123', token: 'x' });
    const r = await slackPost(url, challenge);
    expect(r.status).toBe(200);
    expect(r.text).toContain('abc123');
  });
});

describe('Slack HTTP mode: CSV drops', () => {
  beforeEach(() => boot());

  it('imports a shared CSV once and replies in its thread with the batch id and the report', async () => {
    const ev = shareFile('F1', csv);
    const res = await slackPost(url, eventBody(ev, 'Ev1'));
    expect(res.status).toBe(200);
    await settle();
    expect(await batches()).toHaveLength(1);
    const batch = (await batches())[0]!;
    expect(batch).toMatchObject({
      status: 'active',
      contactCount: 2,
      source: 'slack',
      createdBy: 'UADMIN',
      name: 'F1.csv',
    });

    const posted = slack.callsTo('chat.postMessage')[0]!;
    expect(posted.params).toMatchObject({ channel: 'C1', thread_ts: '1700000000.000001' });
    expect(posted.auth).toBe(`Bearer ${slack.botToken}`);
    const final = slack.callsTo('chat.update').at(-1)!;
    const text = blockText(allBlocks(final.params));
    expect(text).toContain(batch.id);
    expect(text).toContain('2 imported');
    expect(findButton(allBlocks(final.params), 'import_undo')).toBeDefined();
    expect(await app.services.inbox.getFile('slack:F1')).toMatchObject({
      state: 'imported',
      batchId: batch.id,
    });
  });

  it('shows progress on a large file by updating the one threaded message', async () => {
    const rows = Array.from({ length: 9000 }, (_, i) => `p${i}@example.com,P ${i},Co`).join('\n');
    await slackPost(url, eventBody(shareFile('FBIG', `email,name,company\n${rows}\n`), 'EvBig'));
    await settle();
    expect(slack.callsTo('chat.postMessage')).toHaveLength(1);
    const updates = slack.callsTo('chat.update');
    const ts = new Set(updates.map((u) => u.params.ts));
    expect(ts.size).toBe(1);
    const progress = updates.filter((u) => JSON.stringify(u.params.blocks).includes('rows read so far'));
    expect(progress.length).toBeGreaterThanOrEqual(2);
    expect(JSON.stringify(updates.at(-1)!.params.blocks)).toContain('9,000 imported');
  });

  it('retries, a second delivery of the same file and a restart still give one batch', async () => {
    const ev = shareFile('F2', csv);
    await slackPost(url, eventBody(ev, 'Ev2'));
    await slackPost(url, eventBody(ev, 'Ev2'), {
      headers: { 'x-slack-retry-num': '1', 'x-slack-retry-reason': 'http_timeout' },
    });
    // The same file in another event (Slack sends file_shared again when the file is shared again).
    await slackPost(url, eventBody(ev, 'Ev3'));
    await settle();
    expect(await batches()).toHaveLength(1);

    await stopApp();
    await boot();
    await slackPost(url, eventBody(ev, 'Ev2'));
    await slackPost(url, eventBody(ev, 'Ev4'));
    await settle();
    expect(await batches()).toHaveLength(1);
    expect(slack.callsTo('chat.postMessage')).toHaveLength(1);
  });

  it('waits for an event acked while its duplicate check is still on its way to the database', async () => {
    // Bolt acks an event before the middleware runs; a database in another process (Postgres)
    // answers the duplicate check a round trip later. Shutdown and settle() must wait all the same.
    const inbox = app.services.inbox;
    const firstDelivery = inbox.firstDelivery.bind(inbox);
    inbox.firstDelivery = async (eventId) => {
      await new Promise((r) => setTimeout(r, 200));
      return firstDelivery(eventId);
    };
    expect((await slackPost(url, eventBody(shareFile('FSLOW', csv), 'EvSlow'))).status).toBe(200);
    await settle();
    expect(await batches()).toHaveLength(1);
    expect(await app.services.inbox.getFile('slack:FSLOW')).toMatchObject({ state: 'imported' });
  });

  it('ignores non-CSV files and the files the bot itself uploaded', async () => {
    await slackPost(
      url,
      eventBody(
        shareFile('F3', 'PNGDATA', { name: 'logo.png', filetype: 'png', mimetype: 'image/png' }),
        'Ev5',
      ),
    );
    await slackPost(url, eventBody(shareFile('F4', csv, { user: 'UBOT' }), 'Ev6'));
    await settle();
    expect(await batches()).toHaveLength(0);
    expect(slack.callsTo('chat.postMessage')).toHaveLength(0);
  });

  it('refuses a download that is a web page (missing scope) with a clear threaded message', async () => {
    await slackPost(
      url,
      eventBody(shareFile('F5', '<!DOCTYPE html><html>Sign in</html>', { contentType: 'text/html' }), 'Ev7'),
    );
    await settle();
    expect(await batches()).toHaveLength(0);
    const final = slack.callsTo('chat.update').at(-1)!;
    expect(blockText(allBlocks(final.params))).toMatch(/files:read/);
    expect(await app.services.inbox.getFile('slack:F5')).toMatchObject({
      state: 'failed',
      errorCode: 'not_csv',
    });
  });

  it('answers a fatal CSV in the thread and changes nothing', async () => {
    await slackPost(url, eventBody(shareFile('F6', 'nome,empresa\nAna,Acme\n'), 'Ev8'));
    await settle();
    expect(await batches()).toHaveLength(0);
    expect(blockText(allBlocks(slack.callsTo('chat.update').at(-1)!.params))).toMatch(/No e-mail column/);
  });

  it('Undo reactivates the previous batch', async () => {
    await slackPost(url, eventBody(shareFile('F7', csv), 'Ev9'));
    await settle();
    const first = (await batches())[0]!;
    await slackPost(url, eventBody(shareFile('F8', 'email\ncarla@beta.io\n'), 'Ev10'));
    await settle();
    const result = allBlocks(slack.callsTo('chat.update').at(-1)!.params);
    const undo = findButton(result, 'import_undo')!;
    const res = await slackPost(
      url,
      actionBody({ action_id: 'import_undo', value: undo.value! }, 'UADMIN', slack.responseUrl('undo'), {
        type: 'message',
        is_ephemeral: false,
      }),
      { type: 'form' },
    );
    expect(res.status).toBe(200);
    const answer = await waitFor(() => slack.responses.find((r) => r.path === '/respond/undo'));
    expect(answer.body.replace_original).toBe(true);
    expect(JSON.stringify(answer.body)).toContain('active again');
    expect((await app.services.batches.getActive())?.id).toBe(first.id);
  });
});

describe('Slack HTTP mode: old import replies', () => {
  beforeEach(() => boot());

  async function drop(id: string, content: string, eventId: string) {
    await slackPost(url, eventBody(shareFile(id, content), eventId));
    await settle();
    return allBlocks(slack.callsTo('chat.update').at(-1)!.params);
  }
  async function undo(blocks: Block[], name: string) {
    const button = findButton(blocks, 'import_undo')!;
    await slackPost(
      url,
      actionBody({ action_id: 'import_undo', value: button.value! }, 'UADMIN', slack.responseUrl(name), {
        type: 'message',
        is_ephemeral: false,
      }),
      { type: 'form' },
    );
    await settle();
    return (await waitFor(() => slack.responses.find((r) => r.path === `/respond/${name}`))).body;
  }

  it('Undo on a reply whose batch is no longer active changes nothing and says which batch is active', async () => {
    const firstReply = await drop('F20', csv, 'Ev20');
    const first = (await batches())[0]!;
    const secondReply = await drop('F21', 'email\ncarla@beta.io\n', 'Ev21');
    await drop('F22', 'email\ndora@gamma.io\n', 'Ev22');
    const [third, second] = await batches();

    // The first import replaced nothing: its Undo would deactivate it, but it is not active any more.
    const tooLate = await undo(firstReply, 'u1');
    expect(tooLate).toMatchObject({ response_type: 'ephemeral', replace_original: false });
    expect(String(tooLate.text)).toContain(`batch \`${third!.id}\` (F22.csv) is the active batch now`);
    expect(String(tooLate.text)).not.toMatch(/no batch is active/);
    expect((await app.services.batches.getActive())?.id).toBe(third!.id);

    // The second replaced the first: its Undo must not switch away from the third.
    const stale = await undo(secondReply, 'u2');
    expect(String(stale.text)).toContain(`batch \`${third!.id}\` (F22.csv) is the active batch now`);
    expect(String(stale.text)).toContain(`This import replaced \`${first.id}\``);
    expect(String(stale.text)).toContain(`/batches activate ${first.id}`);
    expect((await app.services.batches.getActive())?.id).toBe(third!.id);
    expect((await app.services.batches.get(second!.id)).status).toBe('inactive');

    // With nothing active, the answer says so, and still changes nothing.
    await app.services.batches.deactivate(third!.id, 'UADMIN');
    const none = await undo(secondReply, 'u3');
    expect(String(none.text)).toMatch(/is no longer active, and no batch is active now/);
    expect(await app.services.batches.getActive()).toBeNull();
  });

  it('Show contacts under an import reply (also one posted before its value named the view) answers privately', async () => {
    const reply = await drop('F30', csv, 'Ev30');
    const batch = (await batches())[0]!;
    for (const [name, value] of [
      ['s1', findButton(reply, 'batch_details')!.value!],
      ['s2', batch.id], // how import replies already in Slack carry it
    ] as const) {
      await slackPost(
        url,
        actionBody({ action_id: 'batch_details', value }, 'UADMIN', slack.responseUrl(name), {
          type: 'message',
          is_ephemeral: false,
        }),
        { type: 'form' },
      );
      const answer = (await waitFor(() => slack.responses.find((r) => r.path === `/respond/${name}`))).body;
      expect(answer).toMatchObject({ response_type: 'ephemeral', replace_original: false });
      expect(JSON.stringify(answer)).toContain('Contacts by status');
      expect(JSON.stringify(answer)).toContain('ana@acme.com');
    }
  });
});

describe('Slack HTTP mode: acks never wait on auth.test', () => {
  it('after the start-up check, a slow or rate-limited auth.test delays no command, click or event', async () => {
    await boot();
    expect(slack.callsTo('auth.test')).toHaveLength(1); // the start-up check
    slack.inject('auth.test', { delayMs: 3500 }, 3).inject('auth.test', { status: 429, retryAfter: 4 }, 3);

    const res = await slackPost(url, commandBody('list', 'UADMIN', slack.responseUrl('c')), { type: 'form' });
    expect(res.status).toBe(200);
    expect(JSON.stringify(res.json())).toContain('No batches yet');
    // Acked without asking auth.test: a 3.5 s auth.test would still be on its way.
    expect(slack.faultedCalls('auth.test')).toHaveLength(0);

    await slackPost(url, eventBody(shareFile('F40', csv), 'Ev40'));
    await settle();
    expect(await batches()).toHaveLength(1);
    const click = await slackPost(
      url,
      actionBody(
        {
          action_id: 'batch_details',
          value: JSON.stringify({ id: (await batches())[0]!.id, view: 'list', page: null }),
        },
        'UADMIN',
        slack.responseUrl('d'),
      ),
      { type: 'form' },
    );
    expect(click.status).toBe(200);
    await waitFor(() => slack.responses.find((r) => r.path === '/respond/d'));
    expect(slack.faultedCalls('auth.test')).toHaveLength(0);
    expect(slack.callsTo('auth.test')).toHaveLength(1);
  });

  it('when auth.test failed at start-up, a command is still acked before a slow auth.test answers', async () => {
    slack.inject('auth.test', { status: 500 });
    await boot();
    slack.inject('auth.test', { delayMs: 3500 });
    const res = await slackPost(url, commandBody('list', 'UADMIN', slack.responseUrl('c')), { type: 'form' });
    expect(res.status).toBe(200);
    expect(JSON.stringify(res.json())).toContain('No batches yet');
    // The identity is being asked for again, in the background; its answer has not come yet.
    expect(slack.callsTo('auth.test')).toHaveLength(0);
    await waitFor(() => slack.faultedCalls('auth.test').length === 2);
    // An event is acked at once too; the import waits for the bot's identity (its own uploads are skipped).
    const event = await slackPost(url, eventBody(shareFile('F41', csv), 'Ev41'));
    expect(event.status).toBe(200);
    expect(slack.callsTo('auth.test')).toHaveLength(0);
    await settle();
    expect(slack.callsTo('auth.test')).toHaveLength(1);
    expect(await batches()).toHaveLength(1);
  });
});

describe('Slack HTTP mode: /batches and buttons', () => {
  beforeEach(() => boot({ SLACK_ADMIN_USERS: 'UADMIN' }));

  it('lists batches with buttons; clicking Activate found in the blocks activates and updates in place', async () => {
    await app.services.imports.importFile({
      source: bytes('email\nold@x.com\n'),
      fileName: 'old.csv',
      origin: 'api',
      actor: 'api',
    });
    await app.services.imports.importFile({
      source: bytes('email\nnew@x.com\n'),
      fileName: 'new.csv',
      origin: 'api',
      actor: 'api',
    });
    const res = await slackPost(url, commandBody('list', 'UADMIN', slack.responseUrl('cmd')), {
      type: 'form',
    });
    expect(res.status).toBe(200);
    const ack = res.json() as { response_type: string; blocks: Block[] };
    expect(ack.response_type).toBe('ephemeral');
    expect(blockText(ack.blocks)).toContain('old.csv');
    const activate = findButton(ack.blocks, 'batch_activate')!;
    expect(activate).toBeDefined();

    const click = await slackPost(
      url,
      actionBody(
        { action_id: 'batch_activate', value: activate.value! },
        'UADMIN',
        slack.responseUrl('click'),
      ),
      {
        type: 'form',
      },
    );
    expect(click.status).toBe(200);
    const answer = await waitFor(() => slack.responses.find((r) => r.path === '/respond/click'));
    expect(answer.body.replace_original).toBe(true);
    expect((await app.services.batches.getActive())?.name).toBe('old.csv');
    expect(JSON.stringify(answer.body)).toContain('is now the active batch');
  });

  it('refuses a non-admin ephemerally and changes nothing; everyone may look', async () => {
    const r = await app.services.imports.importFile({
      source: bytes('email\na@x.com\n'),
      fileName: 'a.csv',
      origin: 'api',
      actor: 'api',
    });
    const res = await slackPost(
      url,
      commandBody(`deactivate ${r.batch.id}`, 'UOTHER', slack.responseUrl('c')),
      { type: 'form' },
    );
    expect(JSON.stringify(res.json())).toMatch(/Only coldbatch admins may deactivate batches.*<@UADMIN>/);
    expect((await app.services.batches.getActive())?.id).toBe(r.batch.id);
    const look = await slackPost(url, commandBody(`show ${r.batch.id}`, 'UOTHER', slack.responseUrl('c')), {
      type: 'form',
    });
    expect(JSON.stringify(look.json())).toContain('Contacts by status');

    const click = actionBody(
      { action_id: 'batch_deactivate', value: JSON.stringify({ id: r.batch.id, view: 'list', page: null }) },
      'UOTHER',
      slack.responseUrl('nope'),
    );
    await slackPost(url, click, { type: 'form' });
    const answer = await waitFor(() => slack.responses.find((x) => x.path === '/respond/nope'));
    expect(answer.body.response_type).toBe('ephemeral');
    expect(JSON.stringify(answer.body)).toMatch(/Only coldbatch admins/);
    expect((await app.services.batches.getActive())?.id).toBe(r.batch.id);

    await slackPost(url, eventBody(shareFile('F9', 'email\nz@x.com\n', { user: 'UOTHER' }), 'Ev11'));
    await settle();
    expect(slack.callsTo('chat.postEphemeral').at(-1)?.params).toMatchObject({ user: 'UOTHER' });
    expect(await batches()).toHaveLength(1);
  });

  it('help for unknown input, and an internal error still answers the user', async () => {
    const unknown = await slackPost(url, commandBody('frobnicate', 'UADMIN', slack.responseUrl('c')), {
      type: 'form',
    });
    expect(JSON.stringify(unknown.json())).toMatch(/I don't know `frobnicate`.*\/batches list/);
    const r = await app.services.imports.importFile({
      source: bytes('email\na@x.com\n'),
      fileName: 'a.csv',
      origin: 'api',
      actor: 'api',
    });
    app.db.$client.exec('DROP TABLE batch_events');
    const broken = await slackPost(url, commandBody(`show ${r.batch.id}`, 'UADMIN', slack.responseUrl('c')), {
      type: 'form',
    });
    expect(broken.status).toBe(200);
    expect(JSON.stringify(broken.json())).toMatch(/Something went wrong while running \/batches/);
  });

  it('export uploads the CSV to the user as a direct message', async () => {
    const r = await app.services.imports.importFile({
      source: bytes('email,name\na@x.com,=cmd|x\n'),
      fileName: 'a.csv',
      origin: 'api',
      actor: 'api',
    });
    await slackPost(url, commandBody(`export ${r.batch.id}`, 'UADMIN', slack.responseUrl('c')), {
      type: 'form',
    });
    await settle();
    expect(slack.callsTo('conversations.open')[0]?.params).toMatchObject({ users: 'UADMIN' });
    expect(slack.callsTo('files.completeUploadExternal')[0]?.params).toMatchObject({ channel_id: 'DUSER1' });
    expect(slack.uploads[0]?.bytes.toString()).toContain("a@x.com,'=cmd|x");
  });

  it('publishes the App Home on app_home_opened', async () => {
    await slackPost(
      url,
      eventBody({ type: 'app_home_opened', user: 'U42', tab: 'home', channel: 'D42' }, 'Ev12'),
    );
    const call = await waitFor(() => slack.callsTo('views.publish')[0]);
    expect(call.params.user_id).toBe('U42');
    const view = JSON.stringify(call.params.view);
    expect(view).toContain('Upload CSV');
    expect(view).toContain('Manage Batches');
    expect(view).toContain('Send');
  });
});
