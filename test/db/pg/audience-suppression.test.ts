/**
 * AudienceStore and SuppressionStore on SQLite and on Postgres: the same scenario on both,
 * asserting on outcomes (returned values, rows read back), and on Postgres two instances adding
 * one domain rule at once.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { AudienceStore } from '../../../src/core/audience/audience-store.js';
import { emailHash } from '../../../src/core/keys.js';
import { DomainSuppressionService } from '../../../src/core/suppression/domain-suppression-service.js';
import type { SuppressionStore } from '../../../src/core/suppression/suppression-store.js';
import { PgAudienceStore } from '../../../src/db/pg/audience-store.js';
import { openPg, type PgDb } from '../../../src/db/pg/client.js';
import { PgSuppressionStore } from '../../../src/db/pg/suppression-store.js';
import { SqliteAudienceStore } from '../../../src/db/sqlite/audience-store.js';
import { SqliteSuppressionStore } from '../../../src/db/sqlite/suppression-store.js';
import { createLogger } from '../../../src/logger.js';
import { refusal, testClock } from '../../helpers.js';
import { dialects, openTestDatabase, type TestDatabase } from '../../pg/dialects.js';
import { seedAt, seedBatch, seedCampaign, seedContacts } from '../../pg/seed.js';

function stores(t: TestDatabase): { audience: AudienceStore; suppressions: SuppressionStore } {
  return t.dialect === 'sqlite'
    ? { audience: new SqliteAudienceStore(t.db.$client), suppressions: new SqliteSuppressionStore(t.db) }
    : { audience: new PgAudienceStore(t.db), suppressions: new PgSuppressionStore(t.db) };
}

/** A ledger row for a contact (its hash copied from the contact); its id. */
async function seedSend(
  t: TestDatabase,
  campaignId: string,
  contactId: number,
  status: string,
  o: { step?: number; variant?: number } = {},
): Promise<number> {
  const [r] = await t.query<{ id: number }>(
    `INSERT INTO sends (campaign_id, contact_id, email_hash, run, step, variant, status, attempts, claimed_at, updated_at)
     VALUES ($1, $2, (SELECT email_hash FROM contacts WHERE id = $2), 1, $3, $4, $5, 0, $6, $6) RETURNING id`,
    [campaignId, contactId, o.step ?? 1, o.variant ?? null, status, seedAt],
  );
  return Number(r!.id);
}

async function suppress(t: TestDatabase, email: string, reason = 'manual', at = seedAt): Promise<void> {
  await t.query('INSERT INTO suppressions (email_hash, reason, actor, created_at) VALUES ($1, $2, $3, $4)', [
    emailHash(email),
    reason,
    'U_ADMIN',
    at,
  ]);
}

/** Reasons in one order, whatever order a dialect groups them in. */
const byReason = (r: { reason: string; n: number }[]) =>
  [...r].sort((a, b) => (a.reason < b.reason ? -1 : 1));

/**
 * The active batch `batch_1`: a and b sendable, c inactive, d suppressed, e and f with a domain
 * that cannot receive mail (f also bounced); `batch_0` inactive with g.
 */
async function seedAudience(t: TestDatabase): Promise<Record<string, number>> {
  await seedBatch(t, 'batch_0', { status: 'inactive' });
  await seedBatch(t, 'batch_1', { createdAt: seedAt + 1 });
  const [a, b, d, e] = await seedContacts(t, 'batch_1', ['a@x.test', 'b@x.test', 'd@x.test', 'e@nomx.test']);
  const [c] = await seedContacts(t, 'batch_1', ['c@x.test'], { status: 'inactive' });
  const [f] = await seedContacts(t, 'batch_1', ['f@nomx.test'], { status: 'bounced' });
  const [g] = await seedContacts(t, 'batch_0', ['g@x.test']);
  await suppress(t, 'd@x.test');
  await t.query(`UPDATE contacts SET validation = 'no_mail_domain' WHERE id IN ($1, $2)`, [e, f]);
  await t.query(`UPDATE contacts SET validation = 'valid' WHERE id = $1`, [a]);
  return { a: a!, b: b!, c: c!, d: d!, e: e!, f: f!, g: g! };
}

