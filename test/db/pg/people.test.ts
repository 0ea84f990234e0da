/**
 * The people store on both dialects: `why` and the export read the same rows about a person, and
 * a forget erases the same things, counts them the same and leaves no trace of the address in any
 * table; on Postgres, a forget waits for a message being recorded about the person and erases it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { emailHash } from '../../../src/core/keys.js';
import type { PeopleStore } from '../../../src/core/people/people-store.js';
import { openPg } from '../../../src/db/pg/client.js';
import { PgMailboxStore } from '../../../src/db/pg/mailbox-store.js';
import { PgPeopleStore } from '../../../src/db/pg/people-store.js';
import { SqlitePeopleStore } from '../../../src/db/sqlite/people-store.js';
import { dialects, openTestDatabase, type Query, type TestDatabase } from '../../pg/dialects.js';
import { freshPg } from '../../pg/pg.js';
import { seedAt, seedBatch, seedCampaign, seedContacts } from '../../pg/seed.js';

const batch = 'batch_00000001_1760000000';
const ana = 'ana@acme.test';
const erased = '[erased]';

const storeOf = (t: TestDatabase): PeopleStore =>
  t.dialect === 'sqlite' ? new SqlitePeopleStore(t.db) : new PgPeopleStore(t.db);

async function insertSend(
  q: Query,
  campaignId: string,
  contactId: number | null,
  email: string,
  s: { status: string; response: string; claimedAt: number; repliedAt?: number },
): Promise<number> {
  const [r] = await q<{ id: number }>(
    `INSERT INTO sends (campaign_id, contact_id, email_hash, run, status, attempts, message_id, response, account,
       claimed_at, updated_at, replied_at)
     VALUES ($1, $2, $3, 1, $4, 1, $5, $6, NULL, $7, $7, $8) RETURNING id`,
    [
      campaignId,
      contactId,
      emailHash(email),
      s.status,
      `<m${s.claimedAt}@coldbatch.test>`,
      s.response,
      s.claimedAt,
      s.repliedAt ?? null,
    ],
  );
  return Number(r?.id);
}

async function insertMessage(
  q: Query,
  m: {
    uid: number;
    kind: string;
    from: string;
    contactId: number | null;
    snippet?: string;
    details?: string;
    at: number;
  },
): Promise<number> {
  const [r] = await q<{ id: number }>(
    `INSERT INTO inbox_messages (mailbox, uid_validity, uid, kind, from_address, subject, received_at, campaign_id,
       contact_id, snippet, details, processed_at)
     VALUES ('imap://in@mx.test:993/INBOX', '1', $1, $2, $3, 'Re: Hi', $4, 'cmp_a', $5, $6, $7, $4) RETURNING id`,
    [m.uid, m.kind, m.from, m.at, m.contactId, m.snippet ?? null, m.details ?? null],
  );
  return Number(r?.id);
}

/**
 * Ana: a contact with history, three ledger rows (one kept by hash only), messages read about her,
 * a webhook row, her address in a batch event and an import report and in another contact's
 * history. Bruno and Carla: what must stay.
 */
