/**
 * Load (issue 6): 20 concurrent imports of different files, a campaign sending, and 50 requests a
 * second (the Slack `/batches` command and GET /contacts/batches, alternately) for LOAD_SECONDS
 * (default 30) — all on loopback. Every request is answered, exactly one batch is active at
 * every sampled instant, the counts add up, and no SQLITE_BUSY reaches anyone.
 */
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importText, memoryLog, startTestApp, tempDir, uploadCsv } from '../helpers.js';
import { commandBody, FakeSlack, signingSecret, slackPost } from '../slack/fake-slack.js';
import { startSink } from '../smtp-sink.js';

const seconds = Number(process.env.LOAD_SECONDS ?? 30);
const perSecond = 50;
const imports = 20;
const rowsPerImport = 5000;
const audience = 1500;

function file(n: number): string {
  const lines = ['email,first name,last name,company,title'];
  for (let i = 0; i < rowsPerImport; i++)
    lines.push(`load${n}_${i}@company${i % 300}.com,First${i},Last${n},Company ${i % 300},Title ${i % 9}`);
  return `${lines.join('\n')}\n`;
}

let slack: FakeSlack;
let sink: Awaited<ReturnType<typeof startSink>>;
let dirs: ReturnType<typeof tempDir>;
let stop: () => Promise<void>;
const log = memoryLog();

beforeAll(async () => {
  slack = await new FakeSlack().start();
  sink = await startSink({ delayMs: 2 });
  dirs = tempDir();
});
afterAll(async () => {
  await stop?.();
  await sink.close();
  await slack.stop();
  dirs.cleanup();
});

