import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AppOptions } from '../../src/app.js';
import { importText, memoryLog, startTestApp, tempDir, waitFor } from '../helpers.js';
import {
  actionBody,
  campaignSubmission,
  commandBody,
  eventBody,
  FakeSlack,
  signingSecret,
  slackPost,
} from '../slack/fake-slack.js';
import { startSink } from '../smtp-sink.js';

type TestApp = Awaited<ReturnType<typeof startTestApp>>;
type Sink = Awaited<ReturnType<typeof startSink>>;

let slack: FakeSlack;
let sink: Sink;
let dir: ReturnType<typeof tempDir>;
let t: TestApp | undefined;
let log: ReturnType<typeof memoryLog>;

beforeEach(async () => {
  slack = await new FakeSlack().start();
  sink = await startSink();
  dir = tempDir();
  log = memoryLog();
});
afterEach(async () => {
  await t?.stop();
  t = undefined;
  await slack.stop();
  await sink.close();
  dir.cleanup();
});

/**
 * The real app in HTTP mode against the fake Slack API, sending to the SMTP sink. Without options
 * the Web API client retries as in production (the SDK's policy).
 */
async function boot(options: AppOptions = {}) {
  t = await startTestApp(
    {
      SLACK_BOT_TOKEN: slack.botToken,
      SLACK_SIGNING_SECRET: signingSecret,
      SLACK_API_URL: slack.apiUrl,
      SLACK_ADMIN_USERS: 'UADMIN',
      SMTP_URL: sink.url,
      MAIL_FROM: 'Sales <sales@coldbatch.test>',
      MAIL_POSTAL_ADDRESS: 'Rua Exemplo 1, São Paulo',
      DATABASE_PATH: join(dir.dir, 'faults.db'),
      LOG_LEVEL: 'warn',
    },
    { slackProgressIntervalMs: 0, scheduler: false, logDestination: log.stream, ...options },
  );
  return t;
}

const app = () => t!.app;
const settle = () => app().slack?.background.idle();
const post = (body: string, type: 'json' | 'form' = 'form') => slackPost(t!.url, body, { type });
const logged = (msg: string) => log.lines().filter((l) => l.msg === msg);

/** Imports `n` contacts from the API (not Slack) and saves a campaign from the Slack modal, sending now. */
async function campaignFromSlack(n = 3) {
  const rows = Array.from({ length: n }, (_, i) => `p${i}@x.com`).join('\n');
  await importText(app().services, `email\n${rows}\n`);
  const res = await post(campaignNow());
  expect(res.status).toBe(200);
  await settle();
  const [c] = (await app().services.campaigns.list()).campaigns;
  return c!.id;
}

const updates = () => slack.callsTo('chat.update').map((u) => JSON.stringify(u.params.blocks));

