/**
 * People from Slack and REST: `/contacts why|export|forget`, GET /contacts/why, GET
 * /contacts/export, DELETE /contacts/person, and retention proposals with a Delete button.
 */
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { emailHash } from '../../src/core/contacts/email-hash.js';
import { proposeRetention } from '../../src/slack/flows/retention.js';
import { rowsMentioning } from '../db-scan.js';
import { importText, memoryLog, startTestApp, tempDir, testClock, waitFor } from '../helpers.js';
import { actionBody, commandBody, FakeSlack, signingSecret, slackPost } from './fake-slack.js';

type Block = {
  type: string;
  text?: { text: string };
  elements?: { action_id?: string; value?: string; style?: string }[];
};

let slack: FakeSlack;
let dirs: ReturnType<typeof tempDir>;
let stop: (() => Promise<void>) | undefined;
const clock = testClock(Date.UTC(2026, 0, 15, 12));
const day = 86_400_000;

beforeEach(async () => {
  slack = await new FakeSlack().start();
  dirs = tempDir();
  clock.set(Date.UTC(2026, 0, 15, 12));
});
afterEach(async () => {
  await stop?.();
  stop = undefined;
  await slack.stop();
  dirs.cleanup();
});

async function boot(env: Record<string, string> = {}) {
  const log = memoryLog();
  const t = await startTestApp(
    {
      SLACK_BOT_TOKEN: slack.botToken,
      SLACK_SIGNING_SECRET: signingSecret,
      SLACK_API_URL: slack.apiUrl,
      SLACK_ADMIN_USERS: 'UADMIN',
      DATABASE_PATH: join(dirs.dir, 'people.db'),
      MAIL_OUTBOX_DIR: join(dirs.dir, 'outbox'),
      LOG_LEVEL: 'info',
      MAIL_FROM: 'Sales <sales@coldbatch.test>',
      ...env,
    },
    { slackRetries: 0, slackProgressIntervalMs: 0, scheduler: false, clock, logDestination: log.stream },
  );
  stop = t.stop;
  const old = (await importText(t.app.services, 'email,name\nold@x.com,Old\n', { fileName: 'old.csv' }))
    .batch;
  clock.advance(60_000);
  const batch = (
    await importText(t.app.services, 'email,name\nana@x.com,Ana Lima\nbia@x.com,Bia\n', {
      fileName: 'leads.csv',
    })
  ).batch;
  return { ...t, log, old, batch };
}

let seq = 0;
/** Runs `/contacts <text>` and returns the blocks it answered with (through response_url). */
async function contacts(url: string, text: string, user = 'UADMIN') {
  const name = `c${++seq}`;
  const body = commandBody(text, user, slack.responseUrl(name), '/contacts');
  const res = await slackPost(url, body, { type: 'form' });
  expect(res.status).toBe(200);
  const answer = await waitFor(() => slack.responses.find((r) => r.path === `/respond/${name}`));
  return answer.body as { blocks: Block[] };
}
async function click(url: string, actionId: string, value: string, user = 'UADMIN') {
  const name = `a${++seq}`;
  await slackPost(url, actionBody({ action_id: actionId, value }, user, slack.responseUrl(name)), {
    type: 'form',
  });
  return (await waitFor(() => slack.responses.find((r) => r.path === `/respond/${name}`))).body as {
    blocks: Block[];
  };
}
const buttons = (blocks: Block[]) => blocks.flatMap((b) => b.elements ?? []);

