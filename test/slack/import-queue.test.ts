/**
 * A CSV shared in Slack while every import slot is busy says so in its thread and waits: its
 * download starts only once a slot is free, so no download timeout can run out (and end the
 * process) while it queues. A download that stalls is refused like a stalled upload, and its slot
 * is freed.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { concurrentImports } from '../../src/core/imports/import-service.js';
import { waitFor } from '../helpers.js';
import { startSlackApp } from '../security/slack-kit.js';
import { type Call, eventBody, slackPost } from './fake-slack.js';

type Kit = Awaited<ReturnType<typeof startSlackApp>>;
let kit: Kit | undefined;
afterEach(async () => {
  await kit?.stop();
  kit = undefined;
});

const csv = (from: number, count: number) =>
  `email,name\n${Array.from({ length: count }, (_, i) => `p${from + i}@example.com,P ${from + i}`).join('\n')}\n`;

/** Shares a CSV in C1 as an admin and sends Slack's file_shared event for it. */
async function share(k: Kit, id: string, content: string, extra: { stall?: boolean } = {}) {
  k.slack.files.set(id, {
    id,
    name: `${id}.csv`,
    filetype: 'csv',
    user: 'UADMIN',
    content,
    channel: 'C1',
    ts: `1700000000.00000${id.length}`,
    ...extra,
  });
  const event = { type: 'file_shared', file_id: id, user_id: 'UADMIN', channel_id: 'C1', file: { id } };
  expect((await slackPost(k.url, eventBody(event, `Ev${id}`))).status).toBe(200);
}

/**
 * An import through the core that holds a slot until released: it sends 100 KB (so its batch
 * starts), then waits.
 */
function holdSlot(k: Kit, from: number) {
  let release: () => void = () => {};
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  async function* source() {
    yield Buffer.from(csv(from, 4000));
    await released;
    yield Buffer.from(csv(from + 5000, 5).replace('email,name\n', ''));
  }
  const done = k.app.services.imports.importFile({
    source: source(),
    fileName: `held-${from}.csv`,
    origin: 'api',
    actor: 'test',
    options: { activate: false },
  });
  return { release, done };
}

const importing = (k: Kit) =>
  (
    k.app.db.$client.prepare(`SELECT count(*) AS n FROM batches WHERE status = 'importing'`).get() as {
      n: number;
    }
  ).n;

const textOf = (c: Call) => `${String(c.params.text)} ${JSON.stringify(c.params.blocks ?? [])}`;

describe('a Slack import while every import slot is busy', () => {
  it('says it is queued in its thread, downloads only once a slot is free, then imports', async () => {
    kit = await startSlackApp({ IMPORT_IDLE_TIMEOUT: '300ms', SLACK_ADMIN_USERS: 'UADMIN' });
    const k = kit;
    const holders = Array.from({ length: concurrentImports }, (_, i) => holdSlot(k, i * 10_000));
    await waitFor(() => importing(k) === concurrentImports);

    await share(k, 'FQ', csv(90_000, 3));
    const queued = await waitFor(() =>
      k.slack.callsTo('chat.update').find((c) => textOf(c).includes('Queued')),
    );
    expect(textOf(queued)).toMatch(/2 imports are running; \*FQ\.csv\* starts when one finishes/);
    const reply = k.slack.callsTo('chat.postMessage')[0]!;
    expect(reply.params).toMatchObject({ channel: 'C1', thread_ts: '1700000000.000002' });
    expect(queued.params.ts).toBe(reply.result?.ts);
    // Nothing is fetched from Slack while it waits, so nothing there can time out.
    expect(k.slack.downloads).toEqual([]);
    expect(await k.app.services.inbox.getFile('slack:FQ')).toMatchObject({ state: 'claimed' });

    for (const h of holders) h.release();
    const held = await Promise.all(holders.map((h) => h.done));
    expect(held.map((r) => r.report.imported)).toEqual([4005, 4005]);
    await k.settle();

    expect(k.slack.downloads).toEqual(['FQ']);
    const updates = k.slack.callsTo('chat.update').filter((c) => c.params.ts === reply.result?.ts);
    const steps = updates.map((c) =>
      /Queued/.test(textOf(c)) ? 'queued' : /Imported/.test(textOf(c)) ? 'imported' : 'importing',
    );
    expect(steps[0]).toBe('queued');
    expect(steps.at(-1)).toBe('imported');
    expect(steps).toContain('importing');
    const batchId = (await k.app.services.inbox.getFile('slack:FQ'))?.batchId;
    expect(batchId).toBeTruthy();
    expect((await k.app.services.batches.list()).batches.find((b) => b.id === batchId)).toMatchObject({
      contactCount: 3,
      status: 'active',
    });
  });

  it('a download that stalls is refused in the thread, leaves no batch, and frees its slot', async () => {
    kit = await startSlackApp({ IMPORT_IDLE_TIMEOUT: '300ms', SLACK_ADMIN_USERS: 'UADMIN' });
    const k = kit;
    await share(k, 'FSTALL', csv(0, 3), { stall: true });
    await k.settle();
    expect(await k.app.services.inbox.getFile('slack:FSTALL')).toMatchObject({
      state: 'failed',
      errorCode: 'upload_timeout',
    });
    const final = k.slack.callsTo('chat.update').at(-1)!;
    expect(textOf(final)).toMatch(/Could not import FSTALL\.csv.*stopped arriving: nothing came for 1 s/);
    expect(importing(k)).toBe(0);
    expect((await k.app.services.batches.list()).batches).toHaveLength(0);

    // Both slots are free again: two more imports run at once.
    await share(k, 'FA', csv(100, 2));
    await share(k, 'FB', csv(200, 2));
    await k.settle();
    expect(await k.app.services.inbox.getFile('slack:FA')).toMatchObject({ state: 'imported' });
    expect(await k.app.services.inbox.getFile('slack:FB')).toMatchObject({ state: 'imported' });
  });
});
