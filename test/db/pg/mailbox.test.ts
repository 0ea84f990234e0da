/**
 * The mailbox store on both dialects: the same plans (as core/mailbox/record-plan.ts builds them)
 * recorded on SQLite and on Postgres give the same outcomes and the same rows; on Postgres, two
 * instances reading the same message record it once, and effects counted across messages (the
 * soft-bounce limit, the complaint figures) see each other as with SQLite's one writer.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { UnsubscribeEffects } from '../../../src/core/campaigns/unsubscribe-store.js';
import { emailHash } from '../../../src/core/keys.js';
import type {
  BounceRecipient,
  InboxRecord,
  MailboxEffects,
  MailboxStore,
} from '../../../src/core/mailbox/mailbox-store.js';
import { openPg, type PgDb } from '../../../src/db/pg/client.js';
import { PgMailboxStore } from '../../../src/db/pg/mailbox-store.js';
import { SqliteMailboxStore } from '../../../src/db/sqlite/mailbox-store.js';
import { dialects, openTestDatabase, type Query, type TestDatabase } from '../../pg/dialects.js';
import { someoneWaitsForALock } from '../../pg/locks.js';
import { freshPg } from '../../pg/pg.js';
import { seedAt, seedBatch, seedCampaign, seedContacts } from '../../pg/seed.js';

const hour = 3_600_000;
const day = 24 * hour;
const now = seedAt + hour;
const batch = 'batch_00000001_1760000000';
const url = 'https://crm.test/hook';

const storeOf = (t: TestDatabase): MailboxStore =>
  t.dialect === 'sqlite' ? new SqliteMailboxStore(t.db) : new PgMailboxStore(t.db);

const unsubscribeEffects = (reason: string): UnsubscribeEffects => ({
  reason: (campaignId) => `${reason} (${campaignId})`,
  webhooks: (found) => [
    {
      event: 'contact.unsubscribed',
      url,
      payload: JSON.stringify(found),
      createdAt: now,
      nextAttemptAt: now,
    },
  ],
});
const effects: MailboxEffects = {
  hardBounce: (b) => ({
    reason: `hard bounce of ${b.campaignId}: ${b.response}`,
    webhooks: [
      {
        event: 'contact.bounced',
        url,
        payload: JSON.stringify({ email: b.email }),
        createdAt: b.at,
        nextAttemptAt: b.at,
      },
    ],
  }),
  complaintReason: (campaignId) => `spam complaint about ${campaignId}`,
  replyReason: (campaignId) => `replied to ${campaignId}`,
  unsubscribe: unsubscribeEffects('asked by e-mail'),
  unsubscribedByEmail: 'asked by e-mail to be removed',
};

const hard = (email: string | null): BounceRecipient => ({
  email,
  status: '5.1.1',
  permanent: true,
  hard: true,
  reason: 'userunknown',
  replyCode: '550',
  diagnostic: `550 5.1.1 <${email}>: User unknown`,
});
const soft = (email: string | null): BounceRecipient => ({
  email,
  status: '4.2.2',
  permanent: false,
  hard: false,
  reason: 'mailboxfull',
  replyCode: '452',
  diagnostic: '452 4.2.2 Mailbox full',
});
const bounced = (r: BounceRecipient) => ({
  recipient: r,
  response: `${r.status} ${r.reason} (bounce read from the mailbox)`,
});

type Scene = {
  t: TestDatabase;
  store: MailboxStore;
  ids: { ana: number; bruno: number; carla: number; dave: number };
  sends: { ana: number; bruno: number; carla: number };
  plan(over: Partial<InboxRecord>): InboxRecord;
};

async function insertSend(q: Query, contactId: number, email: string, messageId: string, status = 'sent') {
  const [r] = await q<{ id: number }>(
    `INSERT INTO sends (campaign_id, contact_id, email_hash, run, status, attempts, message_id, response, claimed_at, updated_at)
     VALUES ('cmp_a', $1, $2, 1, $3, 1, $4, '250 ok', $5, $5) RETURNING id`,
    [contactId, emailHash(email), status, messageId, seedAt],
  );
  return Number(r?.id);
}

/** Ana, Bruno and Carla mailed by campaign cmp_a (Bruno before send refs), Dave never; Ana and Carla in its sequence. */
async function scene(t: TestDatabase, store = storeOf(t)): Promise<Scene> {
  await seedBatch(t, batch);
  const [ana, bruno, carla, dave] = await seedContacts(
    t,
    batch,
    ['ana@acme.test', 'bruno@acme.test', 'carla@acme.test', 'dave@acme.test'],
    { name: 'Person' },
  );
  if (!ana || !bruno || !carla || !dave) throw new Error('contacts not seeded');
  await seedCampaign(t, 'cmp_a', { status: 'sending' });
  const sends = {
    ana: await insertSend(t.query, ana, 'ana@acme.test', '<cb.1.aaaaaaaaaa@coldbatch.test>'),
    bruno: await insertSend(t.query, bruno, 'bruno@acme.test', '<legacy-1@coldbatch.test>'),
    carla: await insertSend(t.query, carla, 'carla@acme.test', '<cb.3.cccccccccc@coldbatch.test>'),
  };
  await t.query(
    'INSERT INTO sends (campaign_id, contact_id, email_hash, run, status, attempts, claimed_at, updated_at) VALUES ($1, NULL, $2, 1, $3, 0, $4, $4)',
    ['cmp_a', emailHash('gone@acme.test'), 'failed', seedAt],
  );
  for (const id of [ana, carla])
    await t.query(
      `INSERT INTO sequence_people (campaign_id, contact_id, step, next_due_at, updated_at) VALUES ('cmp_a', $1, 1, $2, $3)`,
      [id, seedAt + 3 * day, seedAt],
    );
  let uid = 0;
  const plan = (over: Partial<InboxRecord>): InboxRecord => ({
    ref: { mailbox: 'imap://bounces@mx.test:143/INBOX', uidValidity: '7', uid: ++uid },
    kind: 'reply',
    from: null,
    subject: 'Re: Hi',
    messageId: `<m${uid}@mail.test>`,
    receivedAt: now,
    snippet: null,
    details: null,
    match: { taggedSendId: null, messageIds: [], addresses: [], since: now - 30 * day },
    bounces: [],
    unsubscribe: null,
    softBounce: { limit: 3, windowMs: 30 * day },
    effects,
    now,
    ...over,
  });
  return { t, store, ids: { ana, bruno, carla, dave }, sends, plan };
}