describe('Slack Web API faults', () => {
  it('5. chat.postMessage and chat.update answered 429 (Retry-After: 1): waited for, retried, posted once', async () => {
    await boot();
    slack.inject('chat.postMessage', { status: 429, retryAfter: 1 });
    const started = Date.now();
    const id = await campaignFromSlack();
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_000); // Retry-After was honoured
    expect(slack.faultedCalls('chat.postMessage')).toHaveLength(1);
    const posted = slack.callsTo('chat.postMessage');
    expect(posted).toHaveLength(1);
    expect(JSON.parse((await app().services.campaigns.progressRef(id))!)).toMatchObject({ channel: 'C1' });
    const ts = JSON.parse((await app().services.campaigns.progressRef(id))!).ts;

    slack.inject('chat.update', { status: 429, retryAfter: 1 });
    await app().services.sending.runDue();
    await waitFor(() => updates().some((u) => u.includes('*3/3* sent')), 15_000);
    expect(slack.faultedCalls('chat.update').length).toBeGreaterThanOrEqual(1);
    expect(slack.callsTo('chat.update').every((u) => u.params.ts === ts)).toBe(true);
    expect(slack.callsTo('chat.postMessage')).toHaveLength(1);
    expect(sink.received).toHaveLength(3);
  });

  it('6. a 500 then success: retried, posted once, and the progress message still follows the send', async () => {
    await boot();
    slack.inject('chat.postMessage', { status: 500 });
    const id = await campaignFromSlack();
    expect(slack.faultedCalls('chat.postMessage')).toHaveLength(1);
    expect(slack.callsTo('chat.postMessage')).toHaveLength(1);
    const { ts } = JSON.parse((await app().services.campaigns.progressRef(id))!);

    slack.inject('chat.update', { status: 500 });
    await app().services.sending.runDue();
    await waitFor(() => updates().some((u) => u.includes('*3/3* sent')), 15_000);
    expect(slack.faultedCalls('chat.update').length).toBeGreaterThanOrEqual(1);
    expect(slack.callsTo('chat.update').every((u) => u.params.ts === ts)).toBe(true);
    expect(slack.callsTo('chat.postMessage')).toHaveLength(1);
  });

  it('7. a Slack that hangs: the CSV dropped in Slack is imported anyway, and the reply comes when Slack answers', async () => {
    await boot({ slackRetries: 0, slackTimeoutMs: 400 });
    slack.files.set('F1', {
      id: 'F1',
      name: 'leads.csv',
      filetype: 'csv',
      user: 'UADMIN',
      content: 'email,name\nana@acme.com,Ana\nbruno@acme.com,Bruno\n',
      channel: 'C1',
      ts: '1700000000.000001',
    });
    slack.inject('chat.postMessage', 'hang'); // the "Importing…" reply never gets an answer
    const started = Date.now();
    const res = await post(
      eventBody({ type: 'file_shared', file_id: 'F1', user_id: 'UADMIN', channel_id: 'C1' }, 'EvHang'),
      'json',
    );
    expect(res.status).toBe(200);
    await settle();
    expect(Date.now() - started).toBeLessThan(5_000); // given up after the timeout, not stuck

    const [batch] = (await app().services.batches.list()).batches;
    expect(batch).toMatchObject({ status: 'active', contactCount: 2, name: 'leads.csv' });
    expect(await app().services.inbox.getFile('slack:F1')).toMatchObject({
      state: 'imported',
      batchId: batch!.id,
    });
    expect(slack.faultedCalls('chat.postMessage')).toHaveLength(1);
    // The result is posted in the file's thread as a reply of its own.
    const [result] = slack.callsTo('chat.postMessage');
    expect(result!.params).toMatchObject({ channel: 'C1', thread_ts: '1700000000.000001' });
    expect(JSON.stringify(result!.params.blocks)).toContain(batch!.id);
    expect(logged('could not post the import reply; importing anyway')).toHaveLength(1);
    expect((await fetch(`${t!.url}/healthz`)).status).toBe(200);
  });

  it('7. a Slack that never answers chat.update: the campaign still reaches everyone, the app stays up', async () => {
    await boot({ slackRetries: 0, slackTimeoutMs: 400 });
    const id = await campaignFromSlack(20);
    slack.inject('chat.update', 'hang', 1_000);
    await app().services.sending.runDue();
    expect((await app().services.campaigns.get(id)).status).toBe('completed');
    expect(new Set(sink.received.map((m) => m.to)).size).toBe(20);
    expect(sink.received).toHaveLength(20);
    expect((await fetch(`${t!.url}/healthz`)).status).toBe(200);

    // Updates due while one hangs fold into one: once the send is over, at most the update under
    // way and one more are tried (a queue of one update per event would outlast the campaign).
    const tried = slack.faultedCalls('chat.update').length;
    await settle(); // every hung update is given up within the timeout
    expect(slack.faultedCalls('chat.update').length - tried).toBeLessThanOrEqual(2);
    expect(slack.faultedCalls('chat.update').length).toBeGreaterThan(0);
    expect(logged('progress update failed')).toHaveLength(slack.faultedCalls('chat.update').length);
    expect(slack.callsTo('chat.update')).toHaveLength(0);
    expect(logged('progress update failed').length).toBeGreaterThan(0);
  });
});

