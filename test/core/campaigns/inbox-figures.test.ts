/**
 * What the mailbox marks on the ledger (replied_at, complained_at, soft_bounced_at, the contact's
 * interest) in the campaign's figures and rates (inline and in the counting thread), the batch
 * report, the audience's reasons and the contact object. The marks are set the way the mailbox
 * store sets them: the ledger columns with SQL, the statuses through the contact store.
 */
import { dirname } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Services } from '../../../src/core/index.js';
import { importText, testClock, testCore } from '../../helpers.js';

let cores: ReturnType<typeof testCore>[] = [];
afterEach(() => {
  for (const c of cores) c.cleanup();
  cores = [];
});

const people = ['ana', 'bia', 'cai', 'dan', 'eva', 'fay'].map((p) => `${p}@x.com`);

async function drain(s: Services, id: string) {
  for (let i = 0; i < 20 && (await s.campaigns.get(id)).status !== 'completed'; i++) await s.sending.runDue();
  expect((await s.campaigns.get(id)).status).toBe('completed');
}

/**
 * Six people mailed by one campaign; then ana, bia and cai replied (ana and bia marked interested,
 * cai not), dan complained, eva's message soft-bounced; fay is marked interested without a reply.
 */
async function scenario() {
  const clock = testClock(Date.UTC(2026, 1, 2, 10));
  const core = testCore({ clock });
  cores.push(core);
  const s = core.services;
  const sqlite = core.db.$client;
  const r = await importText(s, `email\n${people.join('\n')}\n`, { fileName: 'leads.csv' });
  if (r.kind !== 'imported') throw new Error('import failed');
  const c = await s.campaigns.create({ name: 'Intro', subject: 'Hi', body: 'Hello', sendAt: 'now' }, 'U1');
  await drain(s, c.id);
  const idOf = (email: string) =>
    sqlite.prepare<[string], { id: number }>('SELECT id FROM contacts WHERE email = ?').get(email)!.id;
  const mark = (email: string, column: 'replied_at' | 'complained_at' | 'soft_bounced_at') =>
    sqlite
      .prepare(`UPDATE sends SET ${column} = ? WHERE campaign_id = ? AND contact_id = ?`)
      .run(clock.now(), c.id, idOf(email));
  const interest = (email: string, value: string) =>
    sqlite.prepare('UPDATE contacts SET interest = ? WHERE email = ?').run(value, email);

  clock.advance(3_600_000);
  for (const p of ['ana@x.com', 'bia@x.com', 'cai@x.com']) {
    mark(p, 'replied_at');
    await s.contacts.setStatus(idOf(p), 'replied', 'system', 'replied to Intro');
  }
  interest('ana@x.com', 'interested');
  interest('bia@x.com', 'interested');
  interest('cai@x.com', 'not_interested');
  interest('fay@x.com', 'interested');
  mark('dan@x.com', 'complained_at');
  await s.contacts.setStatus(idOf('dan@x.com'), 'complained', 'system', 'spam report (abuse)');
  mark('eva@x.com', 'soft_bounced_at');
  return { core, s, clock, campaignId: c.id, batchId: r.batch.id, idOf };
}

const marks = { sent: 6, replied: 3, complained: 1, softBounced: 1, interested: 2 };

