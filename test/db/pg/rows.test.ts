import { desc } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import type { StepStatusCount } from '../../../src/core/audience/audience-store.js';
import type { ActivationChange, ActivationResult } from '../../../src/core/batches/batch-store.js';
import type { SendStatusCount } from '../../../src/core/campaigns/campaign-store.js';
import type { Unsubscribed, UnsubscribeEffects } from '../../../src/core/campaigns/unsubscribe-store.js';
import type { StatusChangeResult } from '../../../src/core/contacts/contact-store.js';
import { emailHash } from '../../../src/core/keys.js';
import type { ContactStatus, SequenceStopReason, SuppressionReason } from '../../../src/core/vocabulary.js';
import type { WebhookDelivery } from '../../../src/core/webhooks/webhook-store.js';
import * as pgBatch from '../../../src/db/pg/batch-rows.js';
import { inTransaction, type PgExec, rows } from '../../../src/db/pg/client.js';
import * as pgStatus from '../../../src/db/pg/contact-status.js';
import * as pgPage from '../../../src/db/pg/pagination-sql.js';
import * as pgSchema from '../../../src/db/pg/schema.js';
import { SendCounts as PgSendCounts } from '../../../src/db/pg/send-counts.js';
import * as pgSeq from '../../../src/db/pg/sequence-rows.js';
import * as pgSup from '../../../src/db/pg/suppression-rows.js';
import * as pgUnsub from '../../../src/db/pg/unsubscribe-rows.js';
import * as pgHooks from '../../../src/db/pg/webhook-rows.js';
import * as sqSchema from '../../../src/db/schema.js';
import * as sqBatch from '../../../src/db/sqlite/batch-rows.js';
import * as sqStatus from '../../../src/db/sqlite/contact-status.js';
import * as sqPage from '../../../src/db/sqlite/pagination-sql.js';
import { SendCounts as SqSendCounts } from '../../../src/db/sqlite/send-counts.js';
import * as sqSeq from '../../../src/db/sqlite/sequence-rows.js';
import * as sqSup from '../../../src/db/sqlite/suppression-rows.js';
import * as sqUnsub from '../../../src/db/sqlite/unsubscribe-rows.js';
import * as sqHooks from '../../../src/db/sqlite/webhook-rows.js';
import { dialects, openTestDatabase, type TestDatabase } from '../../pg/dialects.js';
import { seedAt, seedBatch, seedCampaign, seedContacts } from '../../pg/seed.js';

type Suppressed = { reason: SuppressionReason; actor: string; createdAt: number } | null;
type Cursor = readonly [number, string] | undefined;

/**
 * The shared rows modules of one dialect, each call in a transaction of its own: the SQLite
 * originals in a better-sqlite3 transaction, the Postgres twins in inTransaction. The same
 * scenario then runs on both and asserts the same outcomes.
 */
type Rows = {
  changeStatus(id: number, status: ContactStatus, now: number, actor?: string): Promise<StatusChangeResult>;
  deleteContact(id: number, reason: string | null, now: number): Promise<boolean>;
  eraseHistory(contactId: number | null, text: string, replacement: string): Promise<number>;
  suppress(hash: Buffer, reason: SuppressionReason, at: number): Promise<boolean>;
  findSuppression(hash: Buffer): Promise<Suppressed>;
  stop(target: pgSeq.StopTarget, reason: SequenceStopReason, at: number): Promise<number>;
  unsubscribe(sendId: number, now: number, effects: UnsubscribeEffects, actor?: string): Promise<boolean>;
  insertWebhooks(rows: readonly WebhookDelivery[] | undefined): Promise<void>;
  deleteWebhooksQuoting(text: string): Promise<number>;
  activate(id: string, change: ActivationChange): Promise<ActivationResult>;
  deactivate(id: string, change: { actor: string; reason: string | null; at: number }): Promise<void>;
  batchEvent(e: {
    batchId: string;
    kind: string;
    actor: string;
    reason: string | null;
    at: number;
  }): Promise<void>;
  dropCount(batchId: string, n: number): Promise<void>;
  dropCountWith(batchId: string, n: number): Promise<void>;
  eraseBatchTexts(text: string, replacement: string): Promise<{ events: number; reports: number }>;
  byStatus(campaignId: string): Promise<SendStatusCount[]>;
  byStep(campaignId: string): Promise<StepStatusCount[]>;
  byStatusIndexOnly(campaignId: string): Promise<{ status: string; n: number }[]>;
  /** A page of batch ids, newest first, older than the cursor. */
  newestBatches(cursor: Cursor, limit: number): Promise<{ id: string; createdAt: number }[]>;
};

