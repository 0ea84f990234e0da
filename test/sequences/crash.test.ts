/**
 * A sequence through SIGKILLs (issue 16: "a crash between steps sends nothing twice"): the real
 * app as a child process (src/main.ts, its own scheduler ticking every second, its clock started
 * on a given business day by child-clock.ts) is killed during step 1, between steps 1 and 2, and
 * during step 2; then the app is started again in this process and the clock moved on until the
 * sequence ends. Counted by the SMTP sink per recipient and step, and on the ledger.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir, waitFor } from '../helpers.js';
import { startSink } from '../smtp-sink.js';
import {
  berlinWeekdays,
  boot,
  bounceAddress,
  createCampaign,
  expectLedgerUnique,
  expectNoDoubles,
  importPeople,
  minute,
  peopleOf,
  stepOf,
  testClock,
} from './kit.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const people = Array.from({ length: 20 }, (_, i) => `k${String(i).padStart(2, '0')}@x.com`);

describe('a sequence killed with SIGKILL', () => {
  it('during step 1, between steps and during step 2: after the restarts nobody has any step twice, and the rest goes', async () => {
    const dirs = tempDir();
    cleanups.push(dirs.cleanup);
    // A relay slow enough (150 ms a message, 3 connections) for a kill to land inside a step.
    const sink = await startSink({ delayMs: 150 });
    cleanups.push(sink.close);
    const db = join(dirs.dir, 'crash.db');
    const monday = Date.UTC(2026, 2, 9, 9, 0); // Monday 9 March 2026, 10:00 in Berlin

    // Imported and created over REST, on the database the real process will use.
    const setupClock = testClock(monday);
    const setup = await boot({ db, sink, clock: setupClock }, cleanups);
    await importPeople(setup, people);
    const c = await createCampaign(setup, {
      name: 'Crash',
      timezone: 'Europe/Berlin',
      window: berlinWeekdays,
      sendAt: 'now',
      steps: [
        { subject: 'Hello {{first_name|there}}', body: 'step-1' },
        { body: 'step-2', delayDays: 2 },
        { subject: 'Last', body: 'step-3', delayDays: 3 },
      ],
    });
    await setup.stop();

    const env = {
      DATABASE_PATH: db,
      MAIL_FROM: 'Sales <sales@coldbatch.test>',
      MAIL_POSTAL_ADDRESS: 'Rua Exemplo 1, São Paulo',
      MAIL_BOUNCE_ADDRESS: bounceAddress,
      SMTP_URL: sink.url,
      PUBLIC_URL: 'https://coldbatch.test',
      SMTP_MAX_CONNECTIONS: '3',
      SCHEDULER_TICK: '1s',
      PORT: '0',
      LOG_LEVEL: 'info',
      VALIDATE_ON_IMPORT: 'false',
      INBOX_URL: '',
      SMTP_URLS: '',
      SLACK_BOT_TOKEN: '',
      WEBHOOK_URLS: '',
    };
    const sql = new Database(db, { fileMustExist: true });
    cleanups.push(() => void sql.close());
    const rows = sql.prepare<[string, number], { n: number }>(
      `SELECT count(*) AS n FROM sends WHERE campaign_id = ? AND step = ? AND status NOT IN ('claimed', 'retry')`,
    );
    const waiting = sql.prepare<[string], { n: number }>(
      'SELECT count(*) AS n FROM sequence_people WHERE campaign_id = ? AND next_due_at IS NOT NULL',
    );
    const received = (step: number) => sink.received.filter((m) => stepOf(m) === step).length;

    /** src/main.ts as a child process whose clock starts at `now`; `until` waits or kills and tells why. */
    function child(now: number) {
      const p: ChildProcess = spawn(
        process.execPath,
        ['--import', 'tsx', '--import', './test/sequences/child-clock.ts', 'src/main.ts'],
        {
          cwd: root,
          env: { ...process.env, ...env, COLDBATCH_TEST_NOW: String(now) },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      const output: string[] = [];
      p.stdout?.on('data', (d) => output.push(String(d)));
      p.stderr?.on('data', (d) => output.push(String(d)));
      const exited = new Promise((r) => p.once('exit', r));
      const kill = async () => {
        p.kill('SIGKILL');
        await exited;
      };
      cleanups.push(kill);
      const until = (check: () => boolean, what: string) =>
        waitFor(check, 45_000).catch(async () => {
          await kill();
          throw new Error(
            `${what}: timed out; received ${sink.received.length}; child output:\n${output.join('').slice(-3000)}`,
          );
        });
      return { kill, until };
    }

    // 1. Killed during step 1.
    const a = child(monday + 30_000);
    await a.until(() => received(1) >= 6, 'step 1 under way');
    await a.kill();
    const atFirstKill = received(1);
    expect(atFirstKill).toBeLessThan(people.length);

    // 2. Started again: step 1 finishes (what the kill left claimed is swept to unknown); killed
    // between the steps, with everyone else waiting for step 2.
    const b = child(monday + 5 * minute);
    await b.until(
      () =>
        rows.get(c.id, 1)!.n === people.length &&
        waiting.get(c.id)!.n === people.length - unknownAt(1) &&
        received(1) >= people.length - unknownAt(1),
      'step 1 finished',
    );
    await b.kill();
    expect(received(2)).toBe(0);

    // 3. Wednesday, step 2 due for everyone: killed during step 2.
    const wednesday = monday + 2 * 86_400_000;
    const step2People = people.length - unknownAt(1);
    const c3 = child(wednesday + 15 * minute);
    await c3.until(() => received(2) >= 5, 'step 2 under way');
    await c3.kill();
    expect(received(2)).toBeLessThan(step2People);

    // 4. The app again, in this process, on the settable clock: step 2 finishes, then step 3 comes
    // due on Monday (three business days after Wednesday).
    const clock = testClock(wednesday + 30 * minute);
    const t = await boot({ db, sink, clock }, cleanups);
    await t.app.ready;
    const drain = async () => {
      for (let i = 0; i < 20 && (await t.app.services.campaigns.get(c.id)).status === 'sending'; i++) {
        const before = sink.received.length;
        await t.app.services.sending.runDue();
        if (sink.received.length === before) break;
      }
    };
    await drain();
    clock.set(monday + 7 * 86_400_000 + 60 * minute);
    await drain();
    expect((await t.app.services.campaigns.get(c.id)).status).toBe('completed');

    // Nobody got any step twice; the ledger has one row at most per (campaign, contact, step).
    expectNoDoubles(sink.received);
    expectLedgerUnique(t, c.id);
    // Each person's steps in order, without a gap; every sent row reached the relay.
    const byPerson = new Map<string, number[]>();
    for (const m of sink.received) byPerson.set(m.to, [...(byPerson.get(m.to) ?? []), stepOf(m)].sort());
    for (const [p, steps] of byPerson) expect(steps, p).toEqual(steps.map((_, i) => i + 1));
    const ledger = t.app.db.$client
      .prepare<[string], { email: string; step: number; status: string }>(
        `SELECT c.email AS email, s.step AS step, s.status AS status FROM sends s JOIN contacts c ON c.id = s.contact_id
         WHERE s.campaign_id = ?`,
      )
      .all(c.id);
    const got = new Set(sink.received.map((m) => `${m.to} ${stepOf(m)}`));
    for (const r of ledger.filter((r) => r.status === 'sent'))
      expect(got.has(`${r.email} ${r.step}`)).toBe(true);
    // A step a kill left unknown ends that person's sequence there (never risk a double); the few
    // in flight at each kill, at most.
    const unknown = ledger.filter((r) => r.status === 'unknown');
    expect(unknown.length).toBeLessThanOrEqual(2 * 4 * 3); // per kill: the window in flight and the accepted not yet marked (≤ 4 × pool)
    const everyone = await peopleOf(t, c.id);
    expect(everyone).toHaveLength(people.length);
    for (const p of everyone) expect(p.state, p.email).not.toBe('waiting');
    const finishedAll = everyone.filter((p) => p.step === 3).length;
    expect(finishedAll).toBeGreaterThanOrEqual(people.length - unknown.length);
    expect(sink.received.length).toBeLessThanOrEqual(3 * people.length);

    /** Step-`step` rows the sweep marked unknown so far. */
    function unknownAt(step: number): number {
      return (
        sql
          .prepare<[string, number], { n: number }>(
            `SELECT count(*) AS n FROM sends WHERE campaign_id = ? AND step = ? AND status = 'unknown'`,
          )
          .get(c.id, step)?.n ?? 0
      );
    }
  }, 120_000);
});