const bool = (v: unknown) => v === true || v === 1;

async function contact(q: Query, id: number) {
  const [r] = await q<{ status: string; interest: string | null }>(
    'SELECT status, interest FROM contacts WHERE id = $1',
    [id],
  );
  return r;
}
async function history(q: Query, id: number) {
  return q<{ from_status: string | null; to_status: string; actor: string; reason: string | null }>(
    'SELECT from_status, to_status, actor, reason FROM contact_history WHERE contact_id = $1 ORDER BY id',
    [id],
  );
}
async function suppression(q: Query, email: string) {
  const [r] = await q<{ reason: string; actor: string }>(
    'SELECT reason, actor FROM suppressions WHERE email_hash = $1',
    [emailHash(email)],
  );
  return r ?? null;
}
async function send(q: Query, id: number) {
  const [r] = await q<Record<string, unknown>>(
    `SELECT status, attempts, response, replied_at, complained_at, soft_bounced_at, unsubscribed_at FROM sends WHERE id = $1`,
    [id],
  );
  return r;
}
async function stops(q: Query) {
  return q<{ contact_id: number; stop_reason: string | null }>(
    'SELECT contact_id, stop_reason FROM sequence_people ORDER BY contact_id',
  );
}
async function count(q: Query, table: string) {
  const [r] = await q<{ n: number }>(`SELECT count(*) AS n FROM ${table}`);
  return Number(r?.n);
}
async function webhooks(q: Query) {
  return (
    await q<{ event: string; payload: string }>('SELECT event, payload FROM webhook_deliveries ORDER BY id')
  ).map((w) => `${w.event} ${w.payload}`);
}

