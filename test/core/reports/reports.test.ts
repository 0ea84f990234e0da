import { afterEach, describe, expect, it } from 'vitest';
import type { Services } from '../../../src/core/index.js';
import { createLogger } from '../../../src/logger.js';
import { createMailer } from '../../../src/mail/index.js';
import { importText, testClock, testCore } from '../../helpers.js';
import { startSink } from '../../smtp-sink.js';

type Sink = Awaited<ReturnType<typeof startSink>>;
let sink: Sink | undefined;
let mailer: ReturnType<typeof createMailer> | undefined;
let core: ReturnType<typeof testCore> | undefined;

afterEach(async () => {
  await mailer?.close();
  core?.cleanup();
  await sink?.close();
  sink = mailer = core = undefined;
});

const day = 86_400_000;

/** Ticks the engine until the campaign is done (bounded). */
async function drain(s: Services, id: string) {
  for (let i = 0; i < 20 && (await s.campaigns.get(id)).status !== 'completed'; i++) await s.sending.runDue();
  expect((await s.campaigns.get(id)).status).toBe('completed');
}

/**
 * Two batches; the new one has an inactive contact, a 550 bounce and an unsubscribe through the
 * link, two campaigns on two days, a deactivation and a reactivation. The old one had its own campaign.
 */
async function scenario() {
  const clock = testClock(Date.UTC(2026, 0, 13, 10));
  sink = await startSink({ reject: (to) => (to === 'gone@acme.com' ? 550 : undefined) });
  mailer = createMailer({ smtpUrl: sink.url, outboxDir: '/nonexistent', log: createLogger('silent') });
  core = testCore({ clock, mailer });
  const s = core.services;
  const sqlite = core.db.$client;
  const idOf = (email: string) =>
    (sqlite.prepare('SELECT id FROM contacts WHERE email = ?').get(email) as { id: number }).id;

  const old = await importText(s, 'email\nold1@x.com\nold2@x.com\n', { fileName: 'old.csv' });
  const c0 = await s.campaigns.create({ name: 'Old news', subject: 's', body: 'b', sendAt: 'now' }, 'U1');
  await drain(s, c0.id);

  clock.set(Date.UTC(2026, 0, 14, 9));
  const fresh = await importText(
    s,
    'email,name,company\nana@acme.com,Ana,Acme\nbruno@acme.com,Bruno,Acme\ncarla@beta.io,Carla,Beta\n' +
      'gone@acme.com,Gone,Acme\ndan@beta.io,Dan,Beta\nerin@beta.io,Erin,Beta\nnot-an-address,X,\n' +
      'ana@acme.com,Ana again,\nold1@x.com,Known,\n',
    { fileName: 'leads.csv' },
  );
  if (old.kind !== 'imported' || fresh.kind !== 'imported') throw new Error('import failed');
  const batchId = fresh.batch.id;
  await s.contacts.setStatus(idOf('erin@beta.io'), 'inactive', 'U1', 'asked by phone');
  clock.advance(60_000);
  await s.batches.deactivate(batchId, 'U2', 'checking the list');
  clock.advance(60_000);
  await s.batches.activate(batchId, 'U3');

  clock.set(Date.UTC(2026, 0, 14, 12));
  const c1 = await s.campaigns.create(
    { name: 'Intro <b>', subject: 's', body: '{{unsubscribe_url}}', sendAt: 'now' },
    'U1',
  );
  await drain(s, c1.id);
  const carla = sink.received.find((m) => m.to === 'carla@beta.io');
  const token = /\/u\/([^>]+)>/.exec(carla?.headers['list-unsubscribe'] ?? '')?.[1];
  expect(await s.unsubscribe.unsubscribe(token ?? '')).toBe(true);

  clock.set(Date.UTC(2026, 0, 15, 8));
  const c2 = await s.campaigns.create({ name: 'Follow-up', subject: 's', body: 'b', sendAt: 'now' }, 'U1');
  await drain(s, c2.id);
  return { s, core, clock, batchId, oldId: old.batch.id, c0, c1, c2, idOf };
}

