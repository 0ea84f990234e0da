import { afterEach, describe, expect, it } from 'vitest';
import type { RetentionStore } from '../../../src/core/batches/retention-store.js';
import type { UnsubscribeEffects, UnsubscribeStore } from '../../../src/core/campaigns/unsubscribe-store.js';
import type { ContactRecord, ContactStore } from '../../../src/core/contacts/contact-store.js';
import type { HealthStore } from '../../../src/core/health.js';
import { emailHash } from '../../../src/core/keys.js';
import type { SettingsStore } from '../../../src/core/settings-store.js';
import { changeContactStatus } from '../../../src/db/pg/contact-status.js';
import { PgContactStore } from '../../../src/db/pg/contact-store.js';
import { PgHealthStore } from '../../../src/db/pg/health-store.js';
import { PgRetentionStore } from '../../../src/db/pg/retention-store.js';
import { PgSettingsStore } from '../../../src/db/pg/settings-store.js';
import { PgUnsubscribeStore } from '../../../src/db/pg/unsubscribe-store.js';
import { SqliteContactStore } from '../../../src/db/sqlite/contact-store.js';
import { SqliteHealthStore } from '../../../src/db/sqlite/health-store.js';
import { SqliteRetentionStore } from '../../../src/db/sqlite/retention-store.js';
import { SqliteSettingsStore } from '../../../src/db/sqlite/settings-store.js';
import { SqliteUnsubscribeStore } from '../../../src/db/sqlite/unsubscribe-store.js';
import { dialects, openTestDatabase, type TestDatabase } from '../../pg/dialects.js';
import { seedAt, seedBatch, seedCampaign, seedContacts } from '../../pg/seed.js';

/** The stores under test, built as db/sqlite/stores.ts and db/pg/stores.ts build them. */
function storesOf(t: TestDatabase): {
  contacts: ContactStore;
  unsubscribes: UnsubscribeStore;
  settings: SettingsStore;
  health: HealthStore;
  retention: RetentionStore;
} {
  return t.dialect === 'sqlite'
    ? {
        contacts: new SqliteContactStore(t.db),
        unsubscribes: new SqliteUnsubscribeStore(t.db),
        settings: new SqliteSettingsStore(t.db),
        health: new SqliteHealthStore(t.db.$client),
        retention: new SqliteRetentionStore(t.db),
      }
    : {
        contacts: new PgContactStore(t.db),
        unsubscribes: new PgUnsubscribeStore(t.db),
        settings: new PgSettingsStore(t.db),
        health: new PgHealthStore(t.db),
        retention: new PgRetentionStore(t.db),
      };
}

const b1 = 'batch_00000001_1760000000';
const b2 = 'batch_00000002_1760000000';
const later = seedAt + 60_000;
const day = 86_400_000;

/** A contact record with the seed's defaults. */
const record = (id: number, email: string, over: Partial<ContactRecord> = {}): ContactRecord => ({
  id,
  email,
  name: null,
  company: null,
  position: null,
  source: null,
  status: 'active',
  batchId: b1,
  interest: null,
  createdAt: seedAt,
  updatedAt: seedAt,
  notSendableReason: null,
  suppressionReason: null,
  suppressedBy: null,
  suppressedAt: null,
  ...over,
});

