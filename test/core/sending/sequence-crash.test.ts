import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { buildApp } from '../../../src/app.js';
import { loadConfig } from '../../../src/config.js';
import type { SequenceStep } from '../../../src/core/campaigns/sequence.js';
import { createLogger } from '../../../src/logger.js';
import { createMailer } from '../../../src/mail/index.js';
import { importText, tempDir, testClock, waitFor } from '../../helpers.js';
import { type Received, startSink } from '../../smtp-sink.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const people = 40;

/** The step a received message is (its body says `step-N`). */
const stepOf = (m: Received) => Number(/step-(\d)/.exec(m.body)?.[1]);

/**
 * Every (person, step) received at most once, each person's steps in order without a gap, each
 * follow-up in reply to the person's previous step (sent by the app's SMTP thread).
 */
function expectNoDoubles(received: Received[]) {
  const keys = received.map((m) => `${m.to} ${stepOf(m)}`);
  expect(new Set(keys).size).toBe(keys.length);
  const byPerson = new Map<string, Received[]>();
  for (const m of received) byPerson.set(m.to, [...(byPerson.get(m.to) ?? []), m]);
  for (const ms of byPerson.values()) {
    expect(ms.map(stepOf)).toEqual(ms.map((_, i) => i + 1));
    for (let i = 1; i < ms.length; i++)
      expect(ms[i]!.headers['in-reply-to']).toBe(ms[i - 1]!.headers['message-id']);
  }
}

describe('a sequence killed with SIGKILL', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  /** A database with `people` contacts and a sequence due now; the real process started on it. */
  async function start(steps: SequenceStep[]) {
    const sink = await startSink({ delayMs: 30 });
    cleanups.push(() => sink.close());
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const env = {
      DATABASE_PATH: join(dir, 'send.db'),
      MAIL_FROM: 'Sales <sales@coldbatch.test>',
      MAIL_POSTAL_ADDRESS: 'Rua Exemplo 1, São Paulo',
      SMTP_URL: sink.url,
      PUBLIC_URL: 'https://coldbatch.test',
      SMTP_MAX_CONNECTIONS: '3',
      SCHEDULER_TICK: '1s',
      PORT: '0',
      LOG_LEVEL: 'info',
      VALIDATE_ON_IMPORT: 'false',
    };
    const silent = createLogger('silent');
    const config = loadConfig({ ...env, LOG_LEVEL: 'silent' });
    const setup = buildApp(config, {
      scheduler: false,
      mailer: createMailer({ outboxDir: dir, log: silent }),
    });
    const rows = Array.from({ length: people }, (_, i) => `k${i}@x.com`).join('\n');
    await importText(setup.services, `email\n${rows}\n`);
    const first = steps[0]!;
    const campaign = await setup.services.campaigns.create(
      { name: 'crash', subject: first.subject!, body: first.body, sendAt: 'now' },
      'U1',
    );
    await setup.stop();
    const db = new Database(env.DATABASE_PATH);
    db.prepare('UPDATE campaigns SET steps = ? WHERE id = ?').run(JSON.stringify(steps), campaign.id);
    cleanups.push(() => void db.close());

    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd: root,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const output: string[] = [];
    child.stdout?.on('data', (d) => output.push(String(d)));
    child.stderr?.on('data', (d) => output.push(String(d)));
    const exited = new Promise((r) => child.once('exit', r));
    const kill = async () => {
      child.kill('SIGKILL');
      await exited;
    };
    cleanups.push(kill);
    const until = (check: () => boolean, timeoutMs = 60_000) =>
      waitFor(check, timeoutMs).catch(async (e: unknown) => {
        await kill();
        throw new Error(
          `${String(e)}; received ${sink.received.length}; child output:\n${output.join('').slice(-3000)}`,
        );
      });
    /** The app again, in this process (its start-up sweep marks what the kill left claimed). */
    const restart = (clock?: { now(): number }) => {
      const mailer = createMailer({ smtpUrl: sink.url, outboxDir: dir, log: silent });
      const app = buildApp(config, { scheduler: false, mailer, ...(clock ? { clock } : {}) });
      cleanups.push(() => app.stop());
      return app;
    };
    return { sink, db, campaign, until, kill, restart };
  }

  for (const [point, killAfter] of [
    ['early in step 1', 5],
    ['while steps 1 to 3 go together', 50],
    ['near the end', 110],
  ] as const)
    it(`${point}: after restart nobody has any step twice, and the rest is sent`, async () => {
      // Follow-ups due at once: steps overlap, so a kill lands inside some people's steps and between others'.
      const { sink, campaign, until, kill, restart } = await start([
        { subject: 'S', body: 'step-1', delayDays: 0 },
        { body: 'step-2', delayDays: 0 },
        { subject: 'Third', body: 'step-3', delayDays: 0 },
      ]);
      await until(() => sink.received.length >= killAfter);
      await kill();
      expect(sink.received.length).toBeLessThan(3 * people);

      const app = restart();
      await app.ready;
      for (let i = 0; i < 40 && (await app.services.campaigns.get(campaign.id)).status === 'sending'; i++) {
        await app.services.sending.runDue();
      }
      expect((await app.services.campaigns.get(campaign.id)).status).toBe('completed');
      expectNoDoubles(sink.received);
      const counts = await app.services.campaigns.counts(campaign.id);
      // A step left claimed by the kill is unknown: that person's sequence ends there (never a double).
      expect(counts.unknown).toBeLessThanOrEqual(3 * 4);
      expect(sink.received.length).toBeGreaterThanOrEqual(3 * people - 3 * counts.unknown);
    });

  it('between steps: the follow-ups go once each when they come due after the restart', async () => {
    const { sink, db, campaign, until, kill, restart } = await start([
      { subject: 'S', body: 'step-1', delayDays: 0 },
      { body: 'step-2', delayDays: 1 },
    ]);
    const waiting = db.prepare(
      'SELECT count(*) AS n FROM sequence_people WHERE campaign_id = ? AND next_due_at IS NOT NULL',
    );
    await until(() => (waiting.get(campaign.id) as { n: number }).n === people);
    await kill();
    expect(sink.received).toHaveLength(people);

    const clock = testClock(Date.now() + 86_400_000 + 60_000);
    const app = restart(clock);
    await app.ready;
    for (let i = 0; i < 20 && (await app.services.campaigns.get(campaign.id)).status === 'sending'; i++) {
      await app.services.sending.runDue();
    }
    expect((await app.services.campaigns.get(campaign.id)).status).toBe('completed');
    expect(sink.received).toHaveLength(2 * people);
    expectNoDoubles(sink.received);
  });
});