describe('8. no user action is lost when answering fails', () => {
  async function twoBatches() {
    const old = await importText(app().services, 'email\nold@x.com\n', { fileName: 'old.csv' });
    await importText(app().services, 'email\nnew@x.com\n', { fileName: 'new.csv' });
    return old.batch.id;
  }

  it('/batches activate <id> with Slack failing: the batch is active and the answer is in the command reply', async () => {
    await boot({ slackRetries: 0 });
    const oldId = await twoBatches();
    slack.inject('response_url', { status: 500 }, 5);
    slack.inject('chat.postMessage', { status: 500 }, 5);
    const res = await post(commandBody(`activate ${oldId}`, 'UADMIN', slack.responseUrl('cmd')));
    expect(res.status).toBe(200);
    expect(JSON.stringify(res.json())).toContain('Activated');
    expect((await app().services.batches.getActive())?.id).toBe(oldId);
  });

  it('the Activate button with response_url failing 500 twice: active at once, answered once Slack recovers', async () => {
    await boot({ slackRetries: 0 });
    const oldId = await twoBatches();
    slack.inject('response_url', { status: 500 }, 2);
    const click = actionBody(
      { action_id: 'batch_activate', value: JSON.stringify({ id: oldId, view: 'list', page: null }) },
      'UADMIN',
      slack.responseUrl('click'),
    );
    expect((await post(click)).status).toBe(200);
    await waitFor(async () => (await app().services.batches.getActive())?.id === oldId);
    await settle();
    expect(slack.faultedCalls('response_url')).toHaveLength(2);
    const answers = slack.responses.filter((r) => r.path === '/respond/click');
    expect(answers).toHaveLength(1);
    expect(JSON.stringify(answers[0]!.body)).toContain('is now the active batch');
    expect((await app().services.batches.getActive())?.id).toBe(oldId);
  });

  it('/campaigns pause <id> with response_url failing 500 twice: paused at once, answered once', async () => {
    await boot({ slackRetries: 0 });
    await importText(app().services, 'email\na@x.com\n');
    const c = await app().services.campaigns.create(
      { name: 'Later', subject: 's', body: 'b', sendAt: '2099-01-01T00:00:00Z' },
      'UADMIN',
    );
    slack.inject('response_url', { status: 500 }, 2);
    const body = commandBody(`pause ${c.id}`, 'UADMIN', slack.responseUrl('pause')).replace(
      'batches',
      'campaigns',
    );
    expect((await post(body)).status).toBe(200);
    await waitFor(async () => (await app().services.campaigns.get(c.id)).status === 'paused');
    await settle();
    const answers = slack.responses.filter((r) => r.path === '/respond/pause');
    expect(answers).toHaveLength(1);
    expect(JSON.stringify(answers[0]!.body)).toContain('Done: pause.');
  });

  it('Slack never recovers: the change stands, the failure is logged, and no one is told it failed', async () => {
    await boot({ slackRetries: 0 });
    const oldId = await twoBatches();
    slack.inject('response_url', { status: 500 }, 10);
    const click = actionBody(
      { action_id: 'batch_activate', value: JSON.stringify({ id: oldId, view: 'list', page: null }) },
      'UADMIN',
      slack.responseUrl('lost'),
    );
    expect((await post(click)).status).toBe(200);
    await settle();
    expect((await app().services.batches.getActive())?.id).toBe(oldId);
    // Tried four times (the answer, then three retries), each refused; never a "failed" answer.
    expect(slack.faultedCalls('response_url')).toHaveLength(4);
    expect(
      slack.faultedCalls('response_url').every((c) => JSON.stringify(c.params).includes('is now the active')),
    ).toBe(true);
    await waitFor(() => logged('unhandled Slack error').length > 0);
    expect(logged('unhandled Slack error')).toHaveLength(1);
  }, 20_000);
});

/** The "New campaign" modal submitted in channel C1 by an admin, sending now. */
const campaignNow = () =>
  campaignSubmission({
    name: { type: 'plain_text_input', value: 'Faults' },
    subject: { type: 'plain_text_input', value: 'Hi {{first_name|there}}' },
    body: { type: 'plain_text_input', value: 'Hello {{name|friend}}' },
    when: { type: 'radio_buttons', selected_option: { value: 'now' } },
    timezone: { type: 'plain_text_input', value: 'UTC' },
  });