describe.each(dialects)('mailbox store (%s)', (dialect) => {
  let t: TestDatabase | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it('records a hard bounce matched by its tag with the bounce rule, once per (mailbox, UIDVALIDITY, UID)', async () => {
    t = await openTestDatabase(dialect);
    const s = await scene(t);
    const p = s.plan({
      kind: 'bounce',
      from: 'mailer-daemon@mx.test',
      subject: 'Undelivered',
      details: '{"bounces":[{"email":"ana@acme.test"}]}',
      match: { taggedSendId: s.sends.ana, messageIds: [], addresses: [], since: now - 30 * day },
      bounces: [bounced(hard('ana@acme.test'))],
    });
    expect(await s.store.seen(p.ref)).toBe(false);
    const out = await s.store.record(p);
    expect(out).toEqual({
      kind: 'recorded',
      id: expect.any(Number),
      match: { sendId: s.sends.ana, campaignId: 'cmp_a', contactId: s.ids.ana, by: 'tag' },
      hardBounced: 1,
      softBounced: 0,
      softSuppressed: 0,
      complained: false,
      replied: false,
      unsubscribed: false,
      complaintFigures: null,
    });
    expect(await s.store.seen(p.ref)).toBe(true);
    expect(await contact(t.query, s.ids.ana)).toMatchObject({ status: 'bounced' });
    expect(await history(t.query, s.ids.ana)).toEqual([
      {
        from_status: 'active',
        to_status: 'bounced',
        actor: 'system',
        reason: 'hard bounce of cmp_a: 5.1.1 userunknown (bounce read from the mailbox)',
      },
    ]);
    expect(await suppression(t.query, 'ana@acme.test')).toEqual({ reason: 'bounced', actor: 'system' });
    expect(await send(t.query, s.sends.ana)).toMatchObject({
      status: 'bounced',
      attempts: 1,
      response: '5.1.1 userunknown (bounce read from the mailbox)',
    });
    expect(await webhooks(t.query)).toEqual(['contact.bounced {"email":"ana@acme.test"}']);
    expect(await stops(t.query)).toEqual([
      { contact_id: s.ids.ana, stop_reason: 'bounced' },
      { contact_id: s.ids.carla, stop_reason: null },
    ]);
    if (out.kind !== 'recorded') throw new Error('not recorded');
    expect(await s.store.get(out.id)).toEqual({
      id: out.id,
      kind: 'bounce',
      from: 'mailer-daemon@mx.test',
      subject: 'Undelivered',
      messageId: p.messageId,
      receivedAt: now,
      sendId: s.sends.ana,
      campaignId: 'cmp_a',
      contactId: s.ids.ana,
      snippet: null,
      details: '{"bounces":[{"email":"ana@acme.test"}]}',
      unsubscribed: false,
      bounces: [
        {
          email: 'ana@acme.test',
          status: '5.1.1',
          permanent: true,
          hard: true,
          reason: 'userunknown',
          sendId: s.sends.ana,
        },
      ],
    });

    // The same ref again writes nothing; a new UIDVALIDITY is a new message.
    expect(await s.store.record({ ...p, bounces: [bounced(hard('ana@acme.test'))] })).toEqual({
      kind: 'duplicate',
    });
    expect([await count(t.query, 'inbox_messages'), await count(t.query, 'inbox_bounces')]).toEqual([1, 1]);
    expect(await history(t.query, s.ids.ana)).toHaveLength(1);
    expect(await webhooks(t.query)).toHaveLength(1);
    expect(await s.store.record({ ...p, ref: { ...p.ref, uidValidity: '8' } })).toMatchObject({
      kind: 'recorded',
    });
    expect(await count(t.query, 'inbox_messages')).toBe(2);
    expect(await s.store.get(987_654)).toBeNull();
  });

  it("matches a bounce's recipients one by one by address when the message names no send", async () => {
    t = await openTestDatabase(dialect);
    const s = await scene(t);
    const out = await s.store.record(
      s.plan({
        kind: 'bounce',
        bounces: [bounced(soft('bruno@acme.test')), bounced(hard('stranger@else.test'))],
      }),
    );
    expect(out).toMatchObject({
      kind: 'recorded',
      match: { sendId: s.sends.bruno, campaignId: 'cmp_a', contactId: s.ids.bruno, by: 'address' },
      hardBounced: 0,
      softBounced: 1,
      softSuppressed: 0,
    });
    if (out.kind !== 'recorded') throw new Error('not recorded');
    expect((await s.store.get(out.id))?.bounces).toEqual([
      {
        email: 'bruno@acme.test',
        status: '4.2.2',
        permanent: false,
        hard: false,
        reason: 'mailboxfull',
        sendId: s.sends.bruno,
      },
      {
        email: 'stranger@else.test',
        status: '5.1.1',
        permanent: true,
        hard: true,
        reason: 'userunknown',
        sendId: null,
      },
    ]);
    expect(await send(t.query, s.sends.bruno)).toMatchObject({ status: 'sent', soft_bounced_at: now });
    expect(await count(t.query, 'suppressions')).toBe(0);
    expect(await contact(t.query, s.ids.bruno)).toMatchObject({ status: 'active' });
    // One recipient naming no address: the message's own send (by its tag) is the one.
    const named = await s.store.record(
      s.plan({
        kind: 'bounce',
        match: { taggedSendId: s.sends.carla, messageIds: [], addresses: [], since: now - 30 * day },
        bounces: [bounced(soft(null))],
      }),
    );
    expect(named).toMatchObject({ softBounced: 1, match: { sendId: s.sends.carla, by: 'tag' } });
    if (named.kind !== 'recorded') throw new Error('not recorded');
    // Its row takes the contact's address.
    expect((await s.store.get(named.id))?.bounces[0]).toMatchObject({
      email: 'carla@acme.test',
      sendId: s.sends.carla,
    });
  });

  it('suppresses an address at the soft-bounce limit within the window (this one included), once', async () => {
    t = await openTestDatabase(dialect);
    const s = await scene(t);
    const carla = (receivedAt: number) =>
      s.plan({
        kind: 'bounce',
        receivedAt,
        match: { taggedSendId: s.sends.carla, messageIds: [], addresses: [], since: receivedAt - 30 * day },
        bounces: [bounced(soft('carla@acme.test'))],
        softBounce: { limit: 2, windowMs: 30 * day },
      });
    expect(await s.store.record(carla(now - 31 * day))).toMatchObject({ softBounced: 1, softSuppressed: 0 });
    expect(await s.store.record(carla(now))).toMatchObject({ softBounced: 1, softSuppressed: 0 });
    expect(await suppression(t.query, 'carla@acme.test')).toBeNull();
    expect(await s.store.record(carla(now))).toMatchObject({ softBounced: 1, softSuppressed: 1 });
    expect(await suppression(t.query, 'carla@acme.test')).toEqual({
      reason: 'soft_bounced',
      actor: 'system',
    });
    expect(await stops(t.query)).toEqual([
      { contact_id: s.ids.ana, stop_reason: null },
      { contact_id: s.ids.carla, stop_reason: 'left_audience' },
    ]);
    expect(await s.store.record(carla(now))).toMatchObject({ softBounced: 1, softSuppressed: 0 });
    // A soft bounce never changes the contact or settles the ledger row.
    expect(await contact(t.query, s.ids.carla)).toMatchObject({ status: 'active' });
    expect(await send(t.query, s.sends.carla)).toMatchObject({ status: 'sent', soft_bounced_at: now });
  });

  it('records a complaint matched by a Message-ID stored on the ledger, with the campaign figures after it', async () => {
    t = await openTestDatabase(dialect);
    const s = await scene(t);
    const out = await s.store.record(
      s.plan({
        kind: 'complaint',
        from: 'fbl@isp.test',
        match: {
          taggedSendId: null,
          messageIds: ['<cb.9.zzzzzzzzzz@coldbatch.test>', 'legacy-1@coldbatch.test'],
          addresses: [],
          since: now - 30 * day,
        },
      }),
    );
    expect(out).toMatchObject({
      complained: true,
      match: { sendId: s.sends.bruno, contactId: s.ids.bruno, by: 'message_id' },
      complaintFigures: { campaignId: 'cmp_a', complaints: 1, sent: 3 },
    });
    expect(await contact(t.query, s.ids.bruno)).toMatchObject({ status: 'complained' });
    expect((await history(t.query, s.ids.bruno)).at(-1)).toMatchObject({
      to_status: 'complained',
      actor: 'system',
      reason: 'spam complaint about cmp_a',
    });
    expect(await suppression(t.query, 'bruno@acme.test')).toEqual({ reason: 'complained', actor: 'system' });
    expect(await send(t.query, s.sends.bruno)).toMatchObject({ complained_at: now });
    // A second complaint keeps the first time; an unmatched one changes nothing.
    const again = await s.store.record(
      s.plan({
        kind: 'complaint',
        now: now + 1,
        match: { taggedSendId: null, messageIds: [], addresses: ['bruno@acme.test'], since: now - 30 * day },
      }),
    );
    expect(again).toMatchObject({ complaintFigures: { complaints: 1, sent: 3 } });
    expect(await send(t.query, s.sends.bruno)).toMatchObject({ complained_at: now });
    expect(await s.store.record(s.plan({ kind: 'complaint' }))).toMatchObject({
      complained: false,
      match: null,
      complaintFigures: null,
    });
  });

  it('records a reply by address and serves its notice: noticed, interest, unsubscribe from the button', async () => {
    t = await openTestDatabase(dialect);
    const s = await scene(t);
    const out = await s.store.record(
      s.plan({
        from: 'ana@acme.test',
        snippet: 'Call me',
        match: {
          taggedSendId: null,
          messageIds: ['<m0@mail.test>'],
          addresses: ['ana@acme.test'],
          since: now - 30 * day,
        },
      }),
    );
    expect(out).toMatchObject({ replied: true, match: { sendId: s.sends.ana, by: 'address' } });
    if (out.kind !== 'recorded') throw new Error('not recorded');
    expect(await contact(t.query, s.ids.ana)).toEqual({ status: 'replied', interest: null });
    expect(await history(t.query, s.ids.ana)).toEqual([
      { from_status: 'active', to_status: 'replied', actor: 'system', reason: 'replied to cmp_a' },
    ]);
    expect(await send(t.query, s.sends.ana)).toMatchObject({ replied_at: now, status: 'sent' });
    expect((await stops(t.query))[0]).toEqual({ contact_id: s.ids.ana, stop_reason: 'replied' });

    // A bounced contact's reply keeps its status; an unmatched reply has no notice.
    await t.query(`UPDATE contacts SET status = 'bounced' WHERE id = $1`, [s.ids.bruno]);
    const bruno = await s.store.record(
      s.plan({
        from: 'bruno@acme.test',
        match: { taggedSendId: s.sends.bruno, messageIds: [], addresses: [], since: 0 },
      }),
    );
    expect(bruno).toMatchObject({ replied: true });
    expect(await contact(t.query, s.ids.bruno)).toMatchObject({ status: 'bounced' });
    expect(await history(t.query, s.ids.bruno)).toEqual([]);
    const stranger = await s.store.record(
      s.plan({ from: 'who@else.test', match: { ...s.plan({}).match, addresses: ['who@else.test'] } }),
    );
    expect(stranger).toMatchObject({ replied: false, match: null });

    const notice = {
      id: out.id,
      campaignId: 'cmp_a',
      campaignName: 'Campaign cmp_a',
      progressRef: null,
      contactId: s.ids.ana,
      from: 'ana@acme.test',
      name: 'Person',
      subject: 'Re: Hi',
      snippet: 'Call me',
      unsubscribed: false,
      interest: null,
      receivedAt: now,
      noticeRef: null,
    };
    const pending = await s.store.pendingNotices(10);
    expect(pending.map((n) => n.id)).toEqual([out.id, bruno.kind === 'recorded' ? bruno.id : 0]);
    expect(pending[0]).toEqual(notice);
    expect(await s.store.pendingNotices(1)).toHaveLength(1);
    expect(await s.store.markNoticed(out.id, '{"ts":"1.2"}', now)).toBe(true);
    expect(await s.store.markNoticed(987_654, '{"ts":"1.3"}', now)).toBe(false);
    expect((await s.store.pendingNotices(10)).map((n) => n.id)).not.toContain(out.id);
    expect(await s.store.notice(out.id)).toEqual({ ...notice, noticeRef: '{"ts":"1.2"}' });
    expect(await s.store.notice(987_654)).toBeNull();

    expect(await s.store.setInterest(out.id, 'interested', now + 1)).toEqual({
      ...notice,
      noticeRef: '{"ts":"1.2"}',
      interest: 'interested',
    });
    expect(await contact(t.query, s.ids.ana)).toEqual({ status: 'replied', interest: 'interested' });
    if (stranger.kind !== 'recorded') throw new Error('not recorded');
    expect(await s.store.setInterest(stranger.id, 'not_interested', now)).toBeNull();

    const unsubscribed = await s.store.unsubscribeSender(
      out.id,
      'U1',
      now + 2,
      unsubscribeEffects('from the notice'),
    );
    expect(unsubscribed).toMatchObject({ id: out.id, unsubscribed: true, interest: 'interested' });
    expect(await contact(t.query, s.ids.ana)).toMatchObject({ status: 'unsubscribed' });
    expect((await history(t.query, s.ids.ana)).at(-1)).toEqual({
      from_status: 'replied',
      to_status: 'unsubscribed',
      actor: 'U1',
      reason: 'from the notice (cmp_a)',
    });
    expect(await suppression(t.query, 'ana@acme.test')).toEqual({ reason: 'unsubscribed', actor: 'U1' });
    expect(await send(t.query, s.sends.ana)).toMatchObject({ unsubscribed_at: now + 2 });
    expect(await webhooks(t.query)).toEqual([
      `contact.unsubscribed ${JSON.stringify({ email: 'ana@acme.test', contactId: s.ids.ana, campaignId: 'cmp_a' })}`,
    ]);
    expect(await s.store.unsubscribeSender(stranger.id, 'U1', now, unsubscribeEffects('x'))).toBeNull();
    expect(await s.store.unsubscribeSender(987_654, 'U1', now, unsubscribeEffects('x'))).toBeNull();
  });

  it('unsubscribes by e-mail: the token, else the match, else the sender latest send, else the contact, else the hash', async () => {
    t = await openTestDatabase(dialect);
    const s = await scene(t);
    const ask = (from: string | null, tokenSendId: number | null, isReply: boolean) =>
      s.store.record(
        s.plan({
          from,
          unsubscribe: { tokenSendId, isReply },
          match: { ...s.plan({}).match, addresses: from ? [from] : [] },
        }),
      );

    // A token from another address (the mail client's own): that send; no reply mark.
    const token = await ask('alias@other.test', s.sends.carla, false);
    expect(token).toMatchObject({
      unsubscribed: true,
      replied: false,
      match: { sendId: s.sends.carla, by: 'unsubscribe_token' },
    });
    expect(await send(t.query, s.sends.carla)).toMatchObject({ unsubscribed_at: now, replied_at: null });
    expect(await contact(t.query, s.ids.carla)).toMatchObject({ status: 'unsubscribed' });
    if (token.kind !== 'recorded') throw new Error('not recorded');
    expect((await s.store.get(token.id))?.unsubscribed).toBe(true);

    // A removal reply matched by address: also a reply on the ledger.
    expect(await ask('bruno@acme.test', null, true)).toMatchObject({
      unsubscribed: true,
      match: { sendId: s.sends.bruno },
    });
    expect(await send(t.query, s.sends.bruno)).toMatchObject({ unsubscribed_at: now, replied_at: now });
    expect((await history(t.query, s.ids.bruno)).at(-1)).toMatchObject({
      actor: 'recipient',
      reason: 'asked by e-mail (cmp_a)',
    });

    // Mailed more than 30 days ago: still found by address (any age).
    const old = await s.store.record(
      s.plan({
        from: 'ana@acme.test',
        receivedAt: now + 60 * day,
        match: { taggedSendId: null, messageIds: [], addresses: ['ana@acme.test'], since: now + 30 * day },
        unsubscribe: { tokenSendId: null, isReply: true },
      }),
    );
    expect(old).toMatchObject({ unsubscribed: true, match: { sendId: s.sends.ana, by: 'address' } });

    // Never mailed: the contact; unknown: the hash alone; nobody: nothing.
    expect(await ask('dave@acme.test', null, true)).toMatchObject({ unsubscribed: true, match: null });
    expect(await contact(t.query, s.ids.dave)).toMatchObject({ status: 'unsubscribed' });
    expect((await history(t.query, s.ids.dave)).at(-1)).toEqual({
      from_status: 'active',
      to_status: 'unsubscribed',
      actor: 'recipient',
      reason: 'asked by e-mail to be removed',
    });
    expect(await ask('zed@else.test', null, false)).toMatchObject({ unsubscribed: true, match: null });
    expect(await suppression(t.query, 'zed@else.test')).toEqual({
      reason: 'unsubscribed',
      actor: 'recipient',
    });
    expect(await ask(null, null, false)).toMatchObject({ unsubscribed: false, match: null });
    const rows = await t.query<{ unsubscribed: unknown }>(
      'SELECT unsubscribed FROM inbox_messages ORDER BY id',
    );
    expect(rows.map((r) => bool(r.unsubscribed))).toEqual([true, true, true, true, true, false]);
  });

  it('lists newest first, by kind, by campaign, after a cursor, each with its bounce rows', async () => {
    t = await openTestDatabase(dialect);
    const s = await scene(t);
    const ids: number[] = [];
    for (const p of [
      s.plan({ kind: 'bounce', bounces: [bounced(soft('carla@acme.test')), bounced(hard(null))] }),
      s.plan({
        kind: 'auto_reply',
        from: 'ana@acme.test',
        match: { ...s.plan({}).match, addresses: ['ana@acme.test'] },
      }),
      s.plan({ kind: 'unknown', from: 'x@else.test' }),
      s.plan({
        kind: 'bounce',
        match: { ...s.plan({}).match, taggedSendId: s.sends.bruno },
        bounces: [bounced(hard('bruno@acme.test'))],
      }),
    ]) {
      const out = await s.store.record(p);
      if (out.kind !== 'recorded') throw new Error('not recorded');
      ids.push(out.id);
    }
    const [b1, auto, unknown, b2] = ids;
    const all = await s.store.list({ limit: 10 });
    expect(all.map((m) => m.id)).toEqual([b2, unknown, auto, b1]);
    expect(all.map((m) => m.bounces.length)).toEqual([1, 0, 0, 2]);
    expect(all[3]?.bounces.map((b) => [b.email, b.hard, b.sendId])).toEqual([
      ['carla@acme.test', false, s.sends.carla],
      [null, true, null],
    ]);
    expect(all[1]).toMatchObject({
      kind: 'unknown',
      from: 'x@else.test',
      campaignId: null,
      contactId: null,
      sendId: null,
    });
    expect((await s.store.list({ kind: 'bounce', limit: 10 })).map((m) => m.id)).toEqual([b2, b1]);
    expect((await s.store.list({ campaignId: 'cmp_a', limit: 10 })).map((m) => m.id)).toEqual([b2, auto, b1]);
    expect((await s.store.list({ beforeId: unknown, limit: 1 })).map((m) => m.id)).toEqual([auto]);
    expect(
      (await s.store.list({ kind: 'bounce', campaignId: 'cmp_a', beforeId: b2, limit: 5 })).map((m) => m.id),
    ).toEqual([b1]);
    expect(await s.store.list({ kind: 'complaint', limit: 5 })).toEqual([]);
  });
});

