/**
 * Two app instances on one Postgres, both in Slack HTTP mode behind one (stand-in) Slack Web API:
 * whichever instance Slack reaches, a shared CSV is imported once. The same `file_shared` event
 * delivered to both at once, to each again afterwards, a re-share (the same file in a new event)
 * delivered to both at once, and a retry of the event sent to the other instance: one batch, its
 * contacts once, one reply in the file's thread.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { rows } from '../../src/db/pg/client.js';
import { startTestApp } from '../helpers.js';
import { freshPg } from '../pg/pg.js';
import { type Call, eventBody, FakeSlack, signingSecret, slackPost } from '../slack/fake-slack.js';

type Instance = Awaited<ReturnType<typeof startTestApp>>;
type Pg = Awaited<ReturnType<typeof freshPg>>;

let pg: Pg;
let slack: FakeSlack;
let a: Instance;
let b: Instance;

const csv =
  'email,name,company\nana@acme.com,Ana,Acme\nbruno@acme.com,Bruno,Acme\ncarla@beta.io,Carla,Beta\n';

beforeEach(async () => {
  pg = await freshPg({ max: 2 });
  slack = await new FakeSlack().start();
  const env = {
    DATABASE_URL: pg.url,
    SLACK_BOT_TOKEN: slack.botToken,
    SLACK_SIGNING_SECRET: signingSecret,
    SLACK_API_URL: slack.apiUrl,
    SLACK_ADMIN_USERS: 'UADMIN',
  };
  const options = { slackRetries: 0, slackProgressIntervalMs: 0, scheduler: false };
  [a, b] = await Promise.all([startTestApp(env, options), startTestApp(env, options)]);
});

afterEach(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
  await slack.stop();
  await pg.drop();
});

/** Until both instances have done everything they started after their acks. */
async function settle() {
  await Promise.all([a.app.slack?.background.idle(), b.app.slack?.background.idle()]);
}

/** A CSV shared by an admin in C1 (files.info and its download served by the stand-in), and its event. */
function shareFile(id: string, content: string) {
  slack.files.set(id, {
    id,
    name: `${id}.csv`,
    filetype: 'csv',
    user: 'UADMIN',
    content,
    channel: 'C1',
    ts: '1700000000.000001',
  });
  return { type: 'file_shared', file_id: id, user_id: 'UADMIN', channel_id: 'C1', file: { id } };
}

const textOf = (c: Call) => `${String(c.params.text)} ${JSON.stringify(c.params.blocks ?? [])}`;

/** What the database holds of imports, read over a connection of the test's own. */
async function imported() {
  const batches = await rows<{
    id: string;
    name: string;
    status: string;
    source: string;
    contact_count: number;
  }>(pg.db.$client, 'SELECT id, name, status, source, contact_count FROM batches ORDER BY id');
  const contacts = await rows<{ email: string; batch_id: string }>(
    pg.db.$client,
    'SELECT email, batch_id FROM contacts ORDER BY email',
  );
  const files = await rows<{ external_id: string; state: string; batch_id: string | null }>(
    pg.db.$client,
    'SELECT external_id, state, batch_id FROM file_imports ORDER BY external_id',
  );
  return { batches, contacts, files };
}

/** Exactly one batch with the CSV's three contacts, the file imported into it, one threaded reply. */
async function expectImportedOnce(fileId: string) {
  const { batches, contacts, files } = await imported();
  expect(batches).toHaveLength(1);
  const batch = batches[0]!;
  expect(batch).toMatchObject({ name: `${fileId}.csv`, status: 'active', source: 'slack', contact_count: 3 });
  expect(contacts).toEqual([
    { email: 'ana@acme.com', batch_id: batch.id },
    { email: 'bruno@acme.com', batch_id: batch.id },
    { email: 'carla@beta.io', batch_id: batch.id },
  ]);
  expect(files).toEqual([{ external_id: `slack:${fileId}`, state: 'imported', batch_id: batch.id }]);

  // The stand-in Slack got one reply in the file's thread, and one result (edited into it).
  const replies = slack.callsTo('chat.postMessage');
  expect(replies).toHaveLength(1);
  expect(replies[0]!.params).toMatchObject({ channel: 'C1', thread_ts: '1700000000.000001' });
  const results = slack.callsTo('chat.update').filter((c) => textOf(c).includes(batch.id));
  expect(results).toHaveLength(1);
  expect(results[0]!.params.ts).toBe(replies[0]!.result?.ts);
  expect(textOf(results[0]!)).toContain('3 imported');
  expect(slack.callsTo('chat.postEphemeral')).toHaveLength(0);
  // The file's bytes were fetched from Slack once.
  expect(slack.downloads).toEqual([fileId]);
  return batch;
}

describe('one Slack event reaching two instances on one Postgres', () => {
  it('the same file_shared event delivered to both at once, then to each again, imports once', async () => {
    const body = eventBody(shareFile('F1', csv), 'EvF1');
    const first = await Promise.all([slackPost(a.url, body), slackPost(b.url, body)]);
    expect(first.map((r) => r.status)).toEqual([200, 200]);
    await settle();
    await expectImportedOnce('F1');

    // Delivered again, to each instance in turn (each has seen it now, or heard of it from the database).
    expect((await slackPost(a.url, body)).status).toBe(200);
    await settle();
    expect((await slackPost(b.url, body)).status).toBe(200);
    await settle();
    await expectImportedOnce('F1');
    // Only one delivery got past the event's duplicate check: files.info was asked once.
    expect(slack.callsTo('files.info')).toHaveLength(1);
    expect(await rows(pg.db.$client, 'SELECT event_id FROM processed_events ORDER BY event_id')).toEqual([
      { event_id: 'EvF1' },
    ]);
  });

  it('the same file in two events (shared again) reaching both instances at once imports once: the file is claimed once', async () => {
    const event = shareFile('F2', csv);
    const results = await Promise.all([
      slackPost(a.url, eventBody(event, 'EvF2a')),
      slackPost(b.url, eventBody(event, 'EvF2b')),
    ]);
    expect(results.map((r) => r.status)).toEqual([200, 200]);
    await settle();
    // Both events are new, so both instances went as far as the file: the claim in the database decides.
    expect(slack.callsTo('files.info')).toHaveLength(2);
    await expectImportedOnce('F2');
  });

  it("Slack's retry of an event, sent to the other instance, imports nothing again", async () => {
    const body = eventBody(shareFile('F3', csv), 'EvF3');
    const retry = (n: number) =>
      slackPost(b.url, body, {
        headers: { 'x-slack-retry-num': String(n), 'x-slack-retry-reason': 'http_timeout' },
      });
    // The retry arrives at the other instance while the first delivery is still being handled.
    const [firstDelivery, firstRetry] = await Promise.all([slackPost(a.url, body), retry(1)]);
    expect([firstDelivery.status, firstRetry.status]).toEqual([200, 200]);
    await settle();
    await expectImportedOnce('F3');

    // And once it is done.
    expect((await retry(2)).status).toBe(200);
    await settle();
    await expectImportedOnce('F3');
    expect(slack.callsTo('files.info')).toHaveLength(1);
  });
});
