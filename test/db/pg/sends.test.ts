import { afterEach, describe, expect, it } from 'vitest';
import type { SequenceStore } from '../../../src/core/campaigns/sequence-store.js';
import { emailHash } from '../../../src/core/keys.js';
import type { BouncedSend, Claimed, ClaimTarget, SendStore } from '../../../src/core/sending/send-store.js';
import type { BounceChange, BounceRecord } from '../../../src/core/suppression/suppression-store.js';
import { inTransaction, openPg, type PgDb } from '../../../src/db/pg/client.js';
import { applyHardBounce as pgApplyHardBounce } from '../../../src/db/pg/hard-bounce-rows.js';
import {
  PgSendStore,
  eraseSendResponses as pgEraseSendResponses,
  markBounced as pgMarkBounced,
} from '../../../src/db/pg/send-store.js';
import { PgSequenceStore } from '../../../src/db/pg/sequence-store.js';
import { applyHardBounce } from '../../../src/db/sqlite/hard-bounce-rows.js';
import { eraseSendResponses, markBounced, SqliteSendStore } from '../../../src/db/sqlite/send-store.js';
import { SqliteSequenceStore } from '../../../src/db/sqlite/sequence-store.js';
import { dialects, openTestDatabase, pgTestDatabase, type TestDatabase } from '../../pg/dialects.js';
import { freshPg } from '../../pg/pg.js';
import { seedAt, seedBatch, seedCampaign, seedContacts } from '../../pg/seed.js';

/** The stores and row modules under test, built as db/sqlite/stores.ts and db/pg/stores.ts build them. */
type Ledger = {
  sends: SendStore;
  sequences: SequenceStore;
  markBounced: (b: BouncedSend) => Promise<void>;
  erase: (contactId: number | null, hash: Buffer) => Promise<number>;
  hardBounce: (b: BounceRecord, change: BounceChange) => Promise<void>;
};

function ledgerOf(t: TestDatabase): Ledger {
  if (t.dialect === 'sqlite') {
    const db = t.db;
    return {
      sends: new SqliteSendStore(db.$client),
      sequences: new SqliteSequenceStore(db),
      markBounced: async (b) => db.transaction((tx) => markBounced(tx, b)),
      erase: async (id, hash) => db.transaction((tx) => eraseSendResponses(tx, id, hash)),
      hardBounce: async (b, change) => db.transaction((tx) => applyHardBounce(tx, b, change)),
    };
  }
  const pool = t.db.$client;
  return {
    sends: new PgSendStore(t.db),
    sequences: new PgSequenceStore(t.db),
    markBounced: (b) => inTransaction(pool, (tx) => pgMarkBounced(tx, b)),
    erase: (id, hash) => inTransaction(pool, (tx) => pgEraseSendResponses(tx, id, hash)),
    hardBounce: (b, change) => inTransaction(pool, (tx) => pgApplyHardBounce(tx, b, change)),
  };
}

const batch = 'batch_00000001_1760000000';
const cmp = 'cmp_1';
const t0 = seedAt + 86_400_000;
const emails = (n: number) => Array.from({ length: n }, (_, i) => `p${i + 1}@example.com`);
const oneStep: ClaimTarget = { id: cmp, runCount: 1, completedAt: null };
/** A sequence of `steps`: steps 1 and 2 have two variants (by contact id), step 3 none. */
const sequence = (steps: number): ClaimTarget => ({
  ...oneStep,
  sequence: { steps, variantOf: (step, contactId) => (step < 3 ? ((contactId + step) % 2) + 1 : null) },
});
const variant = (step: number, contactId: number) => sequence(3).sequence!.variantOf(step, contactId);

type SendRow = {
  contact_id: number | null;
  status: string;
  step: number;
  variant: number | null;
  attempts: number;
  next_attempt_at: number | null;
  response: string | null;
  message_id: string | null;
  account: string | null;
  run: number;
  claimed_at: number;
  updated_at: number;
};
type PersonRow = { contact_id: number; step: number; next_due_at: number | null; stop_reason: string | null };

let open: TestDatabase | undefined;
afterEach(async () => {
  await open?.close();
  open = undefined;
});

/** A database with an active batch of `n` contacts (p1…pn@example.com) and campaign cmp_1. */
async function setup(dialect: (typeof dialects)[number], n = 5) {
  const t = await openTestDatabase(dialect);
  open = t;
  await seedBatch(t, batch);
  const ids = await seedContacts(t, batch, emails(n));
  await seedCampaign(t, cmp);
  const sendRow = async (id: number) =>
    (
      await t.query<SendRow>(
        `SELECT contact_id, status, step, variant, attempts, next_attempt_at, response, message_id, account, run,
           claimed_at, updated_at FROM sends WHERE id = $1`,
        [id],
      )
    )[0]!;
  const people = () =>
    t.query<PersonRow>(
      `SELECT contact_id, step, next_due_at, stop_reason FROM sequence_people WHERE campaign_id = $1 ORDER BY contact_id`,
      [cmp],
    );
  return { t, ids, sendRow, people, ...ledgerOf(t) };
}