/** Two pools on one fresh Postgres database: two app instances sharing it. */
async function twoInstances(): Promise<{ t: TestDatabase; db: PgDb; other: PgDb; url: string }> {
  const main = await freshPg();
  const other = openPg(main.url, { max: 5 });
  const query: Query = async <T>(text: string, values: unknown[] = []) =>
    (await main.db.$client.query(text, values)).rows as T[];
  const close = async () => {
    await other.$client.end();
    await main.drop();
  };
  return { t: { dialect: 'postgres', db: main.db, query, close }, db: main.db, other, url: main.url };
}

describe('the mailbox store on Postgres with several instances', () => {
  let t: TestDatabase | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it('records a message read by two instances at once exactly once, with its effects once', async () => {
    const two = await twoInstances();
    t = two.t;
    const s = await scene(t, new PgMailboxStore(two.db));
    const there = new PgMailboxStore(two.other);
    const plans = [
      s.plan({
        kind: 'bounce',
        match: { ...s.plan({}).match, taggedSendId: s.sends.ana },
        bounces: [bounced(hard('ana@acme.test'))],
      }),
      s.plan({ from: 'bruno@acme.test', match: { ...s.plan({}).match, addresses: ['bruno@acme.test'] } }),
      s.plan({ from: 'carla@acme.test', unsubscribe: { tokenSendId: null, isReply: true } }),
      s.plan({ kind: 'bounce', bounces: [bounced(soft('dave@acme.test'))] }),
    ];
    for (const p of plans) {
      const outcomes = await Promise.all([s.store.record(p), there.record(p)]);
      expect(outcomes.map((o) => o.kind).sort()).toEqual(['duplicate', 'recorded']);
    }
    expect(await count(t.query, 'inbox_messages')).toBe(4);
    expect(await count(t.query, 'inbox_bounces')).toBe(2);
    const changes = await t.query<{ contact_id: number; to_status: string }>(
      'SELECT contact_id, to_status FROM contact_history ORDER BY contact_id',
    );
    expect(changes).toEqual([
      { contact_id: s.ids.ana, to_status: 'bounced' },
      { contact_id: s.ids.bruno, to_status: 'replied' },
      { contact_id: s.ids.carla, to_status: 'unsubscribed' },
    ]);
    expect((await webhooks(t.query)).map((w) => w.split(' ')[0])).toEqual([
      'contact.bounced',
      'contact.unsubscribed',
    ]);
  });

  it('a record waits for another instance recording the same ref: a duplicate once it commits, recorded if it rolls back', async () => {
    const two = await twoInstances();
    t = two.t;
    const s = await scene(t, new PgMailboxStore(two.db));
    for (const end of ['COMMIT', 'ROLLBACK'] as const) {
      const p = s.plan({
        from: 'bruno@acme.test',
        match: { ...s.plan({}).match, addresses: ['bruno@acme.test'] },
      });
      const other = await two.other.$client.connect();
      try {
        await other.query('BEGIN');
        await other.query(
          `INSERT INTO inbox_messages (mailbox, uid_validity, uid, kind, received_at, processed_at) VALUES ($1, $2, $3, 'reply', $4, $4)`,
          [p.ref.mailbox, p.ref.uidValidity, p.ref.uid, now],
        );
        const pending = s.store.record(p);
        await someoneWaitsForALock(t.query);
        await other.query(end);
        expect((await pending).kind).toBe(end === 'COMMIT' ? 'duplicate' : 'recorded');
      } finally {
        other.release();
      }
    }
    // Only the recorded one replied.
    expect(await send(t.query, s.sends.bruno)).toMatchObject({ replied_at: now });
    expect(await count(t.query, 'inbox_messages')).toBe(2);
  });

  it('soft bounces of one address (three messages, three sends) recorded at once by three instances reach the limit once', async () => {
    const two = await twoInstances();
    t = two.t;
    const s = await scene(t, new PgMailboxStore(two.db));
    const third = openPg(two.url, { max: 2 });
    try {
      const stores = [s.store, new PgMailboxStore(two.other), new PgMailboxStore(third)];
      // Carla's later steps: each message names a send of its own, so no ledger row lock orders them.
      const carla = [s.sends.carla];
      for (const step of [2, 3]) {
        const [r] = await t.query<{ id: number }>(
          `INSERT INTO sends (campaign_id, contact_id, email_hash, run, step, status, attempts, claimed_at, updated_at)
           VALUES ('cmp_a', $1, $2, 1, $3, 'sent', 1, $4, $4) RETURNING id`,
          [s.ids.carla, emailHash('carla@acme.test'), step, seedAt],
        );
        carla.push(Number(r?.id));
      }
      const outcomes = await Promise.all(
        stores.map((store, i) =>
          store.record(
            s.plan({
              kind: 'bounce',
              match: { ...s.plan({}).match, taggedSendId: carla[i] ?? null },
              bounces: [bounced(soft('carla@acme.test'))],
            }),
          ),
        ),
      );
      expect(outcomes.map((o) => (o.kind === 'recorded' ? o.softSuppressed : -1)).sort()).toEqual([0, 0, 1]);
      expect(await suppression(t.query, 'carla@acme.test')).toEqual({
        reason: 'soft_bounced',
        actor: 'system',
      });
    } finally {
      await third.$client.end();
    }
  });

  it('complaints about one campaign recorded at once by two instances: the later figures count both', async () => {
    const two = await twoInstances();
    t = two.t;
    const s = await scene(t, new PgMailboxStore(two.db));
    const stores = [s.store, new PgMailboxStore(two.other)];
    for (const round of [0, 1]) {
      const sends = round === 0 ? [s.sends.ana, s.sends.bruno] : [s.sends.carla];
      const complaints = await Promise.all(
        sends.map((sendId, i) =>
          stores[i]!.record(
            s.plan({ kind: 'complaint', match: { ...s.plan({}).match, taggedSendId: sendId } }),
          ),
        ),
      );
      const counted = complaints.map((o) => (o.kind === 'recorded' ? o.complaintFigures?.complaints : -1));
      expect(counted.sort()).toEqual(round === 0 ? [1, 2] : [3]);
    }
  });
});