describe('why over REST and Slack', () => {
  it('GET /contacts/why: 200 with the explanation, 404 when nothing is known, 400 for a bad address', async () => {
    const { url, app } = await boot();
    const campaign = await app.services.campaigns.create(
      { name: 'Later', subject: 'Hi', body: 'Hello' },
      'U1',
    );
    const res = await fetch(`${url}/contacts/why?email=${encodeURIComponent('ANA@x.com')}`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { email: string; contact: unknown; campaigns: unknown[] };
    expect(body).toMatchObject({
      email: 'ana@x.com',
      contact: { status: 'active' },
      batch: { name: 'leads.csv', activeNow: true },
      suppression: null,
      campaigns: [{ campaignId: campaign.id, mailed: false, reason: 'never_ran' }],
    });
    const missing = await fetch(`${url}/contacts/why?email=nobody@x.com`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: { code: 'not_found' } });
    const bad = await fetch(`${url}/contacts/why?email=not-an-address`);
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: { code: 'invalid_input' } });
    expect((await fetch(`${url}/contacts/why`)).status).toBe(400);
  });

  it('/contacts why <email> answers in readable blocks (Slack mailto links too)', async () => {
    const { url, app, batch } = await boot();
    await app.services.campaigns.create({ name: 'Q1 <!channel>', subject: 'Hi', body: 'Hello' }, 'U1');
    const answer = await contacts(url, 'why <mailto:ana@x.com|ana@x.com>');
    const shown = JSON.stringify(answer.blocks);
    expect(shown).toContain('ana@x.com');
    expect(shown).toContain(batch.id);
    expect(shown).toContain('not mailed: the campaign has not run yet');
    expect(shown).toContain('Q1 &lt;!channel&gt;');
    expect(shown).not.toContain('<!channel>');
    expect(JSON.stringify((await contacts(url, 'why nobody@x.com')).blocks)).toContain('Nothing is known');
  });
});

describe('export and forget', () => {
  it('GET /contacts/export returns the JSON; DELETE /contacts/person erases and returns counts', async () => {
    const { url, app, batch } = await boot();
    const res = await fetch(`${url}/contacts/export?email=ana@x.com`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-disposition')).toMatch(
      /attachment; filename="person-[0-9a-f]{12}\.json"/,
    );
    expect(await res.json()).toMatchObject({
      email: 'ana@x.com',
      contact: { name: 'Ana Lima', batchId: batch.id },
      batches: [{ id: batch.id, name: 'leads.csv' }],
      history: [],
      sends: [],
      suppression: null,
    });
    const del = await fetch(`${url}/contacts/person?email=ana@x.com`, { method: 'DELETE' });
    expect(del.status).toBe(200);
    expect(await del.json()).toEqual({
      erased: expect.objectContaining({ contacts: 1, ledgerRows: 0, suppressionAdded: true }),
    });
    expect(rowsMentioning(app.db, 'ana@x.com')).toEqual([]);
    expect(await app.services.contacts.isSuppressed('ana@x.com')).toBe(true);
    expect((await fetch(`${url}/contacts/person?email=zed@x.com`, { method: 'DELETE' })).status).toBe(404);
  });

  it('/contacts export sends the JSON to the admin by DM; a non-admin is refused', async () => {
    const { url, log } = await boot();
    const refused = await contacts(url, 'export ana@x.com', 'USOMEONE');
    expect(JSON.stringify(refused.blocks)).toContain('Only coldbatch admins may');
    expect(slack.uploads).toHaveLength(0);

    const answer = await contacts(url, 'export ana@x.com');
    expect(JSON.stringify(answer.blocks)).toContain('direct message');
    expect(slack.callsTo('conversations.open')[0]!.params.users).toBe('UADMIN');
    // The upload is the multipart body of files.uploadV2's upload step: the JSON file is inside.
    const raw = slack.uploads[0]!.bytes.toString('utf8');
    const json = JSON.parse(raw.slice(raw.indexOf('{'), raw.lastIndexOf('}') + 1)) as Record<string, unknown>;
    expect(json).toMatchObject({ email: 'ana@x.com', contact: { name: 'Ana Lima' } });
    const complete = slack.callsTo('files.completeUploadExternal')[0]!;
    expect(complete.params.channel_id).toBe('DUSER1');
    const lines = log.lines();
    expect(lines.some((l) => l.msg === 'person exported to user')).toBe(true);
    expect(JSON.stringify(lines)).not.toContain('ana@x.com');
  });

  it('/contacts forget asks first; only an admin click erases, and the log never holds the address', async () => {
    const { url, app, log, batch } = await boot();
    const refused = await contacts(url, 'forget ana@x.com', 'USOMEONE');
    expect(JSON.stringify(refused.blocks)).toContain('Only coldbatch admins may');

    const ask = await contacts(url, 'forget ana@x.com');
    const forget = buttons(ask.blocks).find((b) => b.action_id === 'contact_forget')!;
    expect(forget).toMatchObject({ style: 'danger', value: 'ana@x.com' });
    // Asking erased nothing.
    expect((await app.services.batches.get(batch.id)).contactCount).toBe(2);

    const notAdmin = await click(url, 'contact_forget', forget.value!, 'USOMEONE');
    expect(JSON.stringify(notAdmin.blocks)).toContain('Only coldbatch admins may');
    expect((await app.services.batches.get(batch.id)).contactCount).toBe(2);

    const done = await click(url, 'contact_forget', forget.value!);
    expect(JSON.stringify(done.blocks)).toContain('Forgotten');
    expect((await app.services.batches.get(batch.id)).contactCount).toBe(1);
    expect(rowsMentioning(app.db, 'ana@x.com')).toEqual([]);
    expect(await app.services.people.why('ana@x.com')).toMatchObject({
      contact: null,
      suppression: { reason: 'deleted' },
    });

    // A second import of the address is counted suppressed, nobody is mailed it.
    const again = await importText(app.services, 'email\nana@x.com\ncaio@x.com\n', { fileName: 'again.csv' });
    expect(again.report).toMatchObject({ suppressed: 1, imported: 1 });

    const lines = log.lines();
    const hash = emailHash('ana@x.com').toString('hex').slice(0, 12);
    expect(lines.find((l) => l.msg === 'person forgotten')).toMatchObject({
      hash,
      actor: 'UADMIN',
      contacts: 1,
    });
    expect(JSON.stringify(lines)).not.toContain('ana@x.com');
  });
});

