/**
 * The periodic tasks of several instances on one Postgres (src/app-ticks.ts): each app's own
 * ticks, as it hands them to its scheduler, are run by the test at the same moment on every
 * instance. The daily retention prompt is posted once per period, a scheduled activation due
 * now is applied and announced once, and the SQLite backup is no tick on Postgres.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { rows } from '../../src/db/pg/client.js';
import type { Tick } from '../../src/scheduler/index.js';
import { bytes, startTestApp, waitFor } from '../helpers.js';
import { freshPg } from '../pg/pg.js';
import { FakeSlack, signingSecret } from '../slack/fake-slack.js';

/** The ticks each app handed to its scheduler, in start order; none of them is scheduled. */
const scheduled = vi.hoisted(() => [] as Tick[][]);
vi.mock(import('../../src/scheduler/index.js'), async (importOriginal) => ({
  ...(await importOriginal()),
  startScheduler: (ticks: Tick[]) => {
    scheduled.push(ticks);
    return { stop: async () => {} };
  },
}));

type Instance = Awaited<ReturnType<typeof startTestApp>> & { ticks: Tick[] };
type Pg = Awaited<ReturnType<typeof freshPg>>;

const dayMs = 86_400_000;
let pg: Pg;
let slack: FakeSlack;
let hooks: { url: string; bodies: string[]; close: () => Promise<void> };
const stops: (() => Promise<void>)[] = [];

/** Slack (HTTP mode, notices to CNOTIFY), RETENTION_DAYS and a nightly SQLite backup set, a webhook receiver. */
function envFor(databaseUrl?: string): Record<string, string> {
  return {
    ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
    SLACK_BOT_TOKEN: slack.botToken,
    SLACK_SIGNING_SECRET: signingSecret,
    SLACK_API_URL: slack.apiUrl,
    SLACK_ADMIN_USERS: 'UADMIN',
    SLACK_NOTIFY_CHANNEL: 'CNOTIFY',
    RETENTION_DAYS: '30',
    BACKUP_CRON: '0 3 * * *',
    WEBHOOK_URLS: hooks.url,
    WEBHOOK_SECRET: 'webhook-secret-0123456789abcdef',
  };
}

/** An app started with `env`, with the ticks it gave its scheduler. */
async function start(env: Record<string, string>): Promise<Instance> {
  const before = scheduled.length;
  const t = await startTestApp(env, { slackRetries: 0, slackProgressIntervalMs: 0 });
  stops.push(t.stop);
  expect(scheduled).toHaveLength(before + 1);
  return { ...t, ticks: scheduled[before]! };
}

/** Three instances on the test's Postgres, started one after the other (their ticks in order). */
async function cluster(): Promise<Instance[]> {
  const out: Instance[] = [];
  for (let i = 0; i < 3; i++) out.push(await start(envFor(pg.url)));
  return out;
}

function tick(instance: Instance, name: string): Tick {
  const t = instance.ticks.find((x) => x.name === name);
  if (!t) throw new Error(`no tick ${name}: ${instance.ticks.map((x) => x.name).join(', ')}`);
  return t;
}

/** Runs the tick `name` of every instance at the same moment. */
async function runEverywhere(instances: Instance[], name: string): Promise<void> {
  await Promise.all(instances.map((i) => tick(i, name).run()));
}

async function settle(instances: Instance[]): Promise<void> {
  await Promise.all(instances.map((i) => i.app.slack?.background.idle()));
}

/**
 * Waits until the current minute has at least 10 s left: the retention tick's period is the
 * minute it runs in, and the instances' runs must fall in one.
 */
async function withinOneMinute(): Promise<void> {
  const left = 60_000 - (Date.now() % 60_000);
  if (left < 10_000) await new Promise((r) => setTimeout(r, left + 50));
}

