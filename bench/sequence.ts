/**
 * The sequence cases of issue 16:
 * - `sequence-due`: finding who is due now among N people waiting for a follow-up (the claim's own
 *   query, with the audience rule), against a raw baseline in the same run (their ids through the
 *   same index, nothing joined); then the whole claim of all of them (the row for their next step,
 *   their place moved on) through the real send store, reported beside it;
 * - `sequence-send`: the cost per message of the sequence state, step 1 and a follow-up of a 3-step
 *   campaign against a one-step campaign, through the real engine to a local SMTP sink.
 */
import { join } from 'node:path';
import { loadConfig } from '../src/config.js';
import { createServices } from '../src/core/index.js';
import { migrateDb, openDb } from '../src/db/client.js';
import { dueFollowUpsSql } from '../src/db/sqlite/sequence-claim.js';
import { sqliteStores } from '../src/db/sqlite/stores.js';
import type { Logger } from '../src/logger.js';
import { createMailer } from '../src/mail/index.js';
import { sink } from './send.js';
import { measure, round, seedContacts } from './util.js';

const dayMs = 86_400_000;

const steps = [
  { subject: 'Hi {{first_name|there}}', body: 'Hello {{name}},\n\nA short note.', delayDays: 0 },
  { body: 'Hello again {{first_name|there}},\n\nJust following up.', delayDays: 2 },
  { body: 'Last note, {{first_name|there}}.', delayDays: 3 },
];

/** `sequence-due`: N people due for step 2, claimed 1,000 at a time until none is left. */
export async function benchSequenceDue(rows: number, dir: string, log: Logger) {
  const db = openDb(join(dir, 'sequence-due.db'));
  migrateDb(db);
  const sqlite = db.$client;
  seedContacts(sqlite, rows, 'batch_0000seq_1', 'seq', 'active');
  const config = loadConfig({
    MAIL_POSTAL_ADDRESS: 'Bench St 1',
    MAIL_FROM: 'Sales <sales@bench.test>',
    PUBLIC_URL: 'https://bench.test',
    LOG_LEVEL: 'silent',
  });
  const stores = sqliteStores(db);
  const mailer = createMailer({ outboxDir: dir, log });
  const services = createServices({ log, clock: { now: () => Date.now() } }, stores, config, mailer);
  const c = await services.campaigns.create(
    { name: 'bench sequence', subject: steps[0]!.subject, body: steps[0]!.body, steps },
    'bench',
  );
  // Everyone got step 1 two days ago; step 2 came due over the last day (straight SQL, fast).
  const now = Date.now();
  sqlite.exec('BEGIN');
  sqlite
    .prepare(
      `INSERT INTO sends (campaign_id, contact_id, email_hash, run, step, status, attempts, message_id, claimed_at, updated_at)
       SELECT ?, id, email_hash, 1, 1, 'sent', 1, '<cb.' || id || '.x@bench.test>', ?, ? FROM contacts`,
    )
    .run(c.id, now - 2 * dayMs, now - 2 * dayMs);
  sqlite
    .prepare(
      `INSERT INTO sequence_people (campaign_id, contact_id, step, next_due_at, last_send_id, updated_at)
       SELECT campaign_id, contact_id, 1, ? - (contact_id % 86400) * 1000, id, ? FROM sends WHERE campaign_id = ?`,
    )
    .run(now, now, c.id);
  sqlite.exec('COMMIT');
  sqlite.pragma('wal_checkpoint(TRUNCATE)');

  // Raw baseline: the due people's ids read through the same index, nothing joined.
  const raw = sqlite.prepare<[string, number], { contact_id: number }>(
    `SELECT contact_id FROM sequence_people INDEXED BY sequence_people_due
     WHERE campaign_id = ? AND next_due_at IS NOT NULL AND next_due_at <= ? ORDER BY next_due_at`,
  );
  const b = await measure(async () => {
    let seen = 0;
    for (const _ of raw.iterate(c.id, now)) seen++;
    return seen;
  });
  const baseline = b.result / (b.ms / 1000);
  // Finding who is due now: the claim's own query (the audience rule and each one's reason).
  const due = sqlite.prepare<[string, number, number], { contact_id: number; reason: string | null }>(
    dueFollowUpsSql,
  );
  const f = await measure(async () => {
    let sendable = 0;
    for (const r of due.iterate(c.id, now, rows)) if (r.reason === null) sendable++;
    return sendable;
  });
  const found = f.result / (f.ms / 1000);

  // The real claim: due follow-ups (after no retry), a row for step 2, each person moved on.
  const maxId = sqlite.prepare<[], { id: number }>('SELECT max(id) AS id FROM contacts').get()!.id;
  const target = { id: c.id, runCount: 1, completedAt: null, sequence: { steps: 3, variantOf: () => null } };
  const m = await measure(async () => {
    let claimed = 0;
    for (;;) {
      // The engine claims about a window's worth (SMTP_MAX_CONNECTIONS × 2) at a time; 100 here.
      const got = await stores.sends.claim(target, 100, now, maxId, [], false);
      if (got.length === 0) return claimed;
      claimed += got.length;
      await new Promise<void>((r) => setImmediate(r));
    }
  });
  const rate = m.result / (m.ms / 1000);
  await mailer.close();
  sqlite.close();
  const exact = found / baseline;
  return {
    case: `sequence-due (${rows} people)`,
    figure: Math.round(found),
    unit: 'people/s',
    baseline: Math.round(baseline),
    ratio: round(exact, 2),
    target: 'finding who is due ≥ 200,000 people/s',
    met: found >= 200_000 && f.result === rows && m.result === rows,
    extra: {
      claimPeoplePerS: Math.round(rate),
      claimSeconds: round(m.ms / 1000),
      claimLongestBlockMs: m.maxBlockMs,
    },
  };
}