describe('under load', () => {
  it(`answers everything for ${seconds} s with one active batch at every instant and counts that add up`, async () => {
    const t = await startTestApp(
      {
        DATABASE_PATH: join(dirs.dir, 'load.db'),
        SLACK_BOT_TOKEN: slack.botToken,
        SLACK_SIGNING_SECRET: signingSecret,
        SLACK_API_URL: slack.apiUrl,
        SMTP_URL: sink.url,
        SMTP_MAX_CONNECTIONS: '3',
        MAIL_FROM: 'Sales <sales@coldbatch.test>',
        MAIL_POSTAL_ADDRESS: 'Rua Exemplo 1, São Paulo',
        SCHEDULER_TICK: '1s',
        LOG_LEVEL: 'info',
        IMPORT_MAX_BYTES: '50MB',
      },
      { slackRetries: 0, logDestination: log.stream },
    );
    stop = t.stop;
    const { app, url } = t;
    const lines = ['email'];
    for (let i = 0; i < audience; i++) lines.push(`lead${i}@x.com`);
    const base = await importText(app.services, `${lines.join('\n')}\n`, { fileName: 'base.csv' });
    // Sent to the base batch only: the imports below come in inactive, so the audience is fixed.
    const campaign = await app.services.campaigns.create(
      { name: 'load', subject: 'Hello {{name}}', body: 'Hi', sendAt: 'now', ratePerMinute: 3000 },
      'U1',
    );

    // One active batch at every instant, seen from a connection of its own.
    const reader = new Database(app.config.databasePath, { readonly: true });
    const activeCount = reader.prepare(`SELECT count(*) FROM batches WHERE status = 'active'`).pluck();
    const activeSeen = new Set<number>();
    const sampler = setInterval(() => activeSeen.add(activeCount.get() as number), 20);

    // 50 requests a second: /batches in Slack and GET /contacts/batches alternately.
    const files = Array.from({ length: imports }, (_, k) => file(k));
    const answers: { kind: string; status: number; ms: number; body: string; at: number }[] = [];
    const pending: Promise<void>[] = [];
    const started = Date.now();
    let n = 0;
    const fire = () => {
      const i = n++;
      const t0 = performance.now();
      const done = (kind: string) => (r: { status: number; body: string }) => {
        answers.push({
          kind,
          status: r.status,
          body: r.body,
          ms: performance.now() - t0,
          at: Date.now() - started,
        });
      };
      const failed = (kind: string) => (e: unknown) => {
        answers.push({
          kind,
          status: 0,
          body: String(e),
          ms: performance.now() - t0,
          at: Date.now() - started,
        });
      };
      pending.push(
        i % 2 === 0
          ? slackPost(
              url,
              commandBody(i % 4 === 0 ? 'list' : `show ${base.batch.id}`, 'U1', slack.responseUrl()),
              {
                type: 'form',
              },
            ).then((r) => done('slack')({ status: r.status, body: r.text }), failed('slack'))
          : fetch(`${url}/contacts/batches?limit=20`).then(
              async (r) => done('rest')({ status: r.status, body: await r.text() }),
              failed('rest'),
            ),
      );
    };
    // Paced by the clock: a tick that comes late (the event loop is shared with the app) fires
    // every request that fell due meanwhile.
    const loop = monitorEventLoopDelay({ resolution: 5 });
    loop.enable();
    const ticker = setInterval(() => {
      const due = Math.floor(((Date.now() - started) * perSecond) / 1000);
      while (n < due) fire();
    }, 1000 / perSecond);

    // 20 imports at once, each a different file, while the requests run (inactive: the test
    // activates some of them below, so activation races with them too).
    const results = await Promise.all(
      files.map((content, k) =>
        uploadCsv(url, content, { fileName: `load-${k}.csv`, fields: { activate: 'false' } }),
      ),
    );
    // Activations while requests go on (and back to the base batch at the end).
    const ids = results.map((r) => (r.body as { batch: { id: string } }).batch.id);
    for (const id of ids.slice(0, 5)) {
      const r = await fetch(`${url}/contacts/batches/${id}/activate`, { method: 'POST' });
      expect(r.status).toBe(200);
    }
    const back = await fetch(`${url}/contacts/batches/${base.batch.id}/activate`, { method: 'POST' });
    expect(back.status).toBe(200);

    const left = seconds * 1000 - (Date.now() - started);
    if (left > 0) await new Promise((r) => setTimeout(r, left));
    clearInterval(ticker);
    loop.disable();
    await Promise.all(pending);
    clearInterval(sampler);

    // Every request answered, none with a server error, none mentioning a busy database.
    expect(answers.length).toBeGreaterThanOrEqual(Math.floor(seconds * perSecond * 0.9));
    const bad = answers.filter((a) => a.status !== 200);
    expect(bad.slice(0, 3)).toEqual([]);
    expect(answers.filter((a) => /SQLITE_BUSY|database is locked/i.test(a.body))).toEqual([]);
    const slackAnswers = answers.filter((a) => a.kind === 'slack');
    expect(slackAnswers.every((a) => a.body.includes('blocks'))).toBe(true);
    const p99 = answers.map((a) => a.ms).sort((a, b) => a - b)[Math.floor(answers.length * 0.99)]!;
    console.log(
      `load: ${answers.length} requests in ${seconds} s, p99 ${Math.round(p99)} ms, longest event-loop block ${Math.round(loop.max / 1e6)} ms, active counts seen ${[...activeSeen]}`,
    );

    // One active batch at every sampled instant.
    expect([...activeSeen]).toEqual([1]);

    // The imports: all accepted, counts add up, in the database too.
    for (const r of results) {
      expect(r.status).toBe(201);
      expect((r.body as { report: { imported: number } }).report.imported).toBe(rowsPerImport);
    }
    const db = app.db.$client;
    expect(db.prepare('SELECT count(*) FROM contacts').pluck().get()).toBe(
      audience + imports * rowsPerImport,
    );
    const mismatched = db
      .prepare(
        `SELECT b.id FROM batches b WHERE b.contact_count != (SELECT count(*) FROM contacts c WHERE c.batch_id = b.id)`,
      )
      .all();
    expect(mismatched).toEqual([]);

    // The campaign: everyone in the base batch once, and the ledger agrees with the sink.
    const deadline = Date.now() + 60_000;
    while ((await app.services.campaigns.get(campaign.id)).status !== 'completed' && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 200));
    const counts = await app.services.campaigns.counts(campaign.id);
    // Batches were activated while it ran, so it also reached some of theirs: still nobody twice,
    // the ledger agrees with the sink, and everyone in the batch active at the end has it.
    const to = sink.received.map((m) => m.to);
    expect(new Set(to).size).toBe(to.length);
    expect(counts.sent).toBe(to.length);
    expect(counts.sent + counts.failed + counts.unknown).toBe(counts.total);
    const got = new Set(to);
    const missing = lines.slice(1).filter((a) => !got.has(a));
    expect(missing).toEqual([]);

    // No busy database in the log either.
    expect(log.lines().filter((l) => /SQLITE_BUSY|database is locked/i.test(JSON.stringify(l)))).toEqual([]);
    reader.close();
  });
});