/** What a claim returns for a new person at step 1 (`p<k>@example.com`, contact `id`). */
const fresh = (k: number, id: number, v: number | null = null) => ({
  sendId: expect.any(Number),
  contactId: id,
  emailHash: emailHash(`p${k}@example.com`),
  attempts: 0,
  retry: false,
  recipient: { email: `p${k}@example.com`, name: null, company: null, position: null },
  step: 1,
  variant: v,
  firstVariant: null,
  thread: [],
});
const sent = (c: Claimed, messageId: string, nextDueAt?: number | null, account?: string) => ({
  sendId: c.sendId,
  messageId,
  response: '250 ok',
  ...(account ? { account } : {}),
  ...(nextDueAt !== undefined
    ? { sequence: { campaignId: cmp, contactId: c.contactId, step: c.step, nextDueAt } }
    : {}),
});

describe.each(dialects)('the send ledger (%s)', (dialect) => {
  it('claims new people by contact id after the cursor, one row each, settling the sent in the same claim', async () => {
    const { ids, sends, sendRow } = await setup(dialect);
    const first = await sends.claim(oneStep, 2, t0, 0, []);
    expect(first).toEqual([fresh(1, ids[0]!), fresh(2, ids[1]!)]);
    expect(await sendRow(first[0]!.sendId)).toMatchObject({
      status: 'claimed',
      run: 1,
      step: 1,
      attempts: 0,
    });

    const second = await sends.claim(oneStep, 2, t0 + 1, ids[1]!, [sent(first[0]!, '<cb.1@x>')]);
    expect(second).toEqual([fresh(3, ids[2]!), fresh(4, ids[3]!)]);
    expect(await sendRow(first[0]!.sendId)).toMatchObject({
      status: 'sent',
      attempts: 1,
      message_id: '<cb.1@x>',
      response: '250 ok',
      updated_at: t0 + 1,
    });
    // A claim for no one still settles what it was given.
    expect(await sends.claim(oneStep, 0, t0 + 2, ids[3]!, [sent(first[1]!, '<cb.2@x>')])).toEqual([]);
    expect((await sendRow(first[1]!.sendId)).status).toBe('sent');

    expect(await sends.claim(oneStep, 5, t0 + 3, ids[3]!, [])).toEqual([fresh(5, ids[4]!)]);
    expect(await sends.claim(oneStep, 5, t0 + 3, 0, [])).toEqual([]);
    expect(await sends.countRun(cmp, 1)).toBe(5);
    expect(await sends.countRun(cmp, 2)).toBe(0);
    expect(await sends.countSince(cmp, t0 + 1)).toBe(3);
    // Another run of the campaign (a drip) claims no one already in the ledger.
    expect(await sends.claim({ ...oneStep, runCount: 2 }, 5, t0 + 4, 0, [])).toEqual([]);
  });

  it('claims only the audience: not inactive, suppressed, without a mail domain, nor from an inactive batch', async () => {
    const { t, ids, sends } = await setup(dialect, 6);
    await t.query(`UPDATE contacts SET status = 'inactive' WHERE id = $1`, [ids[1]]);
    await t.query(
      `INSERT INTO suppressions (email_hash, reason, actor, created_at) VALUES ($1, 'manual', 'U1', $2)`,
      [emailHash('p3@example.com'), seedAt],
    );
    await t.query(`UPDATE contacts SET validation = 'no_mail_domain' WHERE id IN ($1, $2)`, [ids[3], ids[4]]);
    await t.query(`UPDATE batches SET include_invalid_domains = $1 WHERE id = $2`, [false, batch]);
    // A completed campaign sending again takes only its re-queued rows: no one new.
    expect(await sends.claim({ ...oneStep, completedAt: t0 }, 10, t0, 0, [])).toEqual([]);
    expect((await sends.claim(oneStep, 10, t0, 0, [])).map((c) => c.contactId)).toEqual([ids[0], ids[5]]);
    await t.query(`UPDATE batches SET include_invalid_domains = $1 WHERE id = $2`, [true, batch]);
    expect((await sends.claim(oneStep, 10, t0, 0, [])).map((c) => c.contactId)).toEqual([ids[3], ids[4]]);
    await t.query(`UPDATE contacts SET status = 'active' WHERE id = $1`, [ids[1]]);
    await t.query(`UPDATE batches SET status = 'inactive' WHERE id = $1`, [batch]);
    expect(await sends.claim(oneStep, 10, t0, 0, [])).toEqual([]);
  });

  it('retries: due ones first and oldest due first, only when told, failed when no retry is left', async () => {
    const { ids, sends, sendRow } = await setup(dialect);
    expect(await sends.nextRetryAt(cmp)).toBeNull();
    const [a, b, c] = await sends.claim(oneStep, 3, t0, 0, []);
    await sends.settleRetry(a!.sendId, 1, t0 + 60_000, '451 later', t0 + 1);
    await sends.settleRetry(b!.sendId, 1, t0 + 30_000, '451 busy', t0 + 1);
    await sends.settleRetry(c!.sendId, 2, null, `452 ${'x'.repeat(600)}`, t0 + 1);
    expect(await sendRow(a!.sendId)).toMatchObject({
      status: 'retry',
      attempts: 1,
      next_attempt_at: t0 + 60_000,
      response: '451 later',
      updated_at: t0 + 1,
    });
    const failed = await sendRow(c!.sendId);
    expect(failed).toMatchObject({ status: 'failed', attempts: 2, next_attempt_at: null });
    expect(failed.response).toHaveLength(500);
    expect(await sends.nextRetryAt(cmp)).toBe(t0 + 30_000);
    expect(await sends.hasPendingWork(cmp)).toBe(true);

    const now = t0 + 120_000;
    const news = await sends.claim(oneStep, 5, now, ids[2]!, [], false);
    expect(news.map((x) => [x.contactId, x.retry])).toEqual([
      [ids[3], false],
      [ids[4], false],
    ]);
    expect((await sendRow(a!.sendId)).status).toBe('retry');
    // Not due yet: nothing.
    expect(await sends.claim(oneStep, 5, t0 + 10_000, ids[4]!, [], true)).toEqual([]);

    const due = await sends.claim(oneStep, 5, now, ids[4]!, [], true);
    expect(due).toEqual([
      { ...fresh(2, ids[1]!), sendId: b!.sendId, attempts: 1, retry: true },
      { ...fresh(1, ids[0]!), sendId: a!.sendId, attempts: 1, retry: true },
    ]);
    // Claimed again, keeping the first claim's time (daily limits count people, not attempts).
    expect(await sendRow(a!.sendId)).toMatchObject({ status: 'claimed', claimed_at: t0, attempts: 1 });
    expect(await sends.nextRetryAt(cmp)).toBeNull();
    // Claimed rows are still being sent (maybe by another instance): the run is not over.
    expect(await sends.hasPendingWork(cmp)).toBe(true);
  });

  it('fails the due retries of people who left the audience, and only those', async () => {
    const { t, ids, sends, sendRow } = await setup(dialect, 3);
    const [a, b, c] = await sends.claim(oneStep, 3, t0, 0, []);
    for (const x of [a, b, c]) await sends.settleRetry(x!.sendId, 1, t0 + 10, '451 later', t0);
    await t.query(`UPDATE contacts SET status = 'unsubscribed' WHERE id = $1`, [ids[0]]);
    await t.query(`UPDATE sends SET next_attempt_at = $1 WHERE id = $2`, [t0 + 99, c!.sendId]);
    await t.query(`UPDATE contacts SET status = 'inactive' WHERE id = $1`, [ids[2]]);
    expect((await sends.claim(oneStep, 5, t0 + 20, 99_999, [])).map((x) => x.sendId)).toEqual([b!.sendId]);
    expect(await sendRow(a!.sendId)).toMatchObject({
      status: 'failed',
      attempts: 1,
      updated_at: t0 + 20,
      response: 'not retried: no longer in the audience (inactive, suppressed, deleted or batch deactivated)',
    });
    // Not due yet: left alone until it is.
    expect((await sendRow(c!.sendId)).status).toBe('retry');
  });

  it('settles: sent with or without an identity, unknown, bounced, and rows a crash left claimed', async () => {
    const { sends, sendRow, markBounced: bounce } = await setup(dialect, 6);
    const [a, b, c, d, e, f] = await sends.claim(oneStep, 6, t0, 0, []);
    await sends.settleSent(
      [sent(a!, '<cb.a@x>'), sent(b!, '<cb.b@x>', undefined, 'smtp.x.com:587:me')],
      t0 + 1,
    );
    expect(await sendRow(a!.sendId)).toMatchObject({ status: 'sent', account: null, message_id: '<cb.a@x>' });
    expect(await sendRow(b!.sendId)).toMatchObject({
      status: 'sent',
      attempts: 1,
      account: 'smtp.x.com:587:me',
      message_id: '<cb.b@x>',
      next_attempt_at: null,
    });
    await sends.settleUnknown(c!.sendId, `timeout ${'y'.repeat(600)}`, t0 + 2);
    const unknown = await sendRow(c!.sendId);
    expect(unknown).toMatchObject({ status: 'unknown', attempts: 1, updated_at: t0 + 2 });
    expect(unknown.response).toHaveLength(500);
    await bounce({ sendId: d!.sendId, attempts: 1, response: '550 no such user', at: t0 + 3 });
    expect(await sendRow(d!.sendId)).toMatchObject({
      status: 'bounced',
      attempts: 1,
      response: '550 no such user',
    });
    await sends.settleRetry(e!.sendId, 3, null, '452 full', t0 + 4);

    expect(await sends.markClaimedUnknown(t0 + 5)).toBe(1);
    expect(await sendRow(f!.sendId)).toMatchObject({
      status: 'unknown',
      attempts: 1,
      response: 'the app stopped during delivery: not re-sent',
      updated_at: t0 + 5,
    });
    expect(await sends.markClaimedUnknown(t0 + 6)).toBe(0);
    // Attempted: sent, bounced and failed (an unknown is not counted); bounced apart.
    expect(await sends.runStats(cmp, 1)).toEqual({ attempted: 4, bounced: 1 });
    expect(await sends.runStats(cmp, 2)).toEqual({ attempted: 0, bounced: 0 });
  });

  it("erases a person's SMTP answers by contact or by address", async () => {
    const { t, ids, sends, erase, sendRow } = await setup(dialect, 3);
    const [a, b, c] = await sends.claim(oneStep, 3, t0, 0, []);
    await sends.settleSent([sent(a!, '<a@x>'), sent(b!, '<b@x>'), sent(c!, '<c@x>')], t0);
    // Row c's contact was erased (contact_id NULL): only its hash finds it.
    await t.query('UPDATE sends SET contact_id = NULL WHERE id = $1', [c!.sendId]);
    expect(await erase(ids[0]!, emailHash('p3@example.com'))).toBe(2);
    expect((await sendRow(a!.sendId)).response).toBeNull();
    expect((await sendRow(c!.sendId)).response).toBeNull();
    expect((await sendRow(b!.sendId)).response).toBe('250 ok');
    expect(await erase(null, emailHash('p2@example.com'))).toBe(1);
    expect(await erase(null, emailHash('nobody@example.com'))).toBe(0);
  });

  it('applies a hard bounce: ledger row, contact with history, suppression, sequences stopped, webhooks', async () => {
    const { t, ids, sends, sendRow, people, hardBounce } = await setup(dialect, 2);
    const [a] = await sends.claim(sequence(2), 1, t0, 0, []);
    await sends.settleSent([sent(a!, '<a@x>', t0 + 100)], t0 + 1);
    const record: BounceRecord = {
      campaignId: cmp,
      contactId: ids[0]!,
      email: 'p1@example.com',
      emailHash: emailHash('p1@example.com'),
      response: '550 5.1.1 no such user',
      at: t0 + 2,
      ledger: { sendId: a!.sendId, attempts: 2 },
    };
    const webhook = {
      event: 'contact.bounced' as const,
      url: 'https://hooks.test/a',
      payload: '{}',
      createdAt: t0,
      nextAttemptAt: t0,
    };
    await hardBounce(record, { reason: 'hard bounce', webhooks: [webhook] });
    expect(await sendRow(a!.sendId)).toMatchObject({
      status: 'bounced',
      attempts: 2,
      response: '550 5.1.1 no such user',
    });
    expect(await t.query('SELECT status FROM contacts WHERE id = $1', [ids[0]])).toEqual([
      { status: 'bounced' },
    ]);
    expect(
      await t.query(
        'SELECT from_status, to_status, actor, reason FROM contact_history WHERE contact_id = $1',
        [ids[0]],
      ),
    ).toEqual([{ from_status: 'active', to_status: 'bounced', actor: 'system', reason: 'hard bounce' }]);
    expect(
      await t.query('SELECT reason FROM suppressions WHERE email_hash = $1', [record.emailHash]),
    ).toEqual([{ reason: 'bounced' }]);
    expect(await t.query('SELECT event, url FROM webhook_deliveries')).toEqual([
      { event: 'contact.bounced', url: 'https://hooks.test/a' },
    ]);
    expect(await people()).toEqual([
      { contact_id: ids[0], step: 1, next_due_at: null, stop_reason: 'bounced' },
    ]);
    // A contact deleted since its claim: the row and the address all the same.
    await hardBounce(
      { ...record, contactId: 0, ledger: { sendId: a!.sendId, attempts: 3 } },
      { reason: 'x', webhooks: [] },
    );
    expect((await sendRow(a!.sendId)).attempts).toBe(3);
  });
});