describe.each(dialects)('AudienceStore (%s)', (dialect) => {
  let t: TestDatabase | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it('counts and pages the audience: inactive, suppressed, inactive batch and no-mail-domain contacts left out', async () => {
    t = await openTestDatabase(dialect);
    const { audience } = stores(t);
    expect(await audience.count()).toBe(0);
    expect(await audience.activeBatch()).toBeNull();
    const id = await seedAudience(t);
    expect(await audience.count()).toBe(2);
    expect(await audience.activeBatch()).toEqual({
      id: 'batch_1',
      name: 'batch_1.csv',
      activatedAt: seedAt + 1,
    });
    const page = await audience.page(0, 10);
    expect(page).toEqual([
      { id: id.a, email: 'a@x.test', name: null, company: null, position: null },
      { id: id.b, email: 'b@x.test', name: null, company: null, position: null },
    ]);
    expect((await audience.page(id.a!, 10)).map((r) => r.id)).toEqual([id.b]);
    expect(await audience.page(0, 1)).toEqual(page.slice(0, 1));

    // The batch includes contacts whose domain cannot receive mail: e joins (f stays out: bounced).
    await t.query('UPDATE batches SET include_invalid_domains = $1 WHERE id = $2', [true, 'batch_1']);
    expect(await audience.count()).toBe(3);
    expect((await audience.page(0, 10)).map((r) => r.id)).toEqual([id.a, id.b, id.e]);
    // The batch no longer active: nobody.
    await t.query(`UPDATE batches SET status = 'inactive' WHERE id = $1`, ['batch_1']);
    expect(await audience.count()).toBe(0);
    expect(await audience.page(0, 10)).toEqual([]);
  });

  it('groups the active batch by the first reason that leaves a contact out, already reached against a campaign', async () => {
    t = await openTestDatabase(dialect);
    const { audience } = stores(t);
    const id = await seedAudience(t);
    await seedCampaign(t, 'cmp_1', { status: 'sending' });
    await seedSend(t, 'cmp_1', id.a!, 'sent');
    await seedSend(t, 'cmp_1', id.d!, 'sent');
    const without = [
      { reason: 'bounced', n: 1 },
      { reason: 'inactive', n: 1 },
      { reason: 'no_mail_domain', n: 1 },
      { reason: 'sendable', n: 2 },
      { reason: 'suppressed', n: 1 },
    ];
    expect(byReason(await audience.reasons('batch_1', null))).toEqual(without);
    expect(byReason(await audience.reasons('batch_1', 'cmp_1'))).toEqual([
      { reason: 'already_reached', n: 1 },
      ...without.map((r) => (r.reason === 'sendable' ? { ...r, n: 1 } : r)),
    ]);
    await t.query('UPDATE batches SET include_invalid_domains = $1 WHERE id = $2', [true, 'batch_1']);
    expect(byReason(await audience.reasons('batch_1', null))).toEqual([
      { reason: 'bounced', n: 1 },
      { reason: 'inactive', n: 1 },
      { reason: 'sendable', n: 3 },
      { reason: 'suppressed', n: 1 },
    ]);
    expect(await audience.reasons('batch_0', null)).toEqual([]);
  });

  it('counts a campaign’s figures in one read, exact at every call; seed keeps nothing that changes them', async () => {
    t = await openTestDatabase(dialect);
    const { audience } = stores(t);
    const id = await seedAudience(t);
    await seedCampaign(t, 'cmp_1', { status: 'sending' });
    const reach = await audience.figures(null, { audience: true, maxStaleMs: 60_000, now: seedAt });
    expect(reach.countedAt).toBe(seedAt);
    expect(reach.sends).toEqual([]);
    expect(reach.audience?.batch?.id).toBe('batch_1');
    expect(byReason(reach.audience?.reasons ?? []).find((r) => r.reason === 'sendable')).toEqual({
      reason: 'sendable',
      n: 2,
    });
    await audience.seed('cmp_1', reach);

    await seedSend(t, 'cmp_1', id.a!, 'sent');
    const s2 = await seedSend(t, 'cmp_1', id.a!, 'claimed', { step: 2, variant: 1 });
    await t.query(
      `INSERT INTO sequence_people (campaign_id, contact_id, step, next_due_at, last_send_id, updated_at)
       VALUES ($1, $2, 2, NULL, $3, $4), ($1, $5, 1, $6, NULL, $4)`,
      ['cmp_1', id.a, s2, seedAt, id.b, seedAt + 500],
    );
    // maxStaleMs allows old figures, but Postgres (and SQLite without a counting thread) counts now.
    const f = await audience.figures('cmp_1', {
      audience: true,
      maxStaleMs: 60_000,
      now: seedAt + 1,
      sequence: true,
    });
    expect(f.countedAt).toBe(seedAt + 1);
    expect(f.sends.map((s) => [s.status, s.n]).sort()).toEqual([
      ['claimed', 1],
      ['sent', 1],
    ]);
    expect(
      byReason(f.audience?.reasons ?? []).filter((r) => ['already_reached', 'sendable'].includes(r.reason)),
    ).toEqual([
      { reason: 'already_reached', n: 1 },
      { reason: 'sendable', n: 1 },
    ]);
    expect(f.sequence?.waiting).toBe(1);
    expect(f.sequence?.nextDueAt).toBe(seedAt + 500);
    expect(f.sequence?.steps.map((s) => [s.step, s.variant, s.status, s.n])).toEqual([[2, 1, 'claimed', 1]]);
    const plain = await audience.figures('cmp_1', { audience: false, maxStaleMs: 0, now: seedAt + 2 });
    expect([plain.audience, plain.sequence]).toEqual([null, undefined]);
    const fresh = await audience.figures(null, {
      audience: true,
      maxStaleMs: 0,
      now: seedAt + 3,
      sequence: true,
    });
    expect(fresh.sequence).toEqual({ steps: [], waiting: 0, nextDueAt: null });
  });
});