async function receiver(): Promise<typeof hooks> {
  const bodies: string[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      bodies.push(Buffer.concat(chunks).toString('utf8'));
      res.end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`,
    bodies,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

beforeEach(async () => {
  pg = await freshPg({ max: 2 });
  slack = await new FakeSlack().start();
  hooks = await receiver();
});

afterEach(async () => {
  await Promise.all(stops.splice(0).map((s) => s()));
  await slack.stop();
  await hooks.close();
  await pg.drop();
});

/** Imports a CSV through an instance's services (activate: false keeps the active batch). */
async function importCsv(i: Instance, name: string, emails: string[], activate = true) {
  const r = await i.app.services.imports.importFile({
    source: bytes(`email\n${emails.join('\n')}\n`),
    fileName: name,
    origin: 'api',
    actor: 'test',
    options: { activate },
  });
  return r.batch.id;
}

describe('periodic tasks of several instances on one Postgres', () => {
  it('on Postgres every instance has the cluster ticks and no SQLite backup; on SQLite the backup is a tick', async () => {
    const instances = await cluster();
    for (const i of instances) {
      const names = i.ticks.map((t) => t.name);
      expect(names).toEqual(
        expect.arrayContaining(['send-engine', 'batch-activations', 'webhooks', 'retention', 'lease-sweep']),
      );
      expect(names).not.toContain('backup');
      expect(tick(i, 'retention')).toMatchObject({ cron: '0 9 * * *' });
      expect(tick(i, 'lease-sweep')).toMatchObject({ everyMs: 60_000 });
    }
    // The same settings on SQLite: the nightly backup is there, and no lease sweep (one process).
    const solo = await start(envFor());
    expect(solo.app.engine).toBe('sqlite');
    expect(solo.ticks.map((t) => t.name)).toContain('backup');
    expect(tick(solo, 'backup')).toMatchObject({ cron: '0 3 * * *' });
    expect(solo.ticks.map((t) => t.name)).not.toContain('lease-sweep');
  });

  it('the retention tick run by three instances at the same moment prompts once per period', async () => {
    const instances = await cluster();
    const [a] = instances;
    // Two batches inactive for 40 days, and the active one.
    const old1 = await importCsv(a!, 'old-1.csv', ['o1@old.test', 'o2@old.test']);
    const old2 = await importCsv(a!, 'old-2.csv', ['o3@old.test']);
    await importCsv(a!, 'current.csv', ['c1@new.test']);
    const longAgo = Date.now() - 40 * dayMs;
    await pg.db.$client.query(
      `UPDATE batches SET created_at = $1, deactivated_at = $1 WHERE id = ANY($2::text[])`,
      [longAgo, [old1, old2]],
    );
    const prompts = () =>
      slack
        .callsTo('chat.postMessage')
        .filter((c) => c.params.channel === 'CNOTIFY' && /^Delete batch/.test(String(c.params.text)));
    const runs = () =>
      rows<{ name: string; period: number; instance: string }>(
        pg.db.$client,
        `SELECT name, period, instance FROM task_runs WHERE name = 'retention' ORDER BY period`,
      );

    await withinOneMinute();
    const period = Math.floor(Date.now() / 60_000);
    await runEverywhere(instances, 'retention');
    await settle(instances);
    expect(
      prompts()
        .map((c) => String(c.params.text))
        .sort(),
    ).toEqual(['Delete batch old-1.csv?', 'Delete batch old-2.csv?']);
    expect(await runs()).toEqual([{ name: 'retention', period, instance: expect.any(String) }]);
    expect(
      (await rows<{ batch_id: string }>(pg.db.$client, 'SELECT batch_id FROM retention_proposals')).map(
        (r) => r.batch_id,
      ),
    ).toEqual(expect.arrayContaining([old1, old2]));

    // Again in the same period, with the proposals forgotten (so they would be due again): the
    // period's run is recorded, and no instance runs it a second time.
    await pg.db.$client.query('DELETE FROM retention_proposals');
    await runEverywhere(instances, 'retention');
    for (const i of instances) await tick(i, 'retention').run();
    await settle(instances);
    expect(prompts()).toHaveLength(2);
    expect(await runs()).toHaveLength(1);

    // The next period (the clock a minute on) runs it again, once.
    await withinOneMinute();
    const next = vi.spyOn(Date, 'now');
    const now = Date.now();
    next.mockImplementation(() => now + 60_000);
    try {
      await runEverywhere(instances, 'retention');
    } finally {
      next.mockRestore();
    }
    await settle(instances);
    expect(prompts()).toHaveLength(4);
    expect((await runs()).map((r) => r.period)).toEqual([period, Math.floor((now + 60_000) / 60_000)]);
  });

  it('a scheduled activation due now is applied and announced once when three instances tick at once', async () => {
    const instances = await cluster();
    const [a, b] = instances;
    const first = await importCsv(a!, 'first.csv', ['f1@first.test']);
    const next = await importCsv(a!, 'next.csv', ['n1@next.test', 'n2@next.test'], false);
    await b!.app.services.scheduledActivations.schedule(next, Date.now() + 200, 'UADMIN');
    await new Promise((r) => setTimeout(r, 300));

    await runEverywhere(instances, 'batch-activations');
    await settle(instances);
    // And once more, one after the other: nothing is due any more.
    for (const i of instances) await tick(i, 'batch-activations').run();
    await settle(instances);

    const batches = await rows<{ id: string; status: string }>(
      pg.db.$client,
      'SELECT id, status FROM batches ORDER BY created_at, id',
    );
    expect(batches).toEqual([
      { id: first, status: 'inactive' },
      { id: next, status: 'active' },
    ]);
    expect(
      await rows(pg.db.$client, `SELECT state, done_by FROM scheduled_activations WHERE batch_id = $1`, [
        next,
      ]),
    ).toEqual([{ state: 'applied', done_by: 'scheduler' }]);
    expect(
      await rows<{ n: number }>(
        pg.db.$client,
        `SELECT count(*) AS n FROM batch_events WHERE batch_id = $1 AND kind = 'activated'`,
        [next],
      ),
    ).toEqual([{ n: 1 }]);

    // Announced once: to the person who scheduled it and to the notice channel, each once (and
    // nothing else said about the batch in Slack).
    const notices = slack.callsTo('chat.postMessage').filter((c) => String(c.params.text).includes(next));
    expect(notices.map((c) => c.params.channel).sort()).toEqual(['CNOTIFY', 'UADMIN']);
    expect(notices.every((c) => String(c.params.text).includes('Scheduled activation applied'))).toBe(true);

    // One batch.activated webhook for it, delivered once, though every instance delivers webhooks.
    const activated = (body: string) => body.includes('batch.activated') && body.includes(next);
    expect(
      (await rows<{ payload: string }>(pg.db.$client, `SELECT payload FROM webhook_deliveries`)).filter((r) =>
        activated(r.payload),
      ),
    ).toHaveLength(1);
    await runEverywhere(instances, 'webhooks');
    await waitFor(() => hooks.bodies.some(activated));
    await runEverywhere(instances, 'webhooks');
    expect(hooks.bodies.filter(activated)).toHaveLength(1);
  });
});
