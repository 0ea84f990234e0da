/**
 * CampaignStore on SQLite and on Postgres: the same scenario on both, asserting on outcomes
 * (returned values, rows read back), and on Postgres two instances changing one campaign at once.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type {
  CampaignStore,
  NewCampaign,
  SendStatusCount,
} from '../../../src/core/campaigns/campaign-store.js';
import { requeueFailed } from '../../../src/core/campaigns/retry-failed.js';
import { CampaignStateMachine } from '../../../src/core/campaigns/state-machine.js';
import { PgCampaignStore } from '../../../src/db/pg/campaign-store.js';
import { openPg, type PgDb } from '../../../src/db/pg/client.js';
import { SqliteCampaignStore } from '../../../src/db/sqlite/campaign-store.js';
import { createLogger } from '../../../src/logger.js';
import { refusal, testClock } from '../../helpers.js';
import { dialects, openTestDatabase, type TestDatabase } from '../../pg/dialects.js';
import { seedAt, seedBatch, seedContacts } from '../../pg/seed.js';

const log = createLogger('silent');

function campaignStore(t: TestDatabase): CampaignStore {
  return t.dialect === 'sqlite' ? new SqliteCampaignStore(t.db) : new PgCampaignStore(t.db);
}

/** The state machine over a store: the code that turns the store's refusals into DomainErrors. */
const machineOver = (store: CampaignStore, now = seedAt + 60_000) =>
  new CampaignStateMachine(store, { clock: testClock(now), log });

const newCampaign = (id: string, over: Partial<NewCampaign> = {}): NewCampaign => ({
  id,
  name: `Campaign ${id}`,
  subject: 'Hello {{name}}',
  body: 'Hi {{name}}',
  html: null,
  fromAddress: 'sales@coldbatch.test',
  status: 'draft',
  createdBy: 'U_ADMIN',
  createdAt: seedAt,
  updatedAt: seedAt,
  ...over,
});

const event = (kind: 'created' | 'paused' | 'started' | 'cancelled' | 'completed', at = seedAt) => ({
  at,
  actor: 'U_ADMIN',
  kind,
  detail: `${kind} detail`,
});

/** A ledger row for a contact (its hash copied from the contact); its id. */
async function seedSend(
  t: TestDatabase,
  campaignId: string,
  contactId: number,
  status: string,
  o: { step?: number; messageId?: string; unsubscribedAt?: number; repliedAt?: number } = {},
): Promise<number> {
  const [r] = await t.query<{ id: number }>(
    `INSERT INTO sends (campaign_id, contact_id, email_hash, run, step, status, attempts, message_id,
                        claimed_at, updated_at, unsubscribed_at, replied_at)
     VALUES ($1, $2, (SELECT email_hash FROM contacts WHERE id = $2), 1, $3, $4, 1, $5, $6, $6, $7, $8)
     RETURNING id`,
    [
      campaignId,
      contactId,
      o.step ?? 1,
      status,
      o.messageId ?? null,
      seedAt,
      o.unsubscribedAt ?? null,
      o.repliedAt ?? null,
    ],
  );
  return Number(r!.id);
}

/** Send counts in one order, whatever order a dialect groups them in. */
const sorted = (counts: SendStatusCount[]) => [...counts].sort((a, b) => (a.status < b.status ? -1 : 1));

async function kinds(t: TestDatabase, id: string): Promise<string[]> {
  const r = await t.query<{ kind: string }>(
    'SELECT kind FROM campaign_events WHERE campaign_id = $1 ORDER BY id',
    [id],
  );
  return r.map((x) => x.kind);
}

async function statusIn(t: TestDatabase, id: string): Promise<string | undefined> {
  return (await t.query<{ status: string }>('SELECT status FROM campaigns WHERE id = $1', [id]))[0]?.status;
}