async function scene(t: TestDatabase) {
  await seedBatch(t, batch);
  await t.query('UPDATE batches SET report = $1 WHERE id = $2', [
    'line 4: Ana@Acme.test is a duplicate; line 9: bruno@acme.test ok',
    batch,
  ]);
  const [anaId, brunoId, carlaId] = await seedContacts(
    t,
    batch,
    [ana, 'bruno@acme.test', 'carla@acme.test'],
    {
      name: 'Ana',
    },
  );
  if (!anaId || !brunoId || !carlaId) throw new Error('contacts not seeded');
  await t.query(
    `UPDATE contacts SET company = 'Acme', validation = 'valid', validated_at = $1, interest = 'interested' WHERE id = $2`,
    [seedAt + 5, anaId],
  );
  const events: [string, string | null, number][] = [
    ['imported', 'imported by U1', seedAt],
    ['deactivated', `paused while ${ana} was checked`, seedAt + 2],
    ['activated', null, seedAt + 1],
  ];
  for (const [kind, reason, at] of events)
    await t.query(
      `INSERT INTO batch_events (batch_id, kind, actor, reason, at) VALUES ($1, $2, 'U1', $3, $4)`,
      [batch, kind, reason, at],
    );
  const history: [number, string, string, string | null, number][] = [
    [anaId, 'active', 'inactive', 'asked to pause', seedAt + 20],
    [anaId, 'inactive', 'active', null, seedAt + 10],
    [carlaId, 'active', 'inactive', 'referred by ANA@acme.test', seedAt + 3],
    [brunoId, 'active', 'inactive', 'bruno asked', seedAt + 3],
  ];
  for (const [id, from, to, reason, at] of history)
    await t.query(
      `INSERT INTO contact_history (contact_id, from_status, to_status, actor, reason, at) VALUES ($1, $2, $3, 'U1', $4, $5)`,
      [id, from, to, reason, at],
    );
  await seedCampaign(t, 'cmp_a', { status: 'completed', createdAt: seedAt });
  await seedCampaign(t, 'cmp_Z', { status: 'completed', createdAt: seedAt + 100 });
  await seedCampaign(t, 'cmp_b', { status: 'sending', createdAt: seedAt + 100 });
  await insertSend(t.query, 'cmp_a', anaId, ana, {
    status: 'sent',
    response: `250 ok <${ana}>`,
    claimedAt: seedAt + 30,
    repliedAt: seedAt + 40,
  });
  await insertSend(t.query, 'cmp_b', anaId, ana, {
    status: 'bounced',
    response: `550 5.1.1 <${ana}> unknown`,
    claimedAt: seedAt + 50,
  });
  // Kept by hash after an earlier deletion of her contact.
  await insertSend(t.query, 'cmp_Z', null, ana, {
    status: 'sent',
    response: '250 ok',
    claimedAt: seedAt + 30,
  });
  await insertSend(t.query, 'cmp_a', brunoId, 'bruno@acme.test', {
    status: 'sent',
    response: '250 ok <bruno@acme.test>',
    claimedAt: seedAt + 30,
  });
  const reply = await insertMessage(t.query, {
    uid: 1,
    kind: 'reply',
    from: ana,
    contactId: anaId,
    snippet: `Call me, ${ana}`,
    at: seedAt + 40,
  });
  const bounce = await insertMessage(t.query, {
    uid: 2,
    kind: 'bounce',
    from: 'mailer-daemon@mx.test',
    contactId: null,
    details: `{"bounces":[{"email":"${ana}"}]}`,
    at: seedAt + 60,
  });
  await t.query(
    `INSERT INTO inbox_bounces (message_id, email, status, permanent, hard, reason, send_id, at) VALUES ($1, $2, '4.2.2', false, false, 'mailboxfull', NULL, $3)`,
    [bounce, ana, seedAt + 60],
  );
  await insertMessage(t.query, {
    uid: 3,
    kind: 'reply',
    from: 'bruno@acme.test',
    contactId: brunoId,
    snippet: 'Ask ANA@ACME.TEST',
    at: seedAt + 70,
  });
  await insertMessage(t.query, {
    uid: 4,
    kind: 'reply',
    from: 'bruno@acme.test',
    contactId: brunoId,
    snippet: 'Bruno here',
    at: seedAt + 80,
  });
  for (const email of [ana, 'bruno@acme.test'])
    await t.query(
      `INSERT INTO webhook_deliveries (event, url, payload, created_at, next_attempt_at) VALUES ('contact.unsubscribed', 'https://crm.test', $1, $2, $2)`,
      [JSON.stringify({ email }), seedAt],
    );
  return { anaId, brunoId, carlaId, reply, bounce };
}