describe.each(dialects)('SuppressionStore (%s)', (dialect) => {
  let t: TestDatabase | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it('tells a suppressed hash and lists the list in pages, in the order entries were added', async () => {
    t = await openTestDatabase(dialect);
    const { suppressions } = stores(t);
    const emails = ['z@x.test', 'a@x.test', 'm@x.test', 'b@x.test', 'q@x.test'];
    for (const [i, e] of emails.entries()) await suppress(t, e, i % 2 ? 'bounced' : 'manual', seedAt + i);
    expect(await suppressions.isSuppressed(emailHash('m@x.test'))).toBe(true);
    expect(await suppressions.isSuppressed(emailHash('n@x.test'))).toBe(false);
    const seen: { id: number; hashHex: string; reason: string; createdAt: number }[] = [];
    for (let after = 0; ; ) {
      const page = await suppressions.listPage(after, 2);
      if (page.length === 0) break;
      expect(page.length).toBeLessThanOrEqual(2);
      seen.push(...page.map(({ actor: _, ...r }) => r));
      after = page.at(-1)!.id;
    }
    expect(seen.map((r) => r.hashHex)).toEqual(emails.map((e) => emailHash(e).toString('hex')));
    expect(seen.map((r) => r.id)).toEqual([1, 2, 3, 4, 5]);
    expect(seen[1]).toEqual({
      id: 2,
      hashHex: emailHash('a@x.test').toString('hex'),
      reason: 'bounced',
      createdAt: seedAt + 1,
    });
  });

  it('adds a domain rule that suppresses the contacts it covers and stops their sequences; a second add is refused', async () => {
    t = await openTestDatabase(dialect);
    const { suppressions } = stores(t);
    await seedBatch(t, 'batch_1');
    const [a, b] = await seedContacts(t, 'batch_1', [
      'a@acme.com',
      'b@mail.acme.com',
      'c@notacme.com',
      'd@acme.co',
      'e@acme.com',
    ]);
    await suppress(t, 'e@acme.com', 'unsubscribed');
    await seedCampaign(t, 'cmp_1', { status: 'sending' });
    await t.query(
      `INSERT INTO sequence_people (campaign_id, contact_id, step, next_due_at, updated_at) VALUES ($1, $2, 1, $3, $3), ($1, $4, 1, $3, $3)`,
      ['cmp_1', a, seedAt, b],
    );
    const rule = { pattern: 'acme.com', actor: 'U_ADMIN', reason: 'asked', createdAt: seedAt + 1 };
    expect(await suppressions.addDomainRule(rule)).toEqual({ rule, suppressedContacts: 1 });
    expect(await suppressions.addDomainRule({ ...rule, actor: 'U_2' })).toBeNull();
    const wild = { pattern: '*.acme.com', actor: 'U_2', reason: null, createdAt: seedAt + 2 };
    expect(await suppressions.addDomainRule(wild)).toEqual({ rule: wild, suppressedContacts: 1 });
    const list = await t.query<{ email_hash: Buffer; reason: string; actor: string }>(
      'SELECT email_hash, reason, actor FROM suppressions ORDER BY created_at, actor',
    );
    const hex = (e: string) => emailHash(e).toString('hex');
    expect(list.map((r) => [Buffer.from(r.email_hash).toString('hex'), r.reason, r.actor])).toEqual([
      [hex('e@acme.com'), 'unsubscribed', 'U_ADMIN'],
      [hex('a@acme.com'), 'manual', 'U_ADMIN'],
      [hex('b@mail.acme.com'), 'manual', 'U_2'],
    ]);
    const people = await t.query<{ stop_reason: string }>(
      'SELECT stop_reason FROM sequence_people ORDER BY contact_id',
    );
    expect(people.map((p) => p.stop_reason)).toEqual(['left_audience', 'left_audience']);

    // The service turns the store's refusal into the same DomainError on both.
    const service = new DomainSuppressionService(
      { log: createLogger('silent'), clock: testClock(seedAt) },
      suppressions,
    );
    const e = await refusal(() => service.add({ pattern: 'ACME.com' }, 'U_3'));
    expect([e.code, e.message]).toEqual(['conflict', 'acme.com is already suppressed.']);
  });

  it('removes and lists rules, in byte order', async () => {
    t = await openTestDatabase(dialect);
    const { suppressions } = stores(t);
    for (const [i, pattern] of ['ab.com', 'a-z.com', '*.zz.com', 'a.com'].entries())
      await suppressions.addDomainRule({ pattern, actor: 'U_ADMIN', reason: null, createdAt: seedAt + i });
    expect((await suppressions.listDomainRules()).map((r) => r.pattern)).toEqual([
      '*.zz.com',
      'a-z.com',
      'a.com',
      'ab.com',
    ]);
    expect(await suppressions.removeDomainRule('ab.com')).toEqual({
      pattern: 'ab.com',
      actor: 'U_ADMIN',
      reason: null,
      createdAt: seedAt,
    });
    expect(await suppressions.removeDomainRule('ab.com')).toBeNull();
    expect((await suppressions.listDomainRules()).map((r) => r.pattern)).toEqual([
      '*.zz.com',
      'a-z.com',
      'a.com',
    ]);
    const service = new DomainSuppressionService(
      { log: createLogger('silent'), clock: testClock(seedAt) },
      suppressions,
    );
    const e = await refusal(() => service.remove('ab.com', 'U_ADMIN'));
    expect(e.code).toBe('not_found');
  });

  it('records a hard bounce in one transaction: ledger row, contact, history, suppression, sequences, webhooks', async () => {
    t = await openTestDatabase(dialect);
    const { suppressions } = stores(t);
    await seedBatch(t, 'batch_1');
    const [a] = await seedContacts(t, 'batch_1', ['a@x.test']);
    await seedCampaign(t, 'cmp_1', { status: 'sending' });
    const sendId = await seedSend(t, 'cmp_1', a!, 'claimed');
    await t.query(
      'INSERT INTO sequence_people (campaign_id, contact_id, step, next_due_at, updated_at) VALUES ($1, $2, 1, $3, $3)',
      ['cmp_1', a, seedAt],
    );
    const hook = {
      event: 'contact.bounced' as const,
      url: 'https://hook.test/',
      payload: '{"b":1}',
      createdAt: 1,
      nextAttemptAt: 1,
    };
    const at = seedAt + 10;
    await suppressions.recordHardBounce(
      {
        campaignId: 'cmp_1',
        contactId: a!,
        email: 'a@x.test',
        emailHash: emailHash('a@x.test'),
        response: '550 5.1.1 no such user',
        at,
        ledger: { sendId, attempts: 1 },
      },
      { reason: 'hard bounce: 550', webhooks: [hook] },
    );
    const [send] = await t.query<{ status: string; attempts: number; response: string; updated_at: number }>(
      'SELECT status, attempts, response, updated_at FROM sends WHERE id = $1',
      [sendId],
    );
    expect([send?.status, Number(send?.attempts), send?.response, Number(send?.updated_at)]).toEqual([
      'bounced',
      1,
      '550 5.1.1 no such user',
      at,
    ]);
    const [contact] = await t.query<{ status: string }>('SELECT status FROM contacts WHERE id = $1', [a]);
    expect(contact?.status).toBe('bounced');
    const history = await t.query<{ from_status: string; to_status: string; reason: string }>(
      'SELECT from_status, to_status, reason FROM contact_history WHERE contact_id = $1',
      [a],
    );
    expect(history).toEqual([{ from_status: 'active', to_status: 'bounced', reason: 'hard bounce: 550' }]);
    expect(await suppressions.isSuppressed(emailHash('a@x.test'))).toBe(true);
    const [person] = await t.query<{ stop_reason: string }>('SELECT stop_reason FROM sequence_people');
    expect(person?.stop_reason).toBe('bounced');
    expect(await t.query('SELECT event, payload FROM webhook_deliveries')).toEqual([
      { event: 'contact.bounced', payload: '{"b":1}' },
    ]);
  });
});