function rowsOf(t: TestDatabase): Rows {
  if (t.dialect === 'sqlite') {
    const db = t.db;
    const c = db.$client;
    const counts = new SqSendCounts(c);
    const { batches } = sqSchema;
    return {
      changeStatus: async (id, status, now, actor = 'U1') =>
        db.transaction((tx) => sqStatus.changeContactStatus(tx, id, status, actor, 'why', now)),
      deleteContact: async (id, reason, now) =>
        db.transaction((tx) => sqStatus.deleteContact(tx, id, 'U1', reason, now)),
      eraseHistory: async (id, text, r) => db.transaction((tx) => sqStatus.eraseHistoryText(tx, id, text, r)),
      suppress: async (hash, reason, at) =>
        sqSup.suppressAddress(db, { emailHash: hash, reason, actor: 'U1', at }),
      findSuppression: async (hash) => sqSup.findSuppression(db, hash),
      stop: async (target, reason, at) => db.transaction((tx) => sqSeq.stopSequences(tx, target, reason, at)),
      unsubscribe: async (id, now, effects, actor) =>
        db.transaction((tx) => sqUnsub.unsubscribeSend(tx, id, now, effects, actor)),
      insertWebhooks: async (r) => sqHooks.insertWebhooks(db, r),
      deleteWebhooksQuoting: async (text) => sqHooks.deleteWebhooksQuoting(db, text),
      activate: async (id, change) => c.transaction(() => sqBatch.activateBatch(c, id, change))(),
      deactivate: async (id, change) => c.transaction(() => sqBatch.deactivateBatch(c, id, change))(),
      batchEvent: async (e) => sqBatch.insertBatchEvent(c, e),
      dropCount: async (id, n) => sqBatch.dropContactCount(c, id, n),
      dropCountWith: async (id, n) => db.transaction((tx) => sqBatch.dropContactCountWith(tx, id, n)),
      eraseBatchTexts: async (text, r) => c.transaction(() => sqBatch.eraseBatchTexts(c, text, r))(),
      byStatus: async (id) => counts.byStatus(id),
      byStep: async (id) => counts.byStep(id),
      byStatusIndexOnly: async (id) => counts.byStatusIndexOnly(id),
      newestBatches: async (cursor, limit) =>
        db
          .select({ id: batches.id, createdAt: batches.createdAt })
          .from(batches)
          .where(sqPage.olderThan(cursor, batches.createdAt, batches.id))
          .orderBy(desc(batches.createdAt), desc(batches.id))
          .limit(limit)
          .all(),
    };
  }
  const pool = t.db.$client;
  const tx = <T>(fn: (e: PgExec) => Promise<T>) => inTransaction(pool, fn);
  const counts = new PgSendCounts(pool);
  const { batches } = pgSchema;
  const db = t.db;
  return {
    changeStatus: (id, status, now, actor = 'U1') =>
      tx((e) => pgStatus.changeContactStatus(e, id, status, actor, 'why', now)),
    deleteContact: (id, reason, now) => tx((e) => pgStatus.deleteContact(e, id, 'U1', reason, now)),
    eraseHistory: (id, text, r) => tx((e) => pgStatus.eraseHistoryText(e, id, text, r)),
    suppress: (hash, reason, at) => pgSup.suppressAddress(pool, { emailHash: hash, reason, actor: 'U1', at }),
    findSuppression: (hash) => pgSup.findSuppression(pool, hash),
    stop: (target, reason, at) => tx((e) => pgSeq.stopSequences(e, target, reason, at)),
    unsubscribe: (id, now, effects, actor) => tx((e) => pgUnsub.unsubscribeSend(e, id, now, effects, actor)),
    insertWebhooks: (r) => pgHooks.insertWebhooks(pool, r),
    deleteWebhooksQuoting: (text) => pgHooks.deleteWebhooksQuoting(pool, text),
    activate: (id, change) => tx((e) => pgBatch.activateBatch(e, id, change)),
    deactivate: (id, change) => tx((e) => pgBatch.deactivateBatch(e, id, change)),
    batchEvent: (e) => pgBatch.insertBatchEvent(pool, e),
    dropCount: (id, n) => pgBatch.dropContactCount(pool, id, n),
    dropCountWith: (id, n) => tx((e) => pgBatch.dropContactCountWith(e, id, n)),
    eraseBatchTexts: (text, r) => tx((e) => pgBatch.eraseBatchTexts(e, text, r)),
    byStatus: (id) => counts.byStatus(id),
    byStep: (id) => counts.byStep(id),
    byStatusIndexOnly: (id) => counts.byStatusIndexOnly(id),
    newestBatches: (cursor, limit) =>
      db
        .select({ id: batches.id, createdAt: batches.createdAt })
        .from(batches)
        .where(pgPage.olderThan(cursor, batches.createdAt, batches.id))
        .orderBy(...pgPage.newestFirst(batches.createdAt, batches.id))
        .limit(limit),
  };
}