describe.each(dialects)('sequences in the ledger (%s)', (dialect) => {
  it('step 1 with variants, sent marks, follow-ups due oldest first, threaded from the same identity', async () => {
    const { ids, sends, sequences, people } = await setup(dialect, 3);
    const [p1, p2, p3] = ids as [number, number, number];
    const seq = sequence(3);
    const first = await sends.claim(seq, 10, t0, 0, []);
    expect(first).toEqual([
      fresh(1, p1, variant(1, p1)),
      fresh(2, p2, variant(1, p2)),
      fresh(3, p3, variant(1, p3)),
    ]);
    expect(await sequences.people(cmp, { afterContactId: 0, limit: 10 })).toEqual(
      [1, 2, 3].map((k) => ({
        campaignId: cmp,
        contactId: ids[k - 1],
        email: `p${k}@example.com`,
        state: 'waiting',
        step: 0,
        inFlight: true,
        nextDueAt: null,
        stopReason: null,
        stoppedAt: null,
      })),
    );
    const [a1, a2, a3] = first as [Claimed, Claimed, Claimed];
    const marks = [
      sent(a1, '<m1@x>', t0 + 1000, 'acct-A'),
      sent(a2, '<m2@x>', t0 + 2000),
      sent(a3, '<m3@x>', t0 + 5000),
    ];
    expect(await sends.claim(seq, 0, t0 + 1, p3, marks)).toEqual([]);
    expect(await people()).toEqual([
      { contact_id: p1, step: 1, next_due_at: t0 + 1000, stop_reason: null },
      { contact_id: p2, step: 1, next_due_at: t0 + 2000, stop_reason: null },
      { contact_id: p3, step: 1, next_due_at: t0 + 5000, stop_reason: null },
    ]);
    expect(await sends.hasPendingWork(cmp)).toBe(true);
    expect(await sequences.person(cmp, p1)).toMatchObject({ state: 'waiting', step: 1, inFlight: false });

    const [b1, ...rest] = await sends.claim(seq, 10, t0 + 1500, p3, []);
    expect(rest).toEqual([]);
    expect(b1).toEqual({
      ...fresh(1, p1, variant(2, p1)),
      sendId: expect.any(Number),
      step: 2,
      firstVariant: variant(1, p1),
      thread: ['<m1@x>'],
      account: 'acct-A',
    });
    expect(await sequences.person(cmp, p1)).toMatchObject({
      state: 'waiting',
      step: 1,
      inFlight: true,
      nextDueAt: null,
    });
    await sends.settleSent([sent(b1!, '<m1b@x>', t0 + 3000, 'acct-B')], t0 + 1600);
    expect(await sequences.person(cmp, p1)).toMatchObject({
      state: 'waiting',
      step: 2,
      nextDueAt: t0 + 3000,
    });

    const next = await sends.claim(seq, 10, t0 + 3500, p3, []);
    expect(next).toEqual([
      { ...fresh(2, p2, variant(2, p2)), step: 2, firstVariant: variant(1, p2), thread: ['<m2@x>'] },
      {
        ...fresh(1, p1, null),
        step: 3,
        firstVariant: variant(1, p1),
        thread: ['<m1@x>', '<m1b@x>'],
        account: 'acct-B',
      },
    ]);
    await sends.settleSent([sent(next[1]!, '<m1c@x>', null)], t0 + 3600);
    expect(await sequences.people(cmp, { state: 'finished', afterContactId: 0, limit: 10 })).toEqual([
      expect.objectContaining({
        contactId: p1,
        step: 3,
        state: 'finished',
        inFlight: false,
        nextDueAt: null,
      }),
    ]);
    expect(
      (await sequences.people(cmp, { state: 'waiting', afterContactId: p2, limit: 10 })).map(
        (p) => p.contactId,
      ),
    ).toEqual([p3]);
    expect(await sequences.people(cmp, { afterContactId: 0, limit: 1 })).toHaveLength(1);
  });

  it('due people out of the audience stop; a shorter sequence or an existing row finishes them', async () => {
    const { t, ids, sends, sequences, people } = await setup(dialect, 4);
    const [p1, p2, p3, p4] = ids as [number, number, number, number];
    const first = await sends.claim(sequence(3), 10, t0, 0, []);
    await sends.settleSent(
      first.map((c, i) => sent(c, `<m${i}@x>`, t0 + 100)),
      t0 + 1,
    );
    await t.query(`UPDATE contacts SET status = 'replied' WHERE id = $1`, [p1]);
    await t.query(
      `INSERT INTO suppressions (email_hash, reason, actor, created_at) VALUES ($1, 'manual', 'U1', $2)`,
      [emailHash('p2@example.com'), seedAt],
    );
    await t.query(
      `INSERT INTO sends (campaign_id, contact_id, email_hash, run, step, status, attempts, claimed_at, updated_at)
       VALUES ($1, $2, $3, 1, 2, 'sent', 1, $4, $4)`,
      [cmp, p4, emailHash('p4@example.com'), t0 + 50],
    );
    const claimed = await sends.claim(sequence(3), 10, t0 + 200, p4, []);
    expect(claimed.map((c) => [c.contactId, c.step])).toEqual([[p3, 2]]);
    expect(await people()).toEqual([
      { contact_id: p1, step: 1, next_due_at: null, stop_reason: 'replied' },
      { contact_id: p2, step: 1, next_due_at: null, stop_reason: 'left_audience' },
      { contact_id: p3, step: 2, next_due_at: null, stop_reason: null },
      { contact_id: p4, step: 1, next_due_at: null, stop_reason: null },
    ]);
    expect(await t.query('SELECT count(*) AS n FROM sends WHERE contact_id = $1', [p4])).toEqual([{ n: 2 }]);
    expect(await sequences.person(cmp, p1)).toMatchObject({
      state: 'stopped',
      stopReason: 'replied',
      stoppedAt: t0 + 200,
    });

    await sends.settleSent([sent(claimed[0]!, '<m3b@x>', t0 + 300)], t0 + 201);
    // The campaign now has two steps: person 3's step 3 is not to come.
    expect(await sends.claim(sequence(2), 10, t0 + 400, p4, [])).toEqual([]);
    expect((await people())[2]).toEqual({ contact_id: p3, step: 2, next_due_at: null, stop_reason: null });
    expect(await sends.hasPendingWork(cmp)).toBe(false);
    expect(
      (await sequences.people(cmp, { afterContactId: 0, limit: 10 })).map((p) => [
        p.contactId,
        p.state,
        p.step,
      ]),
    ).toEqual([
      [p1, 'stopped', 1],
      [p2, 'stopped', 1],
      [p3, 'finished', 2],
      [p4, 'finished', 1],
    ]);
  });

  it('the sent mark stops who left while in flight and keeps a stop; Stop sequence', async () => {
    const { t, ids, sends, sequences, people } = await setup(dialect, 3);
    const [p1, p2, p3] = ids as [number, number, number];
    const first = await sends.claim(sequence(3), 10, t0, 0, []);
    // Before step 1 is sent there is nothing to stop.
    expect(await sequences.stop(cmp, p2, t0)).toEqual({
      kind: 'not_waiting',
      person: expect.objectContaining({ contactId: p2, state: 'waiting', inFlight: true, step: 0 }),
    });
    await t.query(`UPDATE contacts SET status = 'unsubscribed' WHERE id = $1`, [p1]);
    await t.query('DELETE FROM contacts WHERE id = $1', [p3]);
    await sends.settleSent(
      first.map((c, i) => sent(c, `<m${i}@x>`, t0 + 100)),
      t0 + 1,
    );
    expect(await people()).toEqual([
      { contact_id: p1, step: 1, next_due_at: null, stop_reason: 'unsubscribed' },
      { contact_id: p2, step: 1, next_due_at: t0 + 100, stop_reason: null },
    ]);
    const stopped = await sequences.stop(cmp, p2, t0 + 2);
    expect(stopped).toEqual({
      kind: 'stopped',
      person: {
        campaignId: cmp,
        contactId: p2,
        email: 'p2@example.com',
        state: 'stopped',
        step: 1,
        inFlight: false,
        nextDueAt: null,
        stopReason: 'stopped',
        stoppedAt: t0 + 2,
      },
    });
    expect(stopped.kind).toBe('stopped');
    const person = stopped.kind === 'stopped' ? stopped.person : null;
    expect(await sequences.stop(cmp, p2, t0 + 3)).toEqual({ kind: 'not_waiting', person });
    expect(await sequences.stop(cmp, 99_999, t0 + 3)).toEqual({ kind: 'missing' });
    // A later sent mark leaves a stopped person stopped.
    await sends.settleSent([sent(first[1]!, '<again@x>', t0 + 500)], t0 + 4);
    expect((await people())[1]).toEqual({
      contact_id: p2,
      step: 1,
      next_due_at: null,
      stop_reason: 'stopped',
    });
    expect(await sequences.person(cmp, p3)).toBeNull();
  });

  it('a due retry of a follow-up keeps its thread; one whose contact left fails and stops the person', async () => {
    const { t, ids, sends, sequences, sendRow } = await setup(dialect, 2);
    const [p1, p2] = ids as [number, number];
    const seq = sequence(3);
    const first = await sends.claim(seq, 10, t0, 0, []);
    await sends.settleSent(
      first.map((c, i) => sent(c, `<m${i}@x>`, t0 + 10, 'acct-A')),
      t0 + 1,
    );
    const second = await sends.claim(seq, 10, t0 + 20, p2, []);
    expect(second.map((c) => c.step)).toEqual([2, 2]);
    for (const c of second) await sends.settleRetry(c.sendId, 1, t0 + 30, '451 later', t0 + 21);
    await t.query(`UPDATE contacts SET status = 'complained' WHERE id = $1`, [p2]);
    expect(await sends.claim(seq, 10, t0 + 40, p2, [])).toEqual([
      {
        ...fresh(1, p1, variant(2, p1)),
        sendId: second[0]!.sendId,
        attempts: 1,
        retry: true,
        step: 2,
        firstVariant: variant(1, p1),
        thread: ['<m0@x>'],
        account: 'acct-A',
      },
    ]);
    expect((await sendRow(second[1]!.sendId)).status).toBe('failed');
    expect(await sequences.person(cmp, p2)).toMatchObject({
      state: 'stopped',
      step: 1,
      stopReason: 'complained',
      stoppedAt: t0 + 40,
    });
    expect(await sequences.person(cmp, p1)).toMatchObject({ state: 'waiting', step: 1, inFlight: true });
  });

  it("lists a contact's sequences newest campaign first, with the campaign's name", async () => {
    const { t, ids, sends, sequences } = await setup(dialect, 1);
    await seedCampaign(t, 'cmp_2', { createdAt: seedAt + 10 });
    await seedCampaign(t, 'cmp_3', { createdAt: seedAt + 20 });
    for (const id of [cmp, 'cmp_2']) {
      const target = { ...sequence(2), id };
      const [c] = await sends.claim(target, 1, t0, 0, []);
      await sends.settleSent(
        [
          {
            ...sent(c!, `<${id}@x>`, t0 + 5),
            sequence: { campaignId: id, contactId: ids[0]!, step: 1, nextDueAt: t0 + 5 },
          },
        ],
        t0,
      );
    }
    // A one-step campaign has no sequence to list.
    await sends.claim({ ...oneStep, id: 'cmp_3' }, 1, t0, 0, []);
    const listed = await sequences.ofContact(ids[0]!, 10);
    expect(listed.map((r) => [r.campaignId, r.campaignName, r.state])).toEqual([
      ['cmp_2', 'Campaign cmp_2', 'waiting'],
      [cmp, 'Campaign cmp_1', 'waiting'],
    ]);
    expect(await sequences.ofContact(ids[0]!, 1)).toHaveLength(1);
  });
});