describe('PgSuppressionStore: two instances sharing one Postgres', () => {
  let t: TestDatabase | undefined;
  let other: PgDb | undefined;
  afterEach(async () => {
    await other?.$client.end();
    await t?.close();
    t = other = undefined;
  });

  it('two instances adding the same rule at once: one adds it, the other gets null, contacts suppressed once', async () => {
    t = await openTestDatabase('postgres');
    if (t.dialect !== 'postgres') throw new Error('postgres only');
    other = openPg(t.db.$client.options.connectionString!, { max: 5 });
    const [one, two] = [new PgSuppressionStore(t.db), new PgSuppressionStore(other)];
    await seedBatch(t, 'batch_1');
    for (let i = 0; i < 10; i++) {
      await seedContacts(t, 'batch_1', [`a@d${i}.test`, `b@d${i}.test`]);
      const rule = (actor: string) => ({ pattern: `d${i}.test`, actor, reason: null, createdAt: seedAt });
      const results = await Promise.all([one.addDomainRule(rule('U_1')), two.addDomainRule(rule('U_2'))]);
      const added = results.filter((r) => r !== null);
      expect(added).toHaveLength(1);
      expect(added[0]?.suppressedContacts).toBe(2);
      const rows = await t.query<{ actor: string }>(
        'SELECT actor FROM domain_suppressions WHERE pattern = $1',
        [`d${i}.test`],
      );
      expect(rows.map((r) => r.actor)).toEqual([added[0]?.rule.actor]);
    }
  });
});