describe.each(dialects)('CampaignStore (%s)', (dialect) => {
  let t: TestDatabase | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });
  const open = async () => {
    t = await openTestDatabase(dialect);
    return { t, store: campaignStore(t) };
  };

  it('inserts a campaign with its history, finds it, reads its status; a second insert of the id is refused whole', async () => {
    const { t, store } = await open();
    await store.insert(newCampaign('cmp_1', { cron: '0 9 * * 1-5', dailyLimit: 50 }), [
      event('created'),
      event('paused', seedAt + 1),
    ]);
    expect(await store.find('cmp_1')).toEqual({
      ...newCampaign('cmp_1', { cron: '0 9 * * 1-5', dailyLimit: 50 }),
      steps: null,
      sendAt: null,
      ratePerMinute: null,
      sendWindow: null,
      timezone: 'UTC',
      statusReason: null,
      nextRunAt: null,
      awaitingConfirmation: false,
      runCount: 0,
      runStartedAt: null,
      startedAt: null,
      completedAt: null,
      progressRef: null,
      approvalRequiredAt: null,
      approvedBy: null,
      approvedAt: null,
      heldReason: null,
      heldChecks: null,
    });
    expect(await store.find('cmp_none')).toBeNull();
    expect(await store.statusOf('cmp_1')).toBe('draft');
    expect(await store.statusOf('cmp_none')).toBeNull();
    await expect(store.insert(newCampaign('cmp_1'), [event('created', seedAt + 5)])).rejects.toThrow();
    expect(await kinds(t, 'cmp_1')).toEqual(['created', 'paused']);
  });

  it('lists newest first with a byte-order cursor, by status, and the due ones', async () => {
    const { store } = await open();
    // Same created_at: the ids decide, byte by byte (upper case before lower case, '-' before letters).
    for (const id of ['cmp_a', 'cmp_B', 'cmp_Z', 'cmp-x'])
      await store.insert(newCampaign(id, { status: 'scheduled', nextRunAt: seedAt }));
    await store.insert(newCampaign('cmp_new', { createdAt: seedAt + 10, status: 'sending' }));
    const ids = async (q: Parameters<CampaignStore['list']>[0]) => (await store.list(q)).map((c) => c.id);
    expect(await ids({ limit: 10 })).toEqual(['cmp_new', 'cmp_a', 'cmp_Z', 'cmp_B', 'cmp-x']);
    expect(await ids({ limit: 2, before: { createdAt: seedAt + 10, id: 'cmp_new' } })).toEqual([
      'cmp_a',
      'cmp_Z',
    ]);
    expect(await ids({ limit: 10, before: { createdAt: seedAt, id: 'cmp_Z' } })).toEqual(['cmp_B', 'cmp-x']);
    expect(await ids({ limit: 10, status: 'sending' })).toEqual(['cmp_new']);
    expect((await store.listByStatus('scheduled')).map((c) => c.id).sort()).toEqual(
      ['cmp_a', 'cmp_B', 'cmp_Z', 'cmp-x'].sort(),
    );
    expect(await store.listByStatus('paused')).toEqual([]);

    // Due: scheduled, not awaiting confirmation, approved when approval is required, next run reached.
    await store.update('cmp_a', { awaitingConfirmation: true });
    await store.update('cmp_B', { approvalRequiredAt: seedAt });
    await store.update('cmp_Z', { approvalRequiredAt: seedAt, approvedBy: 'U_OTHER', approvedAt: seedAt });
    await store.update('cmp-x', { nextRunAt: seedAt + 1000 });
    expect((await store.listDue(seedAt)).map((c) => c.id)).toEqual(['cmp_Z']);
    expect((await store.listDue(seedAt + 1000)).map((c) => c.id).sort()).toEqual(['cmp-x', 'cmp_Z'].sort());
  });

  it('updates under a guard, with its history line only when it applied; a cancel stops the waiting people', async () => {
    const { t, store } = await open();
    await seedBatch(t, 'batch_1');
    const [c1, c2] = await seedContacts(t, 'batch_1', ['a@x.test', 'b@x.test']);
    await store.insert(newCampaign('cmp_1', { status: 'sending' }));
    expect(
      await store.update('cmp_1', { status: 'paused' }, { status: ['scheduled'] }, event('paused')),
    ).toBe(false);
    expect(
      await store.update('cmp_1', { statusReason: 'x', updatedAt: seedAt + 1 }, { status: ['sending'] }),
    ).toBe(true);
    expect(await store.update('cmp_1', { approvedBy: 'U_2' }, { unapproved: true })).toBe(true);
    expect(await store.update('cmp_1', { approvedBy: 'U_3' }, { unapproved: true })).toBe(false);
    expect(await store.update('cmp_none', { statusReason: 'x' }, {}, event('paused'))).toBe(false);
    expect(await kinds(t, 'cmp_1')).toEqual([]);

    const send = await seedSend(t, 'cmp_1', c2!, 'claimed', { step: 2 });
    await t.query(
      `INSERT INTO sequence_people (campaign_id, contact_id, step, next_due_at, last_send_id, updated_at)
       VALUES ($1, $2, 1, $3, NULL, $4), ($1, $5, 2, NULL, $6, $4)`,
      ['cmp_1', c1, seedAt + 5000, seedAt, c2, send],
    );
    const cancelled = { status: 'cancelled' as const, completedAt: seedAt + 2, updatedAt: seedAt + 2 };
    expect(
      await store.update('cmp_1', cancelled, { status: ['sending', 'paused'] }, event('cancelled')),
    ).toBe(true);
    const c = await store.find('cmp_1');
    expect([c?.status, c?.statusReason, c?.approvedBy, c?.completedAt]).toEqual([
      'cancelled',
      'x',
      'U_2',
      seedAt + 2,
    ]);
    expect(await kinds(t, 'cmp_1')).toEqual(['cancelled']);
    const people = await t.query<{
      contact_id: number;
      stop_reason: string;
      stopped_at: number;
      next_due_at: null;
    }>('SELECT contact_id, stop_reason, stopped_at, next_due_at FROM sequence_people ORDER BY contact_id');
    expect(
      people.map((p) => [Number(p.contact_id), p.stop_reason, Number(p.stopped_at), p.next_due_at]),
    ).toEqual([
      [c1, 'cancelled', seedAt + 2, null],
      [c2, 'cancelled', seedAt + 2, null],
    ]);
  });

  it('completes a sending campaign with the webhook rows of its final counts, and only a sending one', async () => {
    const { t, store } = await open();
    await seedBatch(t, 'batch_1');
    const [a, b, c] = await seedContacts(t, 'batch_1', ['a@x.test', 'b@x.test', 'c@x.test']);
    await store.insert(newCampaign('cmp_1', { status: 'sending' }));
    await seedSend(t, 'cmp_1', a!, 'sent', { messageId: '<m1>', unsubscribedAt: seedAt, repliedAt: seedAt });
    await seedSend(t, 'cmp_1', b!, 'sent', { messageId: '<m2>' });
    await seedSend(t, 'cmp_1', c!, 'failed');
    const seen: SendStatusCount[][] = [];
    const webhooks = (counts: SendStatusCount[]) => {
      seen.push(counts);
      const payload = JSON.stringify(sorted(counts).map((x) => [x.status, x.n]));
      return [
        {
          event: 'campaign.completed' as const,
          url: 'https://hook.test/',
          payload,
          createdAt: 1,
          nextAttemptAt: 1,
        },
      ];
    };
    const patch = { status: 'completed' as const, completedAt: seedAt + 9, updatedAt: seedAt + 9 };
    expect(await store.complete('cmp_1', patch, webhooks, event('completed'))).toBe(true);
    expect(await store.complete('cmp_1', patch, webhooks, event('completed'))).toBe(false);
    expect(seen).toHaveLength(1);
    expect(sorted(seen[0]!)).toEqual(sorted(await store.sendCounts('cmp_1')));
    const hooks = await t.query<{ payload: string }>('SELECT payload FROM webhook_deliveries');
    expect(hooks.map((h) => h.payload)).toEqual([
      JSON.stringify([
        ['failed', 1],
        ['sent', 2],
      ]),
    ]);
    expect(await kinds(t, 'cmp_1')).toEqual(['completed']);
    expect(await statusIn(t, 'cmp_1')).toBe('completed');
  });

  it('puts a notice on a sending campaign that has none and clears it by prefix (ASCII case ignored)', async () => {
    const { store } = await open();
    await store.insert(newCampaign('cmp_1', { status: 'sending' }));
    await store.insert(newCampaign('cmp_2', { status: 'paused' }));
    expect(await store.setNotice('cmp_2', 'Mail server down', seedAt)).toBe(false);
    expect(await store.setNotice('cmp_1', 'Mail server down: waiting', seedAt + 1)).toBe(true);
    expect(await store.setNotice('cmp_1', 'Another', seedAt + 2)).toBe(false);
    expect(await store.clearNotice('cmp_1', 'Disk', seedAt + 3)).toBe(false);
    expect(await store.clearNotice('cmp_1', 'MAIL SERVER', seedAt + 4)).toBe(true);
    const c = await store.find('cmp_1');
    expect([c?.statusReason, c?.updatedAt]).toEqual([null, seedAt + 4]);
    expect(await store.clearNotice('cmp_1', '', seedAt + 5)).toBe(false);
  });

  it('counts the ledger by status with its marks, and who in the audience it has not reached', async () => {
    const { t, store } = await open();
    await seedBatch(t, 'batch_1');
    await seedBatch(t, 'batch_old', { status: 'inactive' });
    const [a, b, c, d, e] = await seedContacts(t, 'batch_1', [
      'a@x.test',
      'b@x.test',
      'c@x.test',
      'd@x.test',
      'e@x.test',
    ]);
    await seedContacts(t, 'batch_1', ['gone@x.test'], { status: 'inactive' });
    await seedContacts(t, 'batch_old', ['old@x.test']);
    await t.query(
      `INSERT INTO suppressions (email_hash, reason, actor, created_at)
       SELECT email_hash, 'manual', 'U_ADMIN', $1 FROM contacts WHERE id = $2`,
      [seedAt, e],
    );
    await t.query(`UPDATE contacts SET validation = 'no_mail_domain' WHERE id = $1`, [d]);
    await store.insert(newCampaign('cmp_1', { status: 'sending' }));
    expect(await store.sendCounts('cmp_1')).toEqual([]);
    expect(await store.remaining('cmp_1')).toBe(3); // a, b, c (d: no mail domain, e: suppressed)
    await t.query('UPDATE batches SET include_invalid_domains = $1 WHERE id = $2', [true, 'batch_1']);
    expect(await store.remaining('cmp_1')).toBe(4);
    await seedSend(t, 'cmp_1', a!, 'sent', { messageId: '<m1>', unsubscribedAt: seedAt, repliedAt: seedAt });
    await seedSend(t, 'cmp_1', b!, 'bounced', { messageId: '<m2>' });
    await seedSend(t, 'cmp_1', c!, 'sent');
    expect(await store.remaining('cmp_1')).toBe(1);
    const zeros = { complained: 0, softBounced: 0, interested: 0 };
    expect(sorted(await store.sendCounts('cmp_1'))).toEqual([
      { status: 'bounced', n: 1, unsub: 0, accepted: 1, replied: 0, ...zeros },
      { status: 'sent', n: 2, unsub: 1, accepted: 1, replied: 1, ...zeros },
    ]);
  });

  it('re-queues a completed campaign’s failed rows still in the audience, and refuses the rest with the same DomainErrors', async () => {
    const { t, store } = await open();
    const machine = machineOver(store);
    await seedBatch(t, 'batch_1');
    const [a, b, c] = await seedContacts(t, 'batch_1', ['a@x.test', 'b@x.test', 'c@x.test']);
    await store.insert(newCampaign('cmp_1', { status: 'completed', completedAt: seedAt }));
    await store.insert(newCampaign('cmp_2', { status: 'completed', completedAt: seedAt }));
    await store.insert(newCampaign('cmp_3', { status: 'paused' }));
    await seedSend(t, 'cmp_1', a!, 'failed');
    await seedSend(t, 'cmp_1', b!, 'failed');
    await seedSend(t, 'cmp_1', c!, 'unknown');
    await t.query(`UPDATE contacts SET status = 'unsubscribed' WHERE id = $1`, [b]);
    await seedSend(t, 'cmp_2', a!, 'sent');

    expect(await store.requeue('cmp_none', ['failed'], seedAt, {})).toEqual({ kind: 'missing' });
    expect((await refusal(() => requeueFailed(machine, log, seedAt, 'cmp_none', 'U_ADMIN', {}))).code).toBe(
      'not_found',
    );
    const paused = await refusal(() => requeueFailed(machine, log, seedAt, 'cmp_3', 'U_ADMIN', {}));
    expect([paused.code, paused.message]).toEqual([
      'conflict',
      "Campaign cmp_3 is paused; only a completed campaign's failed sends can be retried.",
    ]);
    const nothing = await refusal(() => requeueFailed(machine, log, seedAt, 'cmp_2', 'U_ADMIN', {}));
    expect(nothing.code).toBe('conflict');
    expect(await requeueFailed(machine, log, seedAt + 7, 'cmp_1', 'U_ADMIN', {})).toBe(1);
    const rows = await t.query<{
      contact_id: number;
      status: string;
      attempts: number;
      next_attempt_at: number | null;
    }>('SELECT contact_id, status, attempts, next_attempt_at FROM sends WHERE campaign_id = $1 ORDER BY id', [
      'cmp_1',
    ]);
    expect(
      rows.map((r) => [
        Number(r.contact_id),
        r.status,
        Number(r.attempts),
        r.next_attempt_at && Number(r.next_attempt_at),
      ]),
    ).toEqual([
      [a, 'retry', 0, seedAt + 7],
      [b, 'failed', 1, null],
      [c, 'unknown', 1, null],
    ]);
    const reopened = await store.find('cmp_1');
    expect([reopened?.status, reopened?.runStartedAt, reopened?.completedAt]).toEqual([
      'sending',
      seedAt + 7,
      seedAt,
    ]);
    expect(await kinds(t, 'cmp_1')).toEqual(['started']);
    expect(await store.requeue('cmp_1', ['failed'], seedAt, {})).toEqual({
      kind: 'not_completed',
      status: 'sending',
    });
  });

  it('moves through the state machine, refusing a move from the wrong status with the same DomainError', async () => {
    const { t, store } = await open();
    const machine = machineOver(store);
    await store.insert(newCampaign('cmp_1', { status: 'completed' }));
    await store.insert(newCampaign('cmp_2', { status: 'sending' }));
    const e = await refusal(() =>
      machine.transition('cmp_1', ['scheduled', 'sending'], 'paused', 'U_ADMIN', null),
    );
    expect([e.code, e.message]).toEqual([
      'conflict',
      'Campaign cmp_1 is completed; it cannot become paused.',
    ]);
    expect(
      (await refusal(() => machine.transition('cmp_x', ['sending'], 'paused', 'U_ADMIN', null))).code,
    ).toBe('not_found');
    await machine.transition('cmp_2', ['scheduled', 'sending'], 'paused', 'U_ADMIN', 'lunch');
    await machine.transition('cmp_2', ['scheduled', 'sending'], 'paused', 'U_ADMIN', 'again'); // no-op
    expect(await machine.pause('cmp_2', 'bounce rate')).toBe(false);
    expect(await kinds(t, 'cmp_2')).toEqual(['paused']);
    expect((await store.find('cmp_2'))?.statusReason).toBe('lunch');
  });

  it('reads the last history lines oldest first with the total, and the results by id', async () => {
    const { t, store } = await open();
    await seedBatch(t, 'batch_1');
    const [a, b, c] = await seedContacts(t, 'batch_1', ['a@x.test', 'b@x.test', 'c@x.test'], { name: 'Ann' });
    const events = [1, 2, 3, 4].map((i) => ({
      at: seedAt + i,
      actor: 'U_ADMIN',
      kind: 'scheduled' as const,
      detail: `n${i}`,
    }));
    await store.insert(newCampaign('cmp_1', { status: 'sending' }), events);
    expect(await store.history('cmp_1', 2)).toEqual({ entries: events.slice(2), total: 4 });
    expect(await store.history('cmp_1', 10)).toEqual({ entries: events, total: 4 });
    expect(await store.history('cmp_none', 10)).toEqual({ entries: [], total: 0 });

    const s1 = await seedSend(t, 'cmp_1', a!, 'sent', { messageId: '<m1>', repliedAt: seedAt + 5 });
    const s2 = await seedSend(t, 'cmp_1', b!, 'failed');
    const s3 = await seedSend(t, 'cmp_1', c!, 'sent');
    await t.query(`UPDATE contacts SET interest = 'interested' WHERE id = $1`, [a]);
    await t.query('DELETE FROM contacts WHERE id = $1', [b]);
    const results = await store.results('cmp_1', 0, 2);
    expect(results.map((r) => r.id)).toEqual([s1, s2]);
    expect(results[0]).toEqual({
      id: s1,
      email: 'a@x.test',
      emailHash: expect.any(Buffer),
      name: 'Ann',
      status: 'sent',
      attempts: 1,
      messageId: '<m1>',
      updatedAt: seedAt,
      unsubscribedAt: null,
      response: null,
      repliedAt: seedAt + 5,
      complainedAt: null,
      softBouncedAt: null,
      interest: 'interested',
    });
    expect(results[0]?.emailHash).toHaveLength(32);
    expect([results[1]?.email, results[1]?.name, results[1]?.interest]).toEqual([null, null, null]);
    expect((await store.results('cmp_1', s2, 10)).map((r) => r.id)).toEqual([s3]);
  });
});