describe('retention', () => {
  it('proposes each old inactive batch once with a Delete button; only the click deletes', async () => {
    const { url, app, old, batch } = await boot({ RETENTION_DAYS: '30', SLACK_NOTIFY_CHANNEL: 'CNOTIFY' });
    expect(app.config.retentionDays).toBe(30);
    const ctx = {
      services: app.services,
      client: app.slack!.client,
      slack: app.config.slack!,
      log: app.log,
    };
    expect(await proposeRetention(ctx, 30)).toBe(0);
    // A name with Slack markup: the fallback text (notifications) escapes it like the blocks do.
    app.db.$client.prepare('UPDATE batches SET name = ? WHERE id = ?').run('<!channel> old', old.id);
    clock.advance(31 * day);
    expect(await proposeRetention(ctx, 30)).toBe(1);
    expect(await proposeRetention(ctx, 30)).toBe(0);
    const posts = slack.callsTo('chat.postMessage');
    expect(posts).toHaveLength(1);
    expect(posts[0]!.params.channel).toBe('CNOTIFY');
    expect(posts[0]!.params.text).toBe('Delete batch &lt;!channel&gt; old?');
    const blocks = (
      typeof posts[0]!.params.blocks === 'string'
        ? JSON.parse(posts[0]!.params.blocks)
        : posts[0]!.params.blocks
    ) as Block[];
    const del = buttons(blocks).find((b) => b.action_id === 'retention_delete_batch')!;
    expect(del).toMatchObject({ style: 'danger', value: old.id });
    // Proposed, not deleted.
    expect((await app.services.batches.get(old.id)).contactCount).toBe(1);

    clock.advance(31 * day);
    expect(await proposeRetention(ctx, 30)).toBe(1); // once per period

    const refused = await click(url, 'retention_delete_batch', old.id, 'USOMEONE');
    expect(JSON.stringify(refused.blocks)).toContain('Only coldbatch admins may');
    expect((await app.services.batches.get(old.id)).id).toBe(old.id);

    const done = await click(url, 'retention_delete_batch', old.id);
    expect(JSON.stringify(done.blocks)).toContain('deleted batch');
    await expect(app.services.batches.get(old.id)).rejects.toThrow(/No batch/);
    expect((await app.services.batches.get(batch.id)).contactCount).toBe(2);
    expect(app.log).toBeDefined();
  });
});