const b1 = 'batch_00000001_1760000000';
const b2 = 'batch_00000002_1760000000';
const b3 = 'batch_00000003_1760000000';
const later = seedAt + 60_000;

type SendSeed = {
  contact: number | null;
  status: string;
  step?: number;
  variant?: number;
  messageId?: string;
  unsub?: number;
  replied?: number;
  complained?: number;
  soft?: number;
};

/** One ledger row; its id. */
async function seedSend(t: TestDatabase, campaign: string, s: SendSeed): Promise<number> {
  const [r] = await t.query<{ id: number }>(
    `INSERT INTO sends (campaign_id, contact_id, email_hash, run, step, variant, status, message_id, claimed_at,
       updated_at, unsubscribed_at, replied_at, complained_at, soft_bounced_at)
     VALUES ($1, $2, $3, 1, $4, $5, $6, $7, $8, $8, $9, $10, $11, $12) RETURNING id`,
    [
      campaign,
      s.contact,
      emailHash(`${campaign}.${s.contact}.${s.step ?? 1}@x.test`),
      s.step ?? 1,
      s.variant ?? null,
      s.status,
      s.messageId ?? null,
      seedAt,
      s.unsub ?? null,
      s.replied ?? null,
      s.complained ?? null,
      s.soft ?? null,
    ],
  );
  return Number(r?.id);
}

async function seedPerson(
  t: TestDatabase,
  campaign: string,
  contact: number,
  p: { due?: number | null; stop?: string; lastSend?: number },
): Promise<void> {
  await t.query(
    `INSERT INTO sequence_people (campaign_id, contact_id, step, next_due_at, stop_reason, stopped_at, last_send_id, updated_at)
     VALUES ($1, $2, 1, $3, $4, $5, $6, $7)`,
    [campaign, contact, p.due ?? null, p.stop ?? null, p.stop ? seedAt : null, p.lastSend ?? null, seedAt],
  );
}

/** Every sequence person as [campaign, contact, stop reason, stopped at, next due], in key order. */
const people = (t: TestDatabase) =>
  t.query<{
    campaign: string;
    contact: number;
    stop: string | null;
    stoppedAt: number | null;
    due: number | null;
  }>(
    `SELECT campaign_id AS campaign, contact_id AS contact, stop_reason AS stop, stopped_at AS "stoppedAt",
       next_due_at AS due FROM sequence_people ORDER BY campaign_id, contact_id`,
  );

const history = (t: TestDatabase) =>
  t.query(
    `SELECT contact_id AS contact, from_status AS "from", to_status AS "to", actor, reason, at
     FROM contact_history ORDER BY id`,
  );

const contactRow = async (t: TestDatabase, id: number) =>
  (await t.query(`SELECT status, updated_at AS "updatedAt" FROM contacts WHERE id = $1`, [id]))[0];