/** Every `table.column` holding text that contains `needle` (any case), on either dialect. */
async function mentions(t: TestDatabase, needle: string): Promise<string[]> {
  const tables = await t.query<{ name: string }>(
    t.dialect === 'sqlite'
      ? `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '__drizzle%'`
      : `SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public'`,
  );
  const hits: string[] = [];
  for (const { name } of tables)
    for (const row of await t.query(`SELECT * FROM "${name}"`))
      for (const [column, v] of Object.entries(row))
        if (typeof v === 'string' && v.toLowerCase().includes(needle.toLowerCase()))
          hits.push(`${name}.${column}`);
  return hits;
}

describe.each(dialects)('people store (%s)', (dialect) => {
  let t: TestDatabase | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it('loads everything held about an address, ordered and bounded the same', async () => {
    t = await openTestDatabase(dialect);
    const s = await scene(t);
    const people = storeOf(t);
    const person = await people.load(ana, emailHash(ana), { campaigns: 2, inbox: 10 });
    expect(person).toEqual({
      email: ana,
      hash: emailHash(ana),
      contact: {
        id: s.anaId,
        email: ana,
        name: 'Ana',
        company: 'Acme',
        position: null,
        source: null,
        status: 'active',
        batchId: batch,
        interest: 'interested',
        validation: 'valid',
        validatedAt: seedAt + 5,
        createdAt: seedAt,
        updatedAt: seedAt,
      },
      batch: {
        id: batch,
        name: `${batch}.csv`,
        status: 'active',
        activatedAt: seedAt,
        deactivatedAt: null,
        includeInvalidDomains: false,
      },
      batchEvents: [
        { kind: 'imported', actor: 'U1', reason: 'imported by U1', at: seedAt },
        { kind: 'activated', actor: 'U1', reason: null, at: seedAt + 1 },
        { kind: 'deactivated', actor: 'U1', reason: `paused while ${ana} was checked`, at: seedAt + 2 },
      ],
      history: [
        { fromStatus: 'inactive', toStatus: 'active', actor: 'U1', reason: null, at: seedAt + 10 },
        {
          fromStatus: 'active',
          toStatus: 'inactive',
          actor: 'U1',
          reason: 'asked to pause',
          at: seedAt + 20,
        },
      ],
      suppression: null,
      sends: [
        expect.objectContaining({
          campaignId: 'cmp_b',
          campaignName: 'Campaign cmp_b',
          status: 'bounced',
          claimedAt: seedAt + 50,
        }),
        expect.objectContaining({ campaignId: 'cmp_Z', response: '250 ok', claimedAt: seedAt + 30 }),
        {
          campaignId: 'cmp_a',
          campaignName: 'Campaign cmp_a',
          run: 1,
          status: 'sent',
          attempts: 1,
          messageId: `<m${seedAt + 30}@coldbatch.test>`,
          response: `250 ok <${ana}>`,
          account: null,
          claimedAt: seedAt + 30,
          updatedAt: seedAt + 30,
          unsubscribedAt: null,
          repliedAt: seedAt + 40,
          complainedAt: null,
          softBouncedAt: null,
        },
      ],
      // The same creation time: ids compared byte by byte ('a' after 'Z').
      campaigns: [
        {
          id: 'cmp_b',
          name: 'Campaign cmp_b',
          status: 'sending',
          startedAt: null,
          runStartedAt: null,
          nextRunAt: null,
        },
        {
          id: 'cmp_Z',
          name: 'Campaign cmp_Z',
          status: 'completed',
          startedAt: null,
          runStartedAt: null,
          nextRunAt: null,
        },
      ],
      inbox: [
        {
          id: s.bounce,
          kind: 'bounce',
          fromAddress: 'mailer-daemon@mx.test',
          subject: 'Re: Hi',
          snippet: null,
          receivedAt: seedAt + 60,
          campaignId: 'cmp_a',
        },
        {
          id: s.reply,
          kind: 'reply',
          fromAddress: ana,
          subject: 'Re: Hi',
          snippet: `Call me, ${ana}`,
          receivedAt: seedAt + 40,
          campaignId: 'cmp_a',
        },
      ],
    });
    const bounded = await people.load(ana, emailHash(ana), { campaigns: 0, inbox: 1 });
    expect([bounded.campaigns, bounded.inbox.map((m) => m.id)]).toEqual([[], [s.bounce]]);
    expect(
      (await people.load(ana, emailHash(ana), { campaigns: 5, inbox: 0 })).campaigns.map((c) => c.id),
    ).toEqual(['cmp_b', 'cmp_Z', 'cmp_a']);
    const nobody = await people.load('nobody@else.test', emailHash('nobody@else.test'), {
      campaigns: 1,
      inbox: 5,
    });
    expect(nobody).toMatchObject({
      contact: null,
      batch: null,
      batchEvents: [],
      history: [],
      suppression: null,
      sends: [],
      inbox: [],
    });
  });

  it('forgets a person: the same counts, and no trace of the address left in any table', async () => {
    t = await openTestDatabase(dialect);
    const s = await scene(t);
    const people = storeOf(t);
    expect((await mentions(t, ana)).length).toBeGreaterThan(8);
    const out = await people.forget({
      email: ana,
      hash: emailHash(ana),
      actor: 'U9',
      at: seedAt + 1000,
      replacement: erased,
    });
    expect(out).toEqual({
      contactId: s.anaId,
      counts: {
        contacts: 1,
        ledgerRows: 3,
        historyTexts: 2,
        batchEventTexts: 1,
        importReports: 1,
        webhookDeliveries: 1,
        inboxMessages: 3,
        suppressionAdded: true,
      },
    });
    expect(await mentions(t, ana)).toEqual([]);
    // Only hers: Bruno's rows keep his address and his own words.
    expect((await mentions(t, 'bruno@acme.test')).sort()).toEqual(
      [
        'batches.report',
        'contacts.email',
        'inbox_messages.from_address',
        'sends.response',
        'webhook_deliveries.payload',
      ].sort(),
    );
    expect(await mentions(t, 'Bruno here')).toEqual(['inbox_messages.snippet']);
    expect(await t.query('SELECT report FROM batches')).toEqual([
      { report: `line 4: ${erased} is a duplicate; line 9: bruno@acme.test ok` },
    ]);
    // The messages stay read (their rows are kept), blanked.
    expect(await t.query('SELECT count(*) AS n FROM inbox_messages WHERE subject = $1', [erased])).toEqual([
      { n: 3 },
    ]);
    expect(await t.query(`SELECT reason, actor FROM suppressions`)).toEqual([
      { reason: 'deleted', actor: 'U9' },
    ]);
    expect(await t.query('SELECT contact_count AS n FROM batches')).toEqual([{ n: 2 }]);
    expect(await t.query('SELECT count(*) AS n FROM contact_history WHERE contact_id IS NULL')).toEqual([
      { n: 3 },
    ]);

    const after = await people.load(ana, emailHash(ana), { campaigns: 1, inbox: 10 });
    expect(after).toMatchObject({
      contact: null,
      history: [],
      inbox: [],
      suppression: { reason: 'deleted', actor: 'U9' },
    });
    expect(after.sends.map((x) => x.response)).toEqual([null, null, null]);

    // Still known by its hash: a second forget erases nothing more and adds no suppression.
    expect(
      await people.forget({
        email: ana,
        hash: emailHash(ana),
        actor: 'U9',
        at: seedAt + 2000,
        replacement: erased,
      }),
    ).toEqual({
      contactId: null,
      counts: {
        contacts: 0,
        ledgerRows: 3,
        historyTexts: 0,
        batchEventTexts: 0,
        importReports: 0,
        webhookDeliveries: 0,
        inboxMessages: 0,
        suppressionAdded: false,
      },
    });
    expect(await people.compact()).toBe(true);
  });

  it('forgets an address known only by a suppression; nothing at all for an unknown one', async () => {
    t = await openTestDatabase(dialect);
    await scene(t);
    const people = storeOf(t);
    const zed = 'zed@else.test';
    expect(
      await people.forget({ email: zed, hash: emailHash(zed), actor: 'U9', at: seedAt, replacement: erased }),
    ).toBeNull();
    expect(await t.query('SELECT count(*) AS n FROM suppressions')).toEqual([{ n: 0 }]);
    await t.query(
      `INSERT INTO suppressions (email_hash, reason, actor, created_at) VALUES ($1, 'manual', 'U2', $2)`,
      [emailHash(zed), seedAt],
    );
    const out = await people.forget({
      email: zed,
      hash: emailHash(zed),
      actor: 'U9',
      at: seedAt,
      replacement: erased,
    });
    expect(out).toEqual({
      contactId: null,
      counts: {
        contacts: 0,
        ledgerRows: 0,
        historyTexts: 0,
        batchEventTexts: 0,
        importReports: 0,
        webhookDeliveries: 0,
        inboxMessages: 0,
        suppressionAdded: false,
      },
    });
    // The first reason stays.
    expect(await t.query('SELECT reason FROM suppressions')).toEqual([{ reason: 'manual' }]);
  });
});