describe('campaign figures with what the mailbox found', () => {
  it('counts replies, complaints, soft bounces and interested repliers, with the rates behind them', async () => {
    const { s, campaignId } = await scenario();
    const d = await s.progress.detail(campaignId);
    expect(d.counts).toEqual({
      total: 6,
      pending: 0,
      failed: 0,
      bounced: 0,
      unsubscribed: 0,
      unknown: 0,
      ...marks,
    });
    // reply = replied / sent; interested = interested / replied (fay is interested but never replied).
    expect(d.rates).toEqual({ reply: 0.5, interested: 0.6667 });
    expect((await s.progress.get(campaignId)).rates).toEqual(d.rates);
    expect(await s.campaigns.counts(campaignId)).toMatchObject(marks);
  });

  it('the counting thread answers the same figures as the inline count', async () => {
    const { core, campaignId } = await scenario();
    const inline = await core.services.progress.detail(campaignId);
    const threaded = testCore({ at: { path: core.path, dir: dirname(core.path) }, countsOffThread: true });
    cores.push(threaded);
    const d = await threaded.services.progress.detail(campaignId);
    expect(d.counts).toEqual(inline.counts);
    expect(d.rates).toEqual({ reply: 0.5, interested: 0.6667 });
  });

  it('rates are null while nothing was sent or nobody replied', async () => {
    const { s } = await scenario();
    const later = await s.campaigns.create({ name: 'Later', subject: 's', body: 'b' }, 'U1');
    const d = await s.progress.detail(later.id);
    expect(d.counts).toMatchObject({ sent: 0, replied: 0, interested: 0 });
    expect(d.rates).toEqual({ reply: null, interested: null });
  });

  it('people who replied or complained are left out of the next audience, by name', async () => {
    const { s, batchId } = await scenario();
    const next = await s.campaigns.create({ name: 'Follow-up', subject: 's', body: 'b' }, 'U1');
    const d = await s.progress.detail(next.id);
    // eva soft-bounced once (not suppressed) and fay never answered: the two left to mail.
    expect(d.audience).toMatchObject({ count: 2, excluded: { replied: 3, complained: 1 } });

    const page = await s.batches.contacts(batchId, {});
    const byEmail = new Map(page.contacts.map((c) => [c.email, c]));
    expect(byEmail.get('ana@x.com')).toMatchObject({
      status: 'replied',
      interest: 'interested',
      sendable: false,
      notSendableReason: 'replied',
      suppression: null,
    });
    expect(byEmail.get('dan@x.com')).toMatchObject({
      status: 'complained',
      interest: null,
      sendable: false,
      notSendableReason: 'complained',
      suppression: { reason: 'complained', actor: 'system' },
    });
    expect(byEmail.get('eva@x.com')).toMatchObject({
      sendable: true,
      notSendableReason: null,
      suppression: null,
    });
    // The contact filter takes the new statuses.
    const replied = await s.batches.contacts(batchId, { status: 'replied' });
    expect(replied.contacts.map((c) => c.email).sort()).toEqual(['ana@x.com', 'bia@x.com', 'cai@x.com']);
  });

  it('the batch report has the reply and interested rates per campaign and in total, with the counts', async () => {
    const { s, batchId } = await scenario();
    const r = await s.reports.build(batchId);
    const expected = {
      ...marks,
      rates: expect.objectContaining({ reply: 0.5, interested: 0.6667 }),
    };
    expect(r.campaigns).toHaveLength(1);
    expect(r.campaigns[0]).toMatchObject(expected);
    expect(r.totals).toMatchObject(expected);
    expect(r.contacts.byStatus).toEqual({
      active: 2,
      inactive: 0,
      replied: 3,
      bounced: 0,
      unsubscribed: 0,
      complained: 1,
    });
    expect(r.contacts.total).toBe(6);
    expect(r.funnel).toMatchObject({ sent: 6, replied: 3, complained: 1 });
  });

  it("a ledger row whose contact was deleted counts for no batch's report", async () => {
    const { s, campaignId, batchId, core } = await scenario();
    // As after a deletion (ON DELETE SET NULL): eva's soft-bounced row keeps no contact.
    core.db.$client
      .prepare('UPDATE sends SET contact_id = NULL WHERE campaign_id = ? AND soft_bounced_at IS NOT NULL')
      .run(campaignId);
    const r = await s.reports.build(batchId);
    expect(r.totals).toMatchObject({ sent: 5, replied: 3, softBounced: 0, interested: 2, complained: 1 });
    // The campaign's own figures still count every ledger row.
    expect((await s.progress.detail(campaignId)).counts).toMatchObject({ sent: 6, softBounced: 1 });
  });
});