describe.each(dialects)('rows modules (%s)', (dialect) => {
  let t: TestDatabase | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });
  const open = async () => {
    t = await openTestDatabase(dialect);
    return { t, r: rowsOf(t) };
  };

  it('a status change writes history, suppresses, stops the sequences; a suppressed address stays refused', async () => {
    const { t, r } = await open();
    await seedBatch(t, b1);
    const [a, b, c] = await seedContacts(t, b1, ['a@x.test', 'b@x.test', 'c@x.test']);
    await seedCampaign(t, 'cmp_1');
    await seedPerson(t, 'cmp_1', a!, { due: later });
    await seedPerson(t, 'cmp_1', c!, { due: later });

    expect(await r.changeStatus(999, 'inactive', later)).toEqual({ kind: 'missing' });
    expect(await r.changeStatus(a!, 'bounced', later)).toEqual({ kind: 'changed', from: 'active' });
    expect(await r.changeStatus(a!, 'bounced', later + 1)).toEqual({ kind: 'unchanged', from: 'bounced' });
    expect(await contactRow(t, a!)).toEqual({ status: 'bounced', updatedAt: later });
    expect(await r.findSuppression(emailHash('a@x.test'))).toEqual({
      reason: 'bounced',
      actor: 'U1',
      createdAt: later,
    });
    // Back to active: refused while the address is suppressed, nothing written.
    expect(await r.changeStatus(a!, 'active', later + 2)).toEqual({ kind: 'suppressed', reason: 'bounced' });
    expect(await contactRow(t, a!)).toEqual({ status: 'bounced', updatedAt: later });

    // From replied a person may make it active again although suppressed; the entry stays.
    expect(await r.changeStatus(b!, 'replied', later)).toEqual({ kind: 'changed', from: 'active' });
    expect(await r.suppress(emailHash('b@x.test'), 'manual', later)).toBe(true);
    expect(await r.changeStatus(b!, 'active', later + 3, 'U2')).toEqual({ kind: 'changed', from: 'replied' });
    expect((await r.findSuppression(emailHash('b@x.test')))?.reason).toBe('manual');

    // Inactive: out of the audience (left_audience), no suppression.
    expect(await r.changeStatus(c!, 'inactive', later + 4)).toEqual({ kind: 'changed', from: 'active' });
    expect(await r.findSuppression(emailHash('c@x.test'))).toBeNull();

    expect(await history(t)).toEqual([
      { contact: a, from: 'active', to: 'bounced', actor: 'U1', reason: 'why', at: later },
      { contact: b, from: 'active', to: 'replied', actor: 'U1', reason: 'why', at: later },
      { contact: b, from: 'replied', to: 'active', actor: 'U2', reason: 'why', at: later + 3 },
      { contact: c, from: 'active', to: 'inactive', actor: 'U1', reason: 'why', at: later + 4 },
    ]);
    expect(await people(t)).toEqual([
      { campaign: 'cmp_1', contact: a, stop: 'bounced', stoppedAt: later, due: null },
      { campaign: 'cmp_1', contact: c, stop: 'left_audience', stoppedAt: later + 4, due: null },
    ]);
  });

  it('a deletion suppresses (first reason kept), keeps the history unlinked, lowers the count; texts erased', async () => {
    const { t, r } = await open();
    await seedBatch(t, b1);
    const [a, b] = await seedContacts(t, b1, ['a@x.test', 'b@x.test']);
    expect(await r.suppress(emailHash('b@x.test'), 'manual', seedAt)).toBe(true);
    expect(await r.suppress(emailHash('b@x.test'), 'bounced', later)).toBe(false);

    expect(await r.deleteContact(999, null, later)).toBe(false);
    expect(await r.deleteContact(a!, 'asked by a@x.test', later)).toBe(true);
    expect(await r.deleteContact(b!, null, later)).toBe(true);
    expect(await r.deleteContact(a!, null, later)).toBe(false);
    expect(await t.query('SELECT count(*) AS n FROM contacts')).toEqual([{ n: 0 }]);
    expect(await t.query('SELECT contact_count AS n FROM batches')).toEqual([{ n: 0 }]);
    expect(await r.findSuppression(emailHash('a@x.test'))).toEqual({
      reason: 'deleted',
      actor: 'U1',
      createdAt: later,
    });
    expect(await r.findSuppression(emailHash('b@x.test'))).toEqual({
      reason: 'manual',
      actor: 'U1',
      createdAt: seedAt,
    });
    expect(await history(t)).toEqual([
      { contact: null, from: 'active', to: 'deleted', actor: 'U1', reason: 'asked by a@x.test', at: later },
      { contact: null, from: 'active', to: 'deleted', actor: 'U1', reason: null, at: later },
    ]);

    // By text (any case in the row, the text lower-cased), and every reason of a contact.
    const [c] = await seedContacts(t, b1, ['c@x.test']);
    await r.changeStatus(c!, 'inactive', later);
    expect(await r.eraseHistory(null, 'a@x.test', '[erased]')).toBe(1);
    expect(await r.eraseHistory(null, 'a@x.test', '[erased]')).toBe(0);
    expect(await r.eraseHistory(c!, 'nobody', '[gone]')).toBe(1);
    expect((await history(t)).map((h) => h.reason)).toEqual(['[erased]', null, '[gone]']);
  });

  it('stops only waiting people, for every kind of target', async () => {
    const { t, r } = await open();
    await seedBatch(t, b1);
    const ids = await seedContacts(t, b1, [
      'p1@x.test',
      'p2@x.test',
      'p3@other.test',
      'p4@x.test',
      'p5@x.test',
    ]);
    const [p1, p2, p3, p4, p5] = ids as [number, number, number, number, number];
    await seedCampaign(t, 'cmp_1');
    await seedCampaign(t, 'cmp_2');
    const inFlight = await seedSend(t, 'cmp_1', { contact: p3, status: 'claimed' });
    const done = await seedSend(t, 'cmp_1', { contact: p4, status: 'sent' });
    await seedPerson(t, 'cmp_1', p1, { due: later });
    await seedPerson(t, 'cmp_1', p2, { due: later });
    await seedPerson(t, 'cmp_1', p3, { lastSend: inFlight });
    await seedPerson(t, 'cmp_1', p4, { lastSend: done });
    await seedPerson(t, 'cmp_1', p5, { due: later, stop: 'replied' });
    await seedPerson(t, 'cmp_2', p1, { due: later });
    await seedPerson(t, 'cmp_2', p5, { due: later });

    const at = later + 1000;
    expect(await r.stop({ contactIds: [] }, 'bounced', at)).toBe(0);
    expect(await r.stop({ campaignId: 'cmp_1', contactId: p1 }, 'stopped', at)).toBe(1);
    expect(await r.stop({ campaignId: 'cmp_1', contactId: p1 }, 'replied', at + 1)).toBe(0);
    expect(await r.stop({ contactIds: [p2, p4, p5] }, 'bounced', at)).toBe(2);
    expect(await r.stop({ emailHash: emailHash('p1@x.test') }, 'unsubscribed', at)).toBe(1);
    // LIKE ignores ASCII case on SQLite: the Postgres twin means the same.
    expect(await r.stop({ emailLike: ['%@OTHER.test', '%@%.other.test'] }, 'left_audience', at)).toBe(1);
    await seedPerson(t, 'cmp_2', p2, { due: later });
    expect(await r.stop({ campaign: 'cmp_2' }, 'cancelled', at + 2)).toBe(1);
    expect(await r.stop({ campaign: 'cmp_2' }, 'cancelled', at + 3)).toBe(0);

    expect(await people(t)).toEqual([
      { campaign: 'cmp_1', contact: p1, stop: 'stopped', stoppedAt: at, due: null },
      { campaign: 'cmp_1', contact: p2, stop: 'bounced', stoppedAt: at, due: null },
      { campaign: 'cmp_1', contact: p3, stop: 'left_audience', stoppedAt: at, due: null },
      { campaign: 'cmp_1', contact: p4, stop: null, stoppedAt: null, due: null },
      { campaign: 'cmp_1', contact: p5, stop: 'replied', stoppedAt: seedAt, due: later },
      { campaign: 'cmp_2', contact: p1, stop: 'unsubscribed', stoppedAt: at, due: null },
      { campaign: 'cmp_2', contact: p2, stop: 'cancelled', stoppedAt: at + 2, due: null },
      { campaign: 'cmp_2', contact: p5, stop: 'bounced', stoppedAt: at, due: null },
    ]);
  });

  it('an unsubscribe: contact, history, suppression, sequences, and the webhook rows only the first time', async () => {
    const { t, r } = await open();
    await seedBatch(t, b1);
    const [a, gone] = await seedContacts(t, b1, ['a@x.test', 'gone@x.test']);
    await seedCampaign(t, 'cmp_1');
    const send = await seedSend(t, 'cmp_1', { contact: a!, status: 'sent', messageId: '<m1>' });
    const orphan = await seedSend(t, 'cmp_1', { contact: gone!, status: 'sent' });
    await r.deleteContact(gone!, null, seedAt);
    await seedPerson(t, 'cmp_1', a!, { due: later });
    const found: Unsubscribed[] = [];
    const effects: UnsubscribeEffects = {
      reason: (campaignId) => `link of ${campaignId}`,
      webhooks: (f) => {
        found.push(f);
        return [
          {
            event: 'contact.unsubscribed',
            url: 'https://hooks.test/u',
            payload: JSON.stringify(f),
            createdAt: later,
            nextAttemptAt: later,
          },
        ];
      },
    };

    expect(await r.unsubscribe(999, later, effects)).toBe(false);
    expect(await r.unsubscribe(send, later, effects)).toBe(true);
    expect(await r.unsubscribe(send, later + 5, effects)).toBe(true);
    expect(await r.unsubscribe(orphan, later, effects, 'mailbox')).toBe(true);

    expect(found).toEqual([
      { email: 'a@x.test', contactId: a, campaignId: 'cmp_1' },
      { email: null, contactId: null, campaignId: 'cmp_1' },
    ]);
    expect(await contactRow(t, a!)).toEqual({ status: 'unsubscribed', updatedAt: later });
    expect((await history(t)).filter((h) => h.to === 'unsubscribed')).toEqual([
      {
        contact: a,
        from: 'active',
        to: 'unsubscribed',
        actor: 'recipient',
        reason: 'link of cmp_1',
        at: later,
      },
    ]);
    expect(await r.findSuppression(emailHash('a@x.test'))).toEqual({
      reason: 'unsubscribed',
      actor: 'recipient',
      createdAt: later,
    });
    // A row whose contact is gone: only its own hash is suppressed.
    expect(await r.findSuppression(emailHash(`cmp_1.${gone}.1@x.test`))).toEqual({
      reason: 'unsubscribed',
      actor: 'mailbox',
      createdAt: later,
    });
    expect(await t.query('SELECT id, unsubscribed_at AS at FROM sends ORDER BY id')).toEqual([
      { id: send, at: later },
      { id: orphan, at: later },
    ]);
    expect((await people(t))[0]).toMatchObject({ stop: 'unsubscribed', due: null });
    expect(
      await t.query(
        `SELECT event, url, state, attempts, next_attempt_at AS next FROM webhook_deliveries ORDER BY id`,
      ),
    ).toEqual([
      {
        event: 'contact.unsubscribed',
        url: 'https://hooks.test/u',
        state: 'pending',
        attempts: 0,
        next: later,
      },
      {
        event: 'contact.unsubscribed',
        url: 'https://hooks.test/u',
        state: 'pending',
        attempts: 0,
        next: later,
      },
    ]);
  });

  it('webhook rows: inserted together, none for none; a forget deletes those quoting the address', async () => {
    const { t, r } = await open();
    const hook = (payload: string, at: number): WebhookDelivery => ({
      event: 'contact.bounced',
      url: 'https://hooks.test/r',
      payload,
      createdAt: at,
      nextAttemptAt: at + 1,
    });
    await r.insertWebhooks(undefined);
    await r.insertWebhooks([]);
    await r.insertWebhooks([hook('{"email":"BOB@x.test"}', seedAt), hook('{"email":"ann@x.test"}', later)]);
    expect(
      await t.query(
        `SELECT event, url, payload, state, attempts, created_at AS "createdAt", next_attempt_at AS "next"
         FROM webhook_deliveries ORDER BY id`,
      ),
    ).toEqual([
      {
        event: 'contact.bounced',
        url: 'https://hooks.test/r',
        payload: '{"email":"BOB@x.test"}',
        state: 'pending',
        attempts: 0,
        createdAt: seedAt,
        next: seedAt + 1,
      },
      {
        event: 'contact.bounced',
        url: 'https://hooks.test/r',
        payload: '{"email":"ann@x.test"}',
        state: 'pending',
        attempts: 0,
        createdAt: later,
        next: later + 1,
      },
    ]);
    expect(await r.deleteWebhooksQuoting('bob@x.test')).toBe(1);
    expect(await r.deleteWebhooksQuoting('bob@x.test')).toBe(0);
    expect(await t.query('SELECT payload FROM webhook_deliveries')).toEqual([
      { payload: '{"email":"ann@x.test"}' },
    ]);
  });

  it('batch rows: activation and its refusals, events, counts never below zero, texts erased', async () => {
    const { t, r } = await open();
    await seedBatch(t, b1);
    await seedBatch(t, b2, { status: 'inactive', contactCount: 3 });
    await seedBatch(t, b3, { status: 'importing' });
    const change = (at: number, keepReplaced: boolean): ActivationChange => ({
      actor: 'U1',
      at,
      reason: 'go',
      replacedReason: 'replaced',
      keepReplaced,
    });
    expect(await r.activate('batch_missing', change(later, true))).toEqual({ kind: 'missing' });
    expect(await r.activate(b3, change(later, true))).toEqual({ kind: 'importing' });
    expect(await r.activate(b1, change(later, true))).toEqual({ kind: 'already_active' });
    expect(await r.activate(b2, change(later, true))).toEqual({
      kind: 'activated',
      name: `${b2}.csv`,
      previous: b1,
    });
    expect(await r.activate(b1, change(later + 1, false))).toEqual({
      kind: 'activated',
      name: `${b1}.csv`,
      previous: b2,
    });
    await r.deactivate(b1, { actor: 'U2', reason: 'done', at: later + 2 });
    await r.batchEvent({ batchId: b3, kind: 'imported', actor: 'U3', reason: 'by a@x.test', at: later + 3 });

    expect(
      await t.query(
        `SELECT id, status, activated_at AS "activatedAt", deactivated_at AS "deactivatedAt",
           replaced_batch_id AS replaced FROM batches ORDER BY id`,
      ),
    ).toEqual([
      { id: b1, status: 'inactive', activatedAt: later + 1, deactivatedAt: later + 2, replaced: null },
      { id: b2, status: 'inactive', activatedAt: later, deactivatedAt: later + 1, replaced: b1 },
      { id: b3, status: 'importing', activatedAt: null, deactivatedAt: null, replaced: null },
    ]);
    expect(
      await t.query('SELECT batch_id AS batch, kind, actor, reason, at FROM batch_events ORDER BY id'),
    ).toEqual([
      { batch: b1, kind: 'deactivated', actor: 'U1', reason: 'replaced', at: later },
      { batch: b2, kind: 'activated', actor: 'U1', reason: 'go', at: later },
      { batch: b2, kind: 'deactivated', actor: 'U1', reason: 'replaced', at: later + 1 },
      { batch: b1, kind: 'activated', actor: 'U1', reason: 'go', at: later + 1 },
      { batch: b1, kind: 'deactivated', actor: 'U2', reason: 'done', at: later + 2 },
      { batch: b3, kind: 'imported', actor: 'U3', reason: 'by a@x.test', at: later + 3 },
    ]);

    await r.dropCount(b2, 2);
    await r.dropCount(b2, 0);
    expect(await t.query('SELECT contact_count AS n FROM batches WHERE id = $1', [b2])).toEqual([{ n: 1 }]);
    await r.dropCountWith(b2, 5);
    expect(await t.query('SELECT contact_count AS n FROM batches WHERE id = $1', [b2])).toEqual([{ n: 0 }]);

    await t.query('UPDATE batches SET report = $1 WHERE id = $2', ['Skipped A@X.test; a@x.test again', b2]);
    expect(await r.eraseBatchTexts('a@x.test', '[erased]')).toEqual({ events: 1, reports: 1 });
    expect(await t.query('SELECT report FROM batches WHERE id = $1', [b2])).toEqual([
      { report: 'Skipped [erased]; [erased] again' },
    ]);
    expect(await t.query('SELECT reason FROM batch_events WHERE kind = $1', ['imported'])).toEqual([
      { reason: '[erased]' },
    ]);
    expect(await r.eraseBatchTexts('a@x.test', '[erased]')).toEqual({ events: 0, reports: 0 });
  });

  it('send counts by status and by step and variant, with unsubscribes, acceptances and the marks', async () => {
    const { t, r } = await open();
    await seedBatch(t, b1);
    const [x1, x2, x3, x4] = (await seedContacts(t, b1, [
      'x1@x.test',
      'x2@x.test',
      'x3@x.test',
      'x4@x.test',
    ])) as [number, number, number, number];
    await t.query(`UPDATE contacts SET interest = 'interested' WHERE id = $1`, [x2]);
    await t.query(`UPDATE contacts SET interest = 'not_interested' WHERE id = $1`, [x1]);
    await seedCampaign(t, 'cmp_1');
    await seedCampaign(t, 'cmp_2');
    const m = later;
    await seedSend(t, 'cmp_1', { contact: x1, status: 'sent', messageId: '<1>', unsub: m, replied: m });
    await seedSend(t, 'cmp_1', { contact: x2, status: 'sent', messageId: '<2>', replied: m });
    await seedSend(t, 'cmp_1', { contact: x3, status: 'bounced', messageId: '<3>' });
    await seedSend(t, 'cmp_1', { contact: x4, status: 'failed', variant: 1 });
    await seedSend(t, 'cmp_1', { contact: x1, status: 'sent', step: 2, messageId: '<5>', complained: m });
    await seedSend(t, 'cmp_1', {
      contact: x2,
      status: 'sent',
      step: 2,
      variant: 2,
      messageId: '<6>',
      soft: m,
    });
    await seedSend(t, 'cmp_1', { contact: x3, status: 'claimed', step: 2 });
    await seedSend(t, 'cmp_1', { contact: null, status: 'retry' });
    await seedSend(t, 'cmp_2', { contact: x1, status: 'sent', messageId: '<9>', replied: m });

    const zero = { unsub: 0, accepted: 0, replied: 0, complained: 0, softBounced: 0, interested: 0 };
    expect(await r.byStatus('cmp_1')).toEqual([
      { ...zero, status: 'bounced', n: 1, accepted: 1 },
      { ...zero, status: 'claimed', n: 1 },
      { ...zero, status: 'failed', n: 1 },
      { ...zero, status: 'retry', n: 1 },
      {
        status: 'sent',
        n: 4,
        unsub: 1,
        accepted: 4,
        replied: 2,
        complained: 1,
        softBounced: 1,
        interested: 1,
      },
    ]);
    expect(await r.byStep('cmp_1')).toEqual([
      { ...zero, step: 1, variant: 1, status: 'failed', n: 1 },
      { ...zero, step: 2, variant: null, status: 'claimed', n: 1 },
      { ...zero, step: 2, variant: null, status: 'sent', n: 1, accepted: 1, complained: 1 },
      { ...zero, step: 2, variant: 2, status: 'sent', n: 1, accepted: 1, softBounced: 1 },
    ]);
    expect(await r.byStatusIndexOnly('cmp_1')).toEqual([
      { status: 'bounced', n: 1 },
      { status: 'claimed', n: 1 },
      { status: 'failed', n: 1 },
      { status: 'retry', n: 1 },
      { status: 'sent', n: 4 },
    ]);
    expect(await r.byStatus('cmp_2')).toEqual([{ ...zero, status: 'sent', n: 1, accepted: 1, replied: 1 }]);
    expect(await r.byStep('cmp_2')).toEqual([]);
    expect(await r.byStatus('cmp_none')).toEqual([]);
  });

  it('pages newest first with the cursor, ids compared byte by byte', async () => {
    const { t, r } = await open();
    // Under a locale's collation `_` and `-` weigh nothing and case comes second; SQLite compares
    // bytes. The test server's databases are C.UTF-8: give the column a locale's collation, as a
    // server created with en_US would, to prove the twin's order does not depend on it.
    if (t.dialect === 'postgres')
      await t.query('ALTER TABLE batches ALTER COLUMN id TYPE text COLLATE "en-x-icu"');
    for (const id of ['ab', 'a_c', 'a1', 'a-b', 'B1']) await seedBatch(t, id, { status: 'inactive' });
    await seedBatch(t, 'zz', { status: 'inactive', createdAt: seedAt - 1 });
    await seedBatch(t, 'A0', { status: 'inactive', createdAt: seedAt + 1 });
    const seen: string[] = [];
    let cursor: Cursor;
    for (;;) {
      const page = await r.newestBatches(cursor, 2);
      if (page.length === 0) break;
      seen.push(...page.map((p) => p.id));
      const last = page[page.length - 1]!;
      cursor = [last.createdAt, last.id];
    }
    expect(seen).toEqual(['A0', 'ab', 'a_c', 'a1', 'a-b', 'B1', 'zz']);
    if (t.dialect === 'postgres') {
      const q = pgPage.olderThanSql([seedAt, 'a1'], 'created_at', 'id', 1);
      const raw = await rows<{ id: string }>(
        t.db.$client,
        `SELECT id FROM batches WHERE ${q.text} ORDER BY created_at DESC, id COLLATE "C" DESC`,
        q.values,
      );
      expect(raw.map((b) => b.id)).toEqual(['a-b', 'B1', 'zz']);
      expect(pgPage.olderThanSql(undefined, 'created_at', 'id', 1)).toEqual({ text: '', values: [] });
    }
  });
});