describe('the send ledger on Postgres shared by several instances', () => {
  const pools: PgDb[] = [];
  afterEach(async () => {
    await Promise.all(pools.splice(0).map((p) => p.$client.end()));
  });

  it('three pools claiming the same campaign at once never get the same contact and together get everyone once', async () => {
    const { db, url, drop } = await freshPg();
    open = pgTestDatabase(db, drop);
    const n = 240;
    await seedBatch(open, batch);
    const ids = await seedContacts(open, batch, emails(n));
    await seedCampaign(open, cmp);
    for (let i = 0; i < 3; i++) pools.push(openPg(url, { max: 2 }));
    const stores = pools.map((p) => new PgSendStore(p));

    // New people: each instance goes on from its own cursor until no one is left after it.
    const newPeople = await Promise.all(
      stores.map(async (s) => {
        const got: Claimed[] = [];
        for (let after = 0; ; ) {
          const batchOf = await s.claim(oneStep, 7, t0, after, []);
          if (batchOf.length === 0) return got;
          got.push(...batchOf);
          after = Math.max(after, ...batchOf.map((c) => c.contactId));
        }
      }),
    );
    // Every instance took a share (each claim fills its limit, reading past the others' people).
    expect(newPeople.every((g) => g.length >= 7)).toBe(true);
    const contacts = newPeople.flat().map((c) => c.contactId);
    expect(new Set(contacts).size).toBe(contacts.length);
    expect([...contacts].sort((a, b) => a - b)).toEqual(ids);
    expect(await open.query('SELECT count(*) AS n, count(DISTINCT contact_id) AS d FROM sends')).toEqual([
      { n: n, d: n },
    ]);

    // Retries: every row due at once, each claimed by one instance.
    await open.query(`UPDATE sends SET status = 'retry', next_attempt_at = $1`, [t0]);
    const retried = await Promise.all(
      stores.map(async (s) => {
        const got: number[] = [];
        for (;;) {
          const batchOf = await s.claim(oneStep, 5, t0 + 1, Number.MAX_SAFE_INTEGER, []);
          if (batchOf.length === 0) return got;
          got.push(...batchOf.map((c) => c.sendId));
        }
      }),
    );
    expect(new Set(retried.flat()).size).toBe(n);
    expect(retried.flat()).toHaveLength(n);

    // Follow-ups: everyone due for step 2 at once, each claimed by one instance, one row each.
    await open.query(`UPDATE sends SET status = 'sent'`);
    await open.query(
      `INSERT INTO sequence_people (campaign_id, contact_id, step, next_due_at, last_send_id, updated_at)
       SELECT campaign_id, contact_id, 1, $1, id, $1 FROM sends`,
      [t0],
    );
    const followed = await Promise.all(
      stores.map(async (s) => {
        const got: Claimed[] = [];
        for (;;) {
          const batchOf = await s.claim(sequence(2), 5, t0 + 1, Number.MAX_SAFE_INTEGER, [], false);
          if (batchOf.length === 0) return got;
          got.push(...batchOf);
        }
      }),
    );
    const stepTwo = followed.flat();
    expect(stepTwo.every((c) => c.step === 2)).toBe(true);
    expect(new Set(stepTwo.map((c) => c.contactId)).size).toBe(n);
    expect(stepTwo).toHaveLength(n);
    expect(await open.query('SELECT count(*) AS n FROM sends WHERE step = 2')).toEqual([{ n }]);
  });

  it('a claim skips what another transaction holds: a retry row, a due person', async () => {
    const { db, drop } = await freshPg();
    open = pgTestDatabase(db, drop);
    await seedBatch(open, batch);
    const ids = await seedContacts(open, batch, emails(3));
    await seedCampaign(open, cmp);
    const store = new PgSendStore(db);
    const [a, b] = await store.claim(oneStep, 2, t0, 0, []);
    await open.query(`UPDATE sends SET status = 'retry', next_attempt_at = $1`, [t0]);
    const other = await db.$client.connect();
    try {
      await other.query('BEGIN');
      await other.query('SELECT id FROM sends WHERE id = $1 FOR UPDATE', [a!.sendId]);
      expect((await store.claim(oneStep, 5, t0 + 1, ids[2]!, [])).map((c) => c.sendId)).toEqual([b!.sendId]);
      await other.query('ROLLBACK');
      expect((await store.claim(oneStep, 5, t0 + 1, ids[2]!, [])).map((c) => c.sendId)).toEqual([a!.sendId]);

      await open.query(`UPDATE sends SET status = 'sent'`);
      await open.query(
        `INSERT INTO sequence_people (campaign_id, contact_id, step, next_due_at, last_send_id, updated_at)
         SELECT campaign_id, contact_id, 1, $1, id, $1 FROM sends`,
        [t0],
      );
      await other.query('BEGIN');
      await other.query('SELECT 1 FROM sequence_people WHERE contact_id = $1 FOR UPDATE', [ids[0]]);
      const due = await store.claim(sequence(2), 5, t0 + 1, Number.MAX_SAFE_INTEGER, [], false);
      expect(due.map((c) => c.contactId)).toEqual([ids[1]]);
      await other.query('COMMIT');
    } finally {
      other.release();
    }
  });

  it('a contact another instance is claiming is skipped once it commits, and the claim reads on to fill its limit', async () => {
    const { db, drop } = await freshPg();
    open = pgTestDatabase(db, drop);
    await seedBatch(open, batch);
    const ids = await seedContacts(open, batch, emails(4));
    await seedCampaign(open, cmp);
    const store = new PgSendStore(db);
    const other = await db.$client.connect();
    try {
      await other.query('BEGIN');
      await other.query(
        `INSERT INTO sends (campaign_id, contact_id, email_hash, run, status, attempts, claimed_at, updated_at)
         VALUES ($1, $2, $3, 1, 'claimed', 0, $4, $4)`,
        [cmp, ids[0], emailHash('p1@example.com'), t0],
      );
      const claim = store.claim(oneStep, 2, t0, 0, []);
      // The claim waits on the other transaction's row for contact 1 (the unique index)…
      const waiting = async () =>
        (
          await open!.query<{ n: number }>(
            `SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`,
          )
        )[0]!.n;
      for (let i = 0; i < 200 && (await waiting()) === 0; i++) await new Promise((r) => setTimeout(r, 10));
      expect(await waiting()).toBe(1);
      await other.query('COMMIT');
      // …then skips contact 1 (taken) and reads on: still two people, none twice.
      expect((await claim).map((c) => c.contactId)).toEqual([ids[1], ids[2]]);
    } finally {
      other.release();
    }
    expect(await open.query('SELECT count(*) AS n FROM sends')).toEqual([{ n: 3 }]);
  });

  it('a contact deleted while a claim reads it is left out, never a broken reference', async () => {
    const { db, drop } = await freshPg();
    open = pgTestDatabase(db, drop);
    await seedBatch(open, batch);
    const ids = await seedContacts(open, batch, emails(4));
    await seedCampaign(open, cmp);
    const store = new PgSendStore(db);
    const other = await db.$client.connect();
    try {
      await other.query('BEGIN');
      await other.query('DELETE FROM contacts WHERE id = $1', [ids[0]]);
      const claim = store.claim(oneStep, 2, t0, 0, []);
      await new Promise((r) => setTimeout(r, 100));
      await other.query('COMMIT');
      expect((await claim).map((c) => c.contactId)).toEqual([ids[1], ids[2]]);
    } finally {
      other.release();
    }
  });
});