describe('the people store on Postgres with several instances', () => {
  it('a forget waits for a message about the person being recorded by another instance, and erases it', async () => {
    const main = await freshPg();
    const other = openPg(main.url, { max: 5 });
    const query: Query = async <T>(text: string, values: unknown[] = []) =>
      (await main.db.$client.query(text, values)).rows as T[];
    const t: TestDatabase = { dialect: 'postgres', db: main.db, query, close: main.drop };
    const holder = await other.$client.connect();
    try {
      await scene(t);
      const waiting = async (n: number) => {
        for (let i = 0; i < 300; i++) {
          const [r] = await query<{ n: number }>(
            `SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`,
          );
          if ((r?.n ?? 0) >= n) return;
          await new Promise((done) => setTimeout(done, 10));
        }
        throw new Error('nobody waited');
      };
      // Something else holds Ana's ledger row: the record below (a soft bounce of hers, its rows
      // naming her written already) stops at marking it.
      const [sent] = await query<{ id: number }>(`SELECT id FROM sends WHERE campaign_id = 'cmp_b'`);
      await holder.query('BEGIN');
      await holder.query('SELECT 1 FROM sends WHERE id = $1 FOR UPDATE', [sent?.id]);
      const now = seedAt + 500;
      const recording = new PgMailboxStore(other).record({
        ref: { mailbox: 'imap://in@mx.test:993/INBOX', uidValidity: '1', uid: 99 },
        kind: 'bounce',
        from: 'mailer-daemon@mx.test',
        subject: 'Delivery delayed',
        messageId: '<late@mail.test>',
        receivedAt: now,
        snippet: null,
        details: `{"bounces":[{"email":"${ana}"}]}`,
        match: { taggedSendId: sent?.id ?? null, messageIds: [], addresses: [], since: seedAt },
        bounces: [
          {
            recipient: {
              email: ana,
              status: '4.2.2',
              permanent: false,
              hard: false,
              reason: 'mailboxfull',
              replyCode: '452',
              diagnostic: '452 4.2.2 Mailbox full',
            },
            response: '4.2.2 mailboxfull',
          },
        ],
        unsubscribe: null,
        softBounce: { limit: 3, windowMs: 1 },
        effects: {
          hardBounce: () => ({ reason: 'x', webhooks: [] }),
          complaintReason: () => 'x',
          replyReason: () => 'x',
          unsubscribe: { reason: () => 'x', webhooks: () => [] },
          unsubscribedByEmail: 'x',
        },
        now,
      });
      await waiting(1);
      // Without waiting for the record, the forget would erase before the record's rows commit.
      const forgetting = new PgPeopleStore(main.db).forget({
        email: ana,
        hash: emailHash(ana),
        actor: 'U9',
        at: now + 1,
        replacement: erased,
      });
      await waiting(2);
      await holder.query('ROLLBACK');
      expect(await recording).toMatchObject({ kind: 'recorded', softBounced: 1 });
      expect((await forgetting)?.counts.inboxMessages).toBe(4);
      expect(await mentions(t, ana)).toEqual([]);
    } finally {
      holder.release();
      await other.$client.end();
      await main.drop();
    }
  });
});