describe('rows twins under concurrency (postgres)', () => {
  let t: TestDatabase | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it('an activation waits for another in flight, then replaces the batch it made active', async () => {
    t = await openTestDatabase('postgres');
    if (t.dialect !== 'postgres') throw new Error('postgres only');
    await seedBatch(t, b1);
    await seedBatch(t, b2, { status: 'inactive' });
    await seedBatch(t, b3, { status: 'inactive' });
    const pool = t.db.$client;
    const change: ActivationChange = {
      actor: 'U1',
      at: later,
      reason: null,
      replacedReason: 'r',
      keepReplaced: true,
    };
    // Another instance's activation, its transaction still open while this one starts.
    const other = await pool.connect();
    try {
      await other.query('BEGIN');
      expect(await pgBatch.activateBatch(other, b2, change)).toEqual({
        kind: 'activated',
        name: `${b2}.csv`,
        previous: b1,
      });
      const mine = inTransaction(pool, (tx) => pgBatch.activateBatch(tx, b3, change));
      await new Promise((resolve) => setTimeout(resolve, 200));
      await other.query('COMMIT');
      expect(await mine).toEqual({ kind: 'activated', name: `${b3}.csv`, previous: b2 });
    } finally {
      other.release();
    }
    expect(
      await t.query(`SELECT id, status, replaced_batch_id AS replaced FROM batches ORDER BY id`),
    ).toEqual([
      { id: b1, status: 'inactive', replaced: null },
      { id: b2, status: 'inactive', replaced: b1 },
      { id: b3, status: 'active', replaced: b2 },
    ]);
    expect(await t.query(`SELECT count(*) AS n FROM batch_events WHERE kind = 'deactivated'`)).toEqual([
      { n: 2 },
    ]);
  });

  it('an opt-out waits for another of the same ledger row in flight: the webhook rows are inserted once', async () => {
    t = await openTestDatabase('postgres');
    if (t.dialect !== 'postgres') throw new Error('postgres only');
    await seedBatch(t, b1);
    const [a] = await seedContacts(t, b1, ['a@x.test']);
    await seedCampaign(t, 'cmp_1');
    const send = await seedSend(t, 'cmp_1', { contact: a!, status: 'sent' });
    const effects: UnsubscribeEffects = {
      reason: () => 'link',
      webhooks: (f) => [
        {
          event: 'contact.unsubscribed',
          url: 'https://h.test',
          payload: JSON.stringify(f),
          createdAt: 1,
          nextAttemptAt: 1,
        },
      ],
    };
    const pool = t.db.$client;
    // Another instance's opt-out of the same row (a double click), its transaction still open.
    const other = await pool.connect();
    try {
      await other.query('BEGIN');
      expect(await pgUnsub.unsubscribeSend(other, send, later, effects)).toBe(true);
      const mine = inTransaction(pool, (tx) => pgUnsub.unsubscribeSend(tx, send, later + 1, effects));
      await new Promise((resolve) => setTimeout(resolve, 200));
      await other.query('COMMIT');
      expect(await mine).toBe(true);
    } finally {
      other.release();
    }
    expect(await t.query('SELECT unsubscribed_at AS at FROM sends')).toEqual([{ at: later }]);
    expect(await t.query('SELECT count(*) AS n FROM webhook_deliveries')).toEqual([{ n: 1 }]);
    expect(await t.query('SELECT count(*) AS n FROM contact_history')).toEqual([{ n: 1 }]);
  });
});