describe.each(dialects)('contact, unsubscribe, settings, health and retention stores (%s)', (dialect) => {
  let t: TestDatabase | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });
  const open = async () => {
    t = await openTestDatabase(dialect);
    return { t, s: storesOf(t) };
  };

  it('find: the record with why it is not sendable now and its suppression entry; idByEmail', async () => {
    const { t, s } = await open();
    await seedBatch(t, b1);
    await seedBatch(t, b2, { status: 'inactive' });
    const [a, b, c, d] = await seedContacts(t, b1, ['a@x.test', 'b@x.test', 'c@x.test', 'd@x.test'], {
      name: 'N',
    });
    const [e] = await seedContacts(t, b2, ['e@x.test']);
    await t.query(
      `UPDATE contacts SET company = 'Acme', position = 'CTO', source = 'fair', interest = 'interested' WHERE id = $1`,
      [a],
    );
    await t.query(`UPDATE contacts SET status = 'bounced' WHERE id = $1`, [b]);
    await t.query(
      `INSERT INTO suppressions (email_hash, reason, actor, created_at) VALUES ($1, 'manual', 'U9', $2)`,
      [emailHash('c@x.test'), later],
    );
    await t.query(`UPDATE contacts SET validation = 'no_mail_domain' WHERE id = $1`, [d]);

    expect(await s.contacts.find(a!)).toEqual(
      record(a!, 'a@x.test', {
        name: 'N',
        company: 'Acme',
        position: 'CTO',
        source: 'fair',
        interest: 'interested',
      }),
    );
    expect(await s.contacts.find(b!)).toEqual(
      record(b!, 'b@x.test', { name: 'N', status: 'bounced', notSendableReason: 'bounced' }),
    );
    expect(await s.contacts.find(c!)).toEqual(
      record(c!, 'c@x.test', {
        name: 'N',
        notSendableReason: 'suppressed',
        suppressionReason: 'manual',
        suppressedBy: 'U9',
        suppressedAt: later,
      }),
    );
    expect(await s.contacts.find(d!)).toEqual(
      record(d!, 'd@x.test', { name: 'N', notSendableReason: 'no_mail_domain' }),
    );
    await t.query('UPDATE batches SET include_invalid_domains = $1 WHERE id = $2', [true, b1]);
    expect((await s.contacts.find(d!))?.notSendableReason).toBeNull();
    expect(await s.contacts.find(e!)).toEqual(
      record(e!, 'e@x.test', { batchId: b2, notSendableReason: 'batch_inactive' }),
    );
    expect(await s.contacts.find(9999)).toBeNull();

    expect(await s.contacts.idByEmail('c@x.test')).toBe(c);
    expect(await s.contacts.idByEmail('nobody@x.test')).toBeNull();
  });

  it('changeStatus, delete and history: each one unit of work, the same results and rows', async () => {
    const { t, s } = await open();
    await seedBatch(t, b1);
    const [a, b] = await seedContacts(t, b1, ['a@x.test', 'b@x.test']);
    await seedCampaign(t, 'cmp_1');
    await t.query(
      `INSERT INTO sequence_people (campaign_id, contact_id, step, next_due_at, updated_at) VALUES ('cmp_1', $1, 1, $2, $3)`,
      [a, later, seedAt],
    );
    const order = (id: number, status: 'active' | 'unsubscribed' | 'inactive', at: number) => ({
      id,
      status,
      actor: 'U1',
      reason: `to ${status}`,
      at,
    });
    expect(await s.contacts.changeStatus(order(999, 'inactive', later))).toEqual({ kind: 'missing' });
    expect(await s.contacts.changeStatus(order(a!, 'unsubscribed', later))).toEqual({
      kind: 'changed',
      from: 'active',
    });
    expect(await s.contacts.changeStatus(order(a!, 'unsubscribed', later))).toEqual({
      kind: 'unchanged',
      from: 'unsubscribed',
    });
    expect(await s.contacts.changeStatus(order(a!, 'active', later + 1))).toEqual({
      kind: 'suppressed',
      reason: 'unsubscribed',
    });
    // The same instant twice: history keeps the order they were written in.
    expect(await s.contacts.changeStatus(order(b!, 'inactive', later))).toEqual({
      kind: 'changed',
      from: 'active',
    });
    expect(await s.contacts.changeStatus(order(b!, 'active', later))).toEqual({
      kind: 'changed',
      from: 'inactive',
    });

    expect(await s.contacts.history(a!)).toEqual([
      { at: later, from: 'active', to: 'unsubscribed', actor: 'U1', reason: 'to unsubscribed' },
    ]);
    expect(await s.contacts.history(b!)).toEqual([
      { at: later, from: 'active', to: 'inactive', actor: 'U1', reason: 'to inactive' },
      { at: later, from: 'inactive', to: 'active', actor: 'U1', reason: 'to active' },
    ]);
    expect(await s.contacts.history(999)).toEqual([]);
    expect(await t.query('SELECT stop_reason AS stop, next_due_at AS due FROM sequence_people')).toEqual([
      { stop: 'unsubscribed', due: null },
    ]);
    expect((await s.contacts.find(a!))?.suppressionReason).toBe('unsubscribed');

    expect(await s.contacts.delete(b!, 'U2', 'asked', later + 2)).toBe(true);
    expect(await s.contacts.delete(b!, 'U2', 'asked', later + 3)).toBe(false);
    expect(await s.contacts.find(b!)).toBeNull();
    expect(await s.contacts.idByEmail('b@x.test')).toBeNull();
    expect(await s.contacts.history(b!)).toEqual([]);
    expect(
      await t.query(
        `SELECT from_status AS "from", actor, reason, at FROM contact_history WHERE to_status = 'deleted'`,
      ),
    ).toEqual([{ from: 'active', actor: 'U2', reason: 'asked', at: later + 2 }]);
    expect(
      await t.query('SELECT reason, actor FROM suppressions WHERE email_hash = $1', [emailHash('b@x.test')]),
    ).toEqual([{ reason: 'deleted', actor: 'U2' }]);
    expect(await t.query('SELECT contact_count AS n FROM batches')).toEqual([{ n: 1 }]);
  });

  it('unsubscribe links: the target, the opt-out once, a missing row', async () => {
    const { t, s } = await open();
    await seedBatch(t, b1);
    const [a] = await seedContacts(t, b1, ['a@x.test']);
    await seedCampaign(t, 'cmp_1');
    const [send] = await t.query<{ id: number }>(
      `INSERT INTO sends (campaign_id, contact_id, email_hash, run, status, claimed_at, updated_at)
       VALUES ('cmp_1', $1, $2, 1, 'sent', $3, $3) RETURNING id`,
      [a, emailHash('a@x.test'), seedAt],
    );
    const id = Number(send?.id);
    let calls = 0;
    const effects: UnsubscribeEffects = {
      reason: (campaignId) => `link ${campaignId}`,
      webhooks: (found) => {
        calls++;
        return [
          {
            event: 'contact.unsubscribed',
            url: 'https://h.test',
            payload: JSON.stringify(found),
            createdAt: later,
            nextAttemptAt: later,
          },
        ];
      },
    };
    expect(await s.unsubscribes.target(id)).toEqual({
      campaignName: 'Campaign cmp_1',
      alreadyUnsubscribed: false,
    });
    expect(await s.unsubscribes.target(id + 100)).toBeNull();
    expect(await s.unsubscribes.unsubscribe(id, later, effects)).toBe(true);
    expect(await s.unsubscribes.unsubscribe(id, later + 1, effects)).toBe(true);
    expect(await s.unsubscribes.unsubscribe(id + 100, later, effects)).toBe(false);
    expect(calls).toBe(1);
    expect(await s.unsubscribes.target(id)).toEqual({
      campaignName: 'Campaign cmp_1',
      alreadyUnsubscribed: true,
    });
    expect(await s.contacts.history(a!)).toEqual([
      { at: later, from: 'active', to: 'unsubscribed', actor: 'recipient', reason: 'link cmp_1' },
    ]);
    expect(await t.query('SELECT payload FROM webhook_deliveries')).toEqual([
      { payload: JSON.stringify({ email: 'a@x.test', contactId: a, campaignId: 'cmp_1' }) },
    ]);
  });

  it('settings: the first value stored wins; health answers', async () => {
    const { s } = await open();
    expect(await s.settings.getOrCreate('unsubscribe_key', 'first')).toBe('first');
    expect(await s.settings.getOrCreate('unsubscribe_key', 'second')).toBe('first');
    expect(await s.settings.getOrCreate('other', 'x')).toBe('x');
    await expect(s.health.ping()).resolves.toBeUndefined();
  });

  it('health rejects once the database is closed', async () => {
    const { s } = await open();
    await t?.close();
    // Closed here: afterEach must not close it again.
    t = undefined;
    await expect(s.health.ping()).rejects.toThrow();
  });

  it('retention: idle inactive batches oldest import first, the proposal remembered and renewed', async () => {
    const { t, s } = await open();
    const cutoff = seedAt + 30 * day;
    // Ids ordered by bytes (SQLite's order), whatever the database's collation.
    if (t.dialect === 'postgres')
      await t.query('ALTER TABLE batches ALTER COLUMN id TYPE text COLLATE "en-x-icu"');
    await seedBatch(t, 'batchB', { status: 'inactive', contactCount: 4 });
    await seedBatch(t, 'batcha', { status: 'inactive' });
    await seedBatch(t, 'batch_old', { status: 'inactive', createdAt: seedAt - day });
    await seedBatch(t, 'batch_recent', { status: 'inactive' });
    await seedBatch(t, 'batch_active');
    await seedBatch(t, 'batch_importing', { status: 'importing' });
    await t.query('UPDATE batches SET deactivated_at = $1 WHERE id = $2', [seedAt + day, 'batchB']);
    await t.query('UPDATE batches SET deactivated_at = $1 WHERE id = $2', [cutoff + 1, 'batch_recent']);

    const old = { id: 'batch_old', name: 'batch_old.csv', contactCount: 0, since: seedAt - day };
    const upper = { id: 'batchB', name: 'batchB.csv', contactCount: 4, since: seedAt + day };
    const lower = { id: 'batcha', name: 'batcha.csv', contactCount: 0, since: seedAt };
    const recent = { id: 'batch_recent', name: 'batch_recent.csv', contactCount: 0, since: cutoff + 1 };
    expect(await s.retention.listIdle(cutoff)).toEqual([old, upper, lower]);

    await s.retention.markProposed('batchB', cutoff);
    await s.retention.markProposed('batcha', cutoff + 1);
    await s.retention.markProposed('batch_gone', cutoff);
    // Proposed at the cutoff or before: idle again; after it: not yet.
    expect(await s.retention.listIdle(cutoff)).toEqual([old, upper]);
    await s.retention.markProposed('batchB', cutoff + 2);
    expect(await s.retention.listIdle(cutoff)).toEqual([old]);
    expect(await s.retention.listIdle(cutoff + 2)).toEqual([old, upper, recent, lower]);
    expect(
      await t.query('SELECT batch_id AS id, proposed_at AS at FROM retention_proposals ORDER BY proposed_at'),
    ).toEqual([
      { id: 'batcha', at: cutoff + 1 },
      { id: 'batchB', at: cutoff + 2 },
    ]);
  });
});