describe('PgCampaignStore: two instances sharing one Postgres', () => {
  let t: TestDatabase | undefined;
  let other: PgDb | undefined;
  afterEach(async () => {
    await other?.$client.end();
    await t?.close();
    t = other = undefined;
  });

  /** Two stores over two pools of one database: two app instances. */
  async function twoInstances() {
    t = await openTestDatabase('postgres');
    if (t.dialect !== 'postgres') throw new Error('postgres only');
    other = openPg(t.db.$client.options.connectionString!, { max: 5 });
    return { t, one: new PgCampaignStore(t.db), two: new PgCampaignStore(other) };
  }

  const rounds = 12;

  it('two pauses at once: both succeed, one history line, the campaign paused', async () => {
    const { t, one, two } = await twoInstances();
    for (let i = 0; i < rounds; i++) {
      const id = `cmp_${i}`;
      await one.insert(newCampaign(id, { status: 'sending' }));
      await Promise.all(
        [one, two].map((s, n) =>
          machineOver(s).transition(id, ['scheduled', 'sending'], 'paused', `U_${n}`, `by ${n}`),
        ),
      );
      expect(await statusIn(t, id)).toBe('paused');
      expect(await kinds(t, id)).toEqual(['paused']);
    }
  });

  it('a start and a pause at once: it ends paused, and the history tells the order that happened', async () => {
    const { t, one, two } = await twoInstances();
    for (let i = 0; i < rounds; i++) {
      const id = `cmp_${i}`;
      await one.insert(newCampaign(id, { status: 'scheduled', nextRunAt: seedAt }));
      const row = (await one.find(id))!;
      const [started] = await Promise.all([
        machineOver(one).startRun(row, seedAt),
        machineOver(two).transition(id, ['scheduled', 'sending'], 'paused', 'U_ADMIN', null),
      ]);
      const c = (await two.find(id))!;
      expect(c.status).toBe('paused');
      expect(await kinds(t, id)).toEqual(started ? ['started', 'paused'] : ['paused']);
      expect(c.runCount).toBe(started ? 1 : 0);
    }
  });

  it('two starts at once: one run starts, once', async () => {
    const { t, one, two } = await twoInstances();
    for (let i = 0; i < rounds; i++) {
      const id = `cmp_${i}`;
      await one.insert(newCampaign(id, { status: 'scheduled', nextRunAt: seedAt }));
      const row = (await one.find(id))!;
      const started = await Promise.all([one, two].map((s) => machineOver(s).startRun(row, seedAt)));
      expect(started.filter(Boolean)).toHaveLength(1);
      expect((await one.find(id))?.runCount).toBe(1);
      expect(await kinds(t, id)).toEqual(['started']);
    }
  });

  it('two re-queues at once: one re-queues, the other finds it sending again', async () => {
    const { t, one, two } = await twoInstances();
    await seedBatch(t, 'batch_1');
    const [a] = await seedContacts(t, 'batch_1', ['a@x.test']);
    for (let i = 0; i < rounds; i++) {
      const id = `cmp_${i}`;
      await one.insert(newCampaign(id, { status: 'completed' }));
      await seedSend(t, id, a!, 'failed');
      const reopen = { status: 'sending' as const, runStartedAt: seedAt, updatedAt: seedAt };
      const results = await Promise.all(
        [one, two].map((s) => s.requeue(id, ['failed'], seedAt, reopen, event('started'))),
      );
      expect(results.map((r) => r.kind).sort()).toEqual(['not_completed', 'requeued']);
      expect(await kinds(t, id)).toEqual(['started']);
      expect(await statusIn(t, id)).toBe('sending');
    }
  });

  it('a cancel and a completion at once: one wins, and the webhook rows exist only if it completed', async () => {
    const { t, one, two } = await twoInstances();
    const hook = () => [
      {
        event: 'campaign.completed' as const,
        url: 'https://hook.test/',
        payload: '{}',
        createdAt: 1,
        nextAttemptAt: 1,
      },
    ];
    for (let i = 0; i < rounds; i++) {
      const id = `cmp_${i}`;
      await one.insert(newCampaign(id, { status: 'sending' }));
      const completed = { status: 'completed' as const, completedAt: seedAt, updatedAt: seedAt };
      const cancelled = { status: 'cancelled' as const, completedAt: seedAt, updatedAt: seedAt };
      const [done, stopped] = await Promise.all([
        one.complete(id, completed, hook, event('completed')),
        two.update(id, cancelled, { status: ['sending', 'paused'] }, event('cancelled')),
      ]);
      expect(done !== stopped).toBe(true);
      expect(await statusIn(t, id)).toBe(done ? 'completed' : 'cancelled');
      expect(await kinds(t, id)).toEqual([done ? 'completed' : 'cancelled']);
      await t
        .query('DELETE FROM webhook_deliveries WHERE payload = $1 RETURNING id', ['{}'])
        .then((r) => expect(r).toHaveLength(done ? 1 : 0));
    }
  });
});