describe('batch report', () => {
  it('holds exact figures: import, statuses, campaigns with rates, sends per day, history', async () => {
    const { s, batchId, c1, c2 } = await scenario();
    const r = await s.reports.build(batchId);

    expect(r.batch.id).toBe(batchId);
    expect(r.importReport).toMatchObject({
      rows: 9,
      imported: 6,
      invalid: 1,
      duplicateInFile: 1,
      existing: 1,
      suppressed: 0,
    });
    expect(r.contacts).toEqual({
      total: 6,
      byStatus: { active: 3, inactive: 1, replied: 0, bounced: 1, unsubscribed: 1, complained: 0 },
    });
    expect(r.validation).toBeNull();

    const nothing = { failure: 0, reply: 0, interested: null };
    // Nothing came back through the mailbox in this scenario (test/core/campaigns/inbox-figures.test.ts has it).
    const mailbox = { replied: 0, complained: 0, softBounced: 0, interested: 0 };
    expect(r.campaigns).toEqual([
      {
        id: c1.id,
        name: 'Intro <b>',
        status: 'completed',
        reached: 5,
        attempted: 5,
        sent: 4,
        bounced: 1,
        failed: 0,
        unknown: 0,
        pending: 0,
        unsubscribed: 1,
        ...mailbox,
        rates: { delivery: 0.8, bounce: 0.2, unsubscribe: 0.25, ...nothing },
      },
      {
        id: c2.id,
        name: 'Follow-up',
        status: 'completed',
        reached: 3,
        attempted: 3,
        sent: 3,
        bounced: 0,
        failed: 0,
        unknown: 0,
        pending: 0,
        unsubscribed: 0,
        ...mailbox,
        rates: { delivery: 1, bounce: 0, unsubscribe: 0, ...nothing },
      },
    ]);
    expect(r.totals).toEqual({
      reached: 8,
      attempted: 8,
      sent: 7,
      bounced: 1,
      failed: 0,
      unknown: 0,
      pending: 0,
      unsubscribed: 1,
      ...mailbox,
      rates: { delivery: 0.875, bounce: 0.125, unsubscribe: 0.1429, ...nothing },
    });
    expect(r.sendsPerDay).toEqual([
      { day: '2026-01-14', sent: 4 },
      { day: '2026-01-15', sent: 3 },
    ]);
    // ana, bruno, carla and dan got at least one message
    expect(r.funnel).toEqual({
      imported: 6,
      active: 3,
      sent: 4,
      bounced: 1,
      unsubscribed: 1,
      replied: 0,
      complained: 0,
    });
    expect(r.history.map((e) => [e.kind, e.actor, e.reason])).toEqual([
      ['imported', 'test', '6 contacts from api'],
      ['activated', 'test', 'new import'],
      ['deactivated', 'U2', 'checking the list'],
      ['activated', 'U3', null],
    ]);
    expect(r.history[2]?.at).toBe(new Date(Date.UTC(2026, 0, 14, 9, 1)).toISOString());
  });

  it('counts only the campaigns that reached the batch; the old batch has its own', async () => {
    const { s, oldId, c0, batchId } = await scenario();
    const r = await s.reports.build(oldId);
    expect(r.campaigns.map((c) => [c.id, c.sent])).toEqual([[c0.id, 2]]);
    expect(r.sendsPerDay).toEqual([{ day: '2026-01-13', sent: 2 }]);
    expect(r.history.map((e) => e.kind)).toEqual(['imported', 'activated', 'deactivated']);
    expect(r.history[2]?.reason).toBe(`replaced by import ${batchId}`);
  });

  it('groups the validation verdicts once a helper has filled them', async () => {
    const { s, core, batchId, idOf } = await scenario();
    const set = core.db.$client.prepare('UPDATE contacts SET validation = ?, validated_at = 1 WHERE id = ?');
    set.run('valid', idOf('ana@acme.com'));
    set.run('valid', idOf('bruno@acme.com'));
    set.run('role', idOf('dan@beta.io'));
    set.run('no_mail_domain', idOf('erin@beta.io'));
    expect((await s.reports.build(batchId)).validation).toEqual({
      checked: 4,
      unchecked: 2,
      byResult: { valid: 2, role: 1, disposable: 0, no_mail_domain: 1, unknown: 0 },
    });
  });

  it('key figures for the App Home match the report', async () => {
    const { s, batchId } = await scenario();
    expect(await s.reports.keyFigures(batchId)).toEqual({
      batchId,
      contacts: 6,
      active: 3,
      sent: 7,
      bounced: 1,
      unsubscribed: 1,
      bounceRate: 0.125,
    });
  });

  it('an unknown batch is not_found', async () => {
    core = testCore();
    await expect(core.services.reports.build('batch_00000000_1700000000')).rejects.toMatchObject({
      code: 'not_found',
    });
  });
});