/**
 * `sequence-send`: n messages each of a one-step campaign, step 1 of a 3-step campaign and its
 * step 2 (the clock moved on), through the real engine and the SMTP pool to a sink in its own
 * process; the one-step campaign runs before and after the sequence (its mean is the reference),
 * after a warm-up run that is not counted.
 */
export async function benchSequenceSend(n: number, dir: string, log: Logger) {
  const s = await sink();
  const config = loadConfig({
    MAIL_POSTAL_ADDRESS: 'Bench St 1',
    MAIL_FROM: 'Sales <sales@bench.test>',
    SMTP_URL: s.url,
    PUBLIC_URL: 'https://bench.test',
    LOG_LEVEL: 'silent',
  });
  const db = openDb(join(dir, 'sequence-send.db'));
  migrateDb(db);
  seedContacts(db.$client, n, 'batch_0seqsend_1', 'seqsend', 'active');
  const mailer = createMailer({ smtpUrl: s.url, outboxDir: dir, maxConnections: 5, log });
  let offset = 0;
  const clock = { now: () => Date.now() + offset };
  const services = createServices({ log, clock }, sqliteStores(db), config, mailer);
  const timed = async (id: string, done: () => Promise<boolean>) => {
    const t = performance.now();
    while (!(await done())) await services.sending.runDue();
    void id;
    return n / ((performance.now() - t) / 1000);
  };
  const oneStep = async () => {
    const c = await services.campaigns.create(
      { name: 'one step', subject: steps[0]!.subject, body: steps[0]!.body, sendAt: 'now' },
      'bench',
    );
    return timed(c.id, async () => (await services.campaigns.get(c.id)).status === 'completed');
  };
  await oneStep(); // warm-up (JIT, page cache, SMTP pool), not counted
  const before = await oneStep();
  const seq = await services.campaigns.create(
    { name: 'sequence', subject: steps[0]!.subject, body: steps[0]!.body, steps, sendAt: 'now' },
    'bench',
  );
  const stepSent = async (step: number) => {
    const counts = await services.campaigns.counts(seq.id);
    void step;
    return counts.sent + counts.failed + counts.bounced + counts.unknown >= n * step;
  };
  const step1 = await timed(seq.id, () => stepSent(1));
  offset += 3 * dayMs; // step 2 is due 2 business days later (no window: every day counts)
  const step2 = await timed(seq.id, () => stepSent(2));
  const after = await oneStep();
  await mailer.close();
  db.$client.close();
  await s.close();
  const reference = (before + after) / 2;
  const worst = Math.min(step1, step2) / reference;
  return {
    case: `sequence-send (${n} messages per step)`,
    figure: Math.round(Math.min(step1, step2)),
    unit: 'messages/s',
    baseline: Math.round(reference),
    ratio: round(worst, 2),
    target: 'sequence state costs ≤ 10 % (ratio ≥ 0.9 × the one-step campaign)',
    met: worst >= 0.9,
    extra: {
      oneStepBefore: Math.round(before),
      oneStepAfter: Math.round(after),
      step1: Math.round(step1),
      step2: Math.round(step2),
    },
  };
}