describe('contact and settings stores under concurrency (postgres)', () => {
  let t: TestDatabase | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it('a status change waits for another in flight on the same contact, then sees its status', async () => {
    t = await openTestDatabase('postgres');
    if (t.dialect !== 'postgres') throw new Error('postgres only');
    await seedBatch(t, b1);
    const [a] = await seedContacts(t, b1, ['a@x.test']);
    const store = new PgContactStore(t.db);
    // Another instance's change, its transaction still open while this one starts.
    const other = await t.db.$client.connect();
    try {
      await other.query('BEGIN');
      await changeContactStatus(other, a!, 'inactive', 'U1', null, later);
      const mine = store.changeStatus({
        id: a!,
        status: 'replied',
        actor: 'U2',
        reason: null,
        at: later + 1,
      });
      await new Promise((resolve) => setTimeout(resolve, 200));
      await other.query('COMMIT');
      expect(await mine).toEqual({ kind: 'changed', from: 'inactive' });
    } finally {
      other.release();
    }
    expect(await store.history(a!)).toEqual([
      { at: later, from: 'active', to: 'inactive', actor: 'U1', reason: null },
      { at: later + 1, from: 'inactive', to: 'replied', actor: 'U2', reason: null },
    ]);
  });

  it('instances storing one setting at once all get the first value', async () => {
    t = await openTestDatabase('postgres');
    if (t.dialect !== 'postgres') throw new Error('postgres only');
    const db = t.db;
    const values = await Promise.all(
      ['a', 'b', 'c', 'd'].map((v) => new PgSettingsStore(db).getOrCreate('unsubscribe_key', v)),
    );
    expect(new Set(values).size).toBe(1);
    expect(await t.query('SELECT value FROM settings')).toEqual([{ value: values[0] }]);
  });
});