/** A small deterministic PRNG (mulberry32), so a failing case can be replayed. */
function prng(seed: number) {
  let a = seed;
  return (n: number) => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) % n;
  };
}

describe('batch report on a mixed ledger', () => {
  it('equals a naive count: interleaved imports, campaigns across batches, deleted contacts', async () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      core?.cleanup();
      core = testCore();
      const sqlite = core.db.$client;
      const rnd = prng(seed);
      const t0 = Date.UTC(2026, 2, 1);
      const batchIds = [
        'batch_0000000a_1700000001',
        'batch_0000000b_1700000002',
        'batch_0000000c_1700000003',
      ];
      const insertBatch = sqlite.prepare(
        `INSERT INTO batches (id, name, source, status, created_by, created_at, contact_count) VALUES (?, ?, 'api', 'inactive', 'test', ?, 0)`,
      );
      for (const [i, id] of batchIds.entries()) insertBatch.run(id, `b${i}.csv`, t0 + i);
      const insertContact = sqlite.prepare(
        `INSERT INTO contacts (email, email_hash, status, batch_id, created_at, updated_at) VALUES (?, randomblob(32), ?, ?, 0, 0)`,
      );
      const contactBatch = new Map<number, string>();
      // a and b interleave (ids alternate at random); c is one clean range after them
      for (let i = 0; i < 120; i++) {
        const batch = i < 80 ? batchIds[rnd(2)]! : batchIds[2]!;
        const id = Number(insertContact.run(`p${i}@x.com`, 'active', batch).lastInsertRowid);
        contactBatch.set(id, batch);
      }
      const campaignIds = ['cmp_00000001', 'cmp_00000002', 'cmp_00000003', 'cmp_00000004'];
      const insertCampaign = sqlite.prepare(
        `INSERT INTO campaigns (id, name, subject, body, from_address, status, created_by, created_at, updated_at)
         VALUES (?, ?, 's', 'b', 'a@b.c', 'completed', 'test', ?, 0)`,
      );
      for (const [i, id] of campaignIds.entries()) insertCampaign.run(id, `C${i}`, t0 + i);
      const insertSend = sqlite.prepare(
        `INSERT INTO sends (campaign_id, contact_id, email_hash, run, status, claimed_at, updated_at, unsubscribed_at)
         VALUES (?, ?, randomblob(32), 1, ?, 0, ?, ?)`,
      );
      const statuses = ['sent', 'sent', 'sent', 'bounced', 'failed', 'unknown', 'retry', 'claimed'];
      // campaign 1 only c (whole), 2 a and b, 3 b and c (spans), 4 nobody
      const audience: Record<string, (b: string) => boolean> = {
        cmp_00000001: (b) => b === batchIds[2],
        cmp_00000002: (b) => b !== batchIds[2],
        cmp_00000003: (b) => b !== batchIds[0],
        cmp_00000004: () => false,
      };
      for (const cmp of campaignIds) {
        for (const [contactId, batch] of contactBatch) {
          if (!audience[cmp]!(batch) || rnd(4) === 0) continue;
          const status = statuses[rnd(statuses.length)]!;
          insertSend.run(cmp, contactId, status, t0 + rnd(5) * day + rnd(day), rnd(6) === 0 ? 1 : null);
        }
      }
      // deleted contacts: their ledger rows stay, without the person
      for (const gone of [...contactBatch.keys()].filter(() => rnd(10) === 0)) {
        sqlite.prepare('DELETE FROM contacts WHERE id = ?').run(gone);
        contactBatch.delete(gone);
      }
      // What the mailbox marks: replies (their contacts some interested), complaints, soft bounces.
      sqlite.prepare("UPDATE sends SET replied_at = 1 WHERE status = 'sent' AND id % 5 = 0").run();
      sqlite.prepare('UPDATE sends SET complained_at = 1 WHERE id % 7 = 0').run();
      sqlite.prepare('UPDATE sends SET soft_bounced_at = 1 WHERE id % 11 = 0').run();
      sqlite
        .prepare(
          "UPDATE contacts SET interest = CASE id % 3 WHEN 0 THEN 'interested' WHEN 1 THEN 'not_interested' END",
        )
        .run();
      const rows = sqlite
        .prepare(
          `SELECT s.campaign_id, s.contact_id, s.status, s.updated_at, s.unsubscribed_at, s.replied_at,
                  s.complained_at, s.soft_bounced_at, c.interest
             FROM sends s LEFT JOIN contacts c ON c.id = s.contact_id`,
        )
        .all() as {
        campaign_id: string;
        contact_id: number | null;
        status: string;
        updated_at: number;
        unsubscribed_at: number | null;
        replied_at: number | null;
        complained_at: number | null;
        soft_bounced_at: number | null;
        interest: string | null;
      }[];

      const reports = core.services.reports;
      for (const batchId of batchIds) {
        const mine = rows.filter((r) => r.contact_id !== null && contactBatch.get(r.contact_id) === batchId);
        const report = await reports.build(batchId);
        const expected = campaignIds
          .map((id) => {
            const own = mine.filter((r) => r.campaign_id === id);
            const count = (st: string) => own.filter((r) => r.status === st).length;
            return {
              id,
              reached: own.length,
              sent: count('sent'),
              bounced: count('bounced'),
              failed: count('failed'),
              unknown: count('unknown'),
              pending: count('retry') + count('claimed'),
              unsubscribed: own.filter((r) => r.unsubscribed_at !== null).length,
              replied: own.filter((r) => r.replied_at !== null).length,
              complained: own.filter((r) => r.complained_at !== null).length,
              softBounced: own.filter((r) => r.soft_bounced_at !== null).length,
              interested: own.filter((r) => r.replied_at !== null && r.interest === 'interested').length,
            };
          })
          .filter((c) => c.reached > 0);
        const got = report.campaigns.map(
          ({ id, reached, sent, bounced, failed, unknown, pending, unsubscribed, ...more }) => ({
            id,
            reached,
            sent,
            bounced,
            failed,
            unknown,
            pending,
            unsubscribed,
            replied: more.replied,
            complained: more.complained,
            softBounced: more.softBounced,
            interested: more.interested,
          }),
        );
        expect(got, `seed ${seed}, ${batchId}`).toEqual(expected);

        const perDay = new Map<string, number>();
        for (const r of mine.filter((m) => m.status === 'sent')) {
          const d = new Date(Math.floor(r.updated_at / day) * day).toISOString().slice(0, 10);
          perDay.set(d, (perDay.get(d) ?? 0) + 1);
        }
        expect(report.sendsPerDay).toEqual(
          [...perDay].sort(([a], [b]) => a.localeCompare(b)).map(([d, sent]) => ({ day: d, sent })),
        );
        const people = new Set(mine.filter((r) => r.status === 'sent').map((r) => r.contact_id));
        expect(report.funnel.sent).toBe(people.size);

        const sent = mine.filter((r) => r.status === 'sent').length;
        const bounced = mine.filter((r) => r.status === 'bounced').length;
        const attempted = mine.filter((r) =>
          ['sent', 'bounced', 'failed', 'unknown'].includes(r.status),
        ).length;
        const key = await reports.keyFigures(batchId);
        expect(key.sent).toBe(sent);
        expect(key.bounceRate).toBe(attempted ? Math.round((bounced / attempted) * 10_000) / 10_000 : null);
      }
    }
  });
});
