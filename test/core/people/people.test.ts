/**
 * People (core): why an address was or was not mailed by each campaign, everything held about a
 * person, erasing them everywhere while keeping the hashed suppression, and retention proposals.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { emailHash } from '../../../src/core/contacts/email-hash.js';
import type { Services } from '../../../src/core/index.js';
import type { CampaignVerdict } from '../../../src/core/people/people-service.js';
import { createLogger } from '../../../src/logger.js';
import { createMailer } from '../../../src/mail/index.js';
import { rowsMentioning } from '../../db-scan.js';
import { importText, refusal, tempDir, testClock, testCore } from '../../helpers.js';
import { startSink } from '../../smtp-sink.js';

const minute = 60_000;
const day = 86_400_000;
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function runToEnd(s: Services, id: string) {
  for (let i = 0; i < 10 && (await s.campaigns.get(id)).status !== 'completed'; i++) await s.sending.runDue();
}

/** The scene: two old batches, one campaign sent, a draft, a late import, a campaign still sending. */
async function scene() {
  const clock = testClock(Date.UTC(2026, 0, 10, 12));
  const sink = await startSink({ reject: (to) => (to === 'edu@x.com' ? 550 : undefined) });
  cleanups.push(() => sink.close());
  const dirs = tempDir();
  cleanups.push(dirs.cleanup);
  const mailer = createMailer({ smtpUrl: sink.url, outboxDir: dirs.dir, log: createLogger('silent') });
  cleanups.push(() => mailer.close());
  const core = testCore({ clock, mailer });
  cleanups.push(core.cleanup);
  const s = core.services;
  const sql = core.db.$client;
  const idOf = (email: string) =>
    sql.prepare<[string], { id: number }>('SELECT id FROM contacts WHERE email = ?').get(email)!.id;

  const a = (await importText(s, 'email\nold@x.com\n', { fileName: 'old.csv' })).batch;
  clock.advance(minute);
  const b = (
    await importText(
      s,
      'email,name\nAna@X.com,Ana\nbia@x.com,Bia\ncaio@x.com,Caio\nduda@x.com,Duda\nedu@x.com,Edu\nfay@x.com,Fay\n',
      {
        fileName: 'leads.csv',
      },
    )
  ).batch;
  clock.advance(minute);
  await s.contacts.setStatus(idOf('bia@x.com'), 'inactive', 'U1', 'asked to pause');
  sql
    .prepare(`INSERT INTO suppressions (email_hash, reason, actor, created_at) VALUES (?, 'manual', 'U2', ?)`)
    .run(emailHash('caio@x.com'), clock.now());
  sql
    .prepare(`UPDATE contacts SET validation = 'no_mail_domain', validated_at = ? WHERE email = 'duda@x.com'`)
    .run(clock.now());
  clock.advance(minute);
  const draft = await s.campaigns.create({ name: 'Draft', subject: 'Hi', body: 'Hello' }, 'U1');
  clock.advance(minute);
  const sent = await s.campaigns.create({ name: 'Q1', subject: 'Hi', body: 'Hello', sendAt: 'now' }, 'U1');
  await runToEnd(s, sent.id);
  expect((await s.campaigns.get(sent.id)).status).toBe('completed');
  clock.advance(minute);
  const late = (await importText(s, 'email\nlate@x.com\n', { fileName: 'late.csv', activate: false })).batch;
  clock.advance(minute);
  const running = await s.campaigns.create(
    { name: 'Drip', subject: 'Hi', body: 'Hello', sendAt: 'now', dailyLimit: 1 },
    'U1',
  );
  await s.sending.runDue();
  await s.sending.runDue();
  expect((await s.campaigns.get(running.id)).status).toBe('sending');
  return { clock, sink, core, s, sql, idOf, a, b, late, draft, sent, running };
}

const verdict = (list: CampaignVerdict[], id: string) => list.find((v) => v.campaignId === id)!;

describe('why', () => {
  it('explains each campaign: mailed (ledger), or why not from the audience rule at the time', async () => {
    const { s, sink, a, b, draft, sent, running } = await scene();
    expect(sink.received.map((m) => m.to).sort()).toEqual(['ana@x.com', 'fay@x.com', 'ana@x.com'].sort());

    const ana = await s.people.why(' ANA@x.com ');
    expect(ana.email).toBe('ana@x.com');
    expect(ana.batch).toMatchObject({ id: b.id, activeNow: true });
    expect(ana.campaigns.map((c) => c.campaignId)).toEqual([running.id, sent.id, draft.id]);
    expect(verdict(ana.campaigns, sent.id)).toMatchObject({
      mailed: true,
      status: 'sent',
      attempts: expect.any(Number),
      messageId: expect.stringMatching(/^<.+@.+>$/),
      at: expect.stringMatching(/^2026-01-10T/),
    });
    expect(verdict(ana.campaigns, running.id)).toMatchObject({ mailed: true, status: 'sent' });
    expect(verdict(ana.campaigns, draft.id)).toMatchObject({ mailed: false, reason: 'never_ran' });

    expect(verdict((await s.people.why('fay@x.com')).campaigns, running.id)).toMatchObject({
      mailed: false,
      reason: 'pending',
    });
    const bia = await s.people.why('bia@x.com');
    expect(verdict(bia.campaigns, sent.id)).toMatchObject({ mailed: false, reason: 'status_not_active' });
    expect(verdict(bia.campaigns, sent.id)).toMatchObject({ detail: expect.stringContaining('U1') });
    expect(bia.history).toEqual([expect.objectContaining({ from: 'active', to: 'inactive', actor: 'U1' })]);
    const caio = await s.people.why('caio@x.com');
    expect(caio.suppression).toMatchObject({ reason: 'manual', actor: 'U2' });
    expect(verdict(caio.campaigns, sent.id)).toMatchObject({ mailed: false, reason: 'suppressed' });
    expect(verdict((await s.people.why('duda@x.com')).campaigns, sent.id)).toMatchObject({
      mailed: false,
      reason: 'no_mail_domain',
    });
    const edu = await s.people.why('edu@x.com');
    expect(verdict(edu.campaigns, sent.id)).toMatchObject({
      mailed: true,
      status: 'bounced',
      response: expect.stringContaining('550'),
    });
    expect(edu.suppression).toMatchObject({ reason: 'bounced' });
    expect(verdict(edu.campaigns, running.id)).toMatchObject({ mailed: false, reason: 'status_not_active' });

    const old = await s.people.why('old@x.com');
    expect(old.batch).toMatchObject({ id: a.id, activeNow: false });
    expect(old.batch!.events.map((e) => e.kind)).toEqual(['activated', 'deactivated']);
    expect(verdict(old.campaigns, sent.id)).toMatchObject({ mailed: false, reason: 'not_in_active_batch' });
    const late = await s.people.why('late@x.com');
    expect(verdict(late.campaigns, sent.id)).toMatchObject({ mailed: false, reason: 'not_imported_yet' });
    expect(verdict(late.campaigns, running.id)).toMatchObject({
      mailed: false,
      reason: 'not_in_active_batch',
    });
  });

  it('an address known only by its suppression hash, an unknown one, and a malformed one', async () => {
    const clock = testClock();
    const core = testCore({ clock });
    cleanups.push(core.cleanup);
    const s = core.services;
    expect((await refusal(() => s.people.why('nobody@x.com'))).code).toBe('not_found');
    expect((await refusal(() => s.people.why('not an address'))).code).toBe('invalid_input');
    core.db.$client
      .prepare(
        `INSERT INTO suppressions (email_hash, reason, actor, created_at) VALUES (?, 'unsubscribed', 'x', 1)`,
      )
      .run(emailHash('ghost@x.com'));
    const ghost = await s.people.why('ghost@x.com');
    expect(ghost.contact).toBeNull();
    expect(ghost.suppression).toMatchObject({ reason: 'unsubscribed' });
  });
});

describe('export and forget', () => {
  it('exports everything held about the person', async () => {
    const { s, b, sent } = await scene();
    const p = await s.people.exportPerson('edu@x.com', 'UADMIN');
    expect(p).toMatchObject({
      email: 'edu@x.com',
      emailHash: emailHash('edu@x.com').toString('hex'),
      contact: { email: 'edu@x.com', name: 'Edu', status: 'bounced', batchId: b.id },
      batches: [{ id: b.id, name: 'leads.csv' }],
      suppression: { reason: 'bounced' },
    });
    expect(p.history.map((h) => h.to)).toEqual(['bounced']);
    expect(p.sends).toEqual([
      expect.objectContaining({ campaignId: sent.id, campaignName: 'Q1', status: 'bounced' }),
    ]);
    expect(JSON.parse(JSON.stringify(p))).toEqual(p);
  });

  it('forget erases the address from every table in one go, keeps the hashed suppression, and no import or campaign brings them back', async () => {
    const { s, sql, core, sink, idOf, b, sent, clock } = await scene();
    const fay = idOf('fay@x.com');
    // Free text naming the person, as a bounce answer or a note might.
    sql.prepare(`UPDATE sends SET response = '550 <fay@x.com> no such user' WHERE contact_id = ?`).run(fay);
    await s.contacts.setStatus(fay, 'inactive', 'U1', 'Fay (FAY@x.com) asked by phone');
    sql
      .prepare(
        `INSERT INTO batch_events (batch_id, kind, actor, reason, at) VALUES (?, 'activated', 'U1', ?, ?)`,
      )
      .run(b.id, 'note: fay@x.com complained', clock.now());
    const before = (await s.batches.get(b.id)).contactCount;
    expect(rowsMentioning(core.db, 'fay@x.com').length).toBeGreaterThan(2);

    const counts = await s.people.forgetPerson('Fay@x.com', 'UADMIN');
    expect(counts).toMatchObject({ contacts: 1, ledgerRows: 1, batchEventTexts: 1, suppressionAdded: true });
    expect(counts.historyTexts).toBeGreaterThanOrEqual(1);
    expect(rowsMentioning(core.db, 'fay@x.com')).toEqual([]);
    expect((await s.batches.get(b.id)).contactCount).toBe(before - 1);
    const ledger = sql
      .prepare<[Buffer], { contact_id: number | null; response: string | null; status: string }>(
        'SELECT contact_id, response, status FROM sends WHERE email_hash = ?',
      )
      .all(emailHash('fay@x.com'));
    expect(ledger).toEqual([{ contact_id: null, response: null, status: 'sent' }]);
    expect(
      sql
        .prepare<[Buffer], { reason: string }>('SELECT reason FROM suppressions WHERE email_hash = ?')
        .get(emailHash('fay@x.com')),
    ).toEqual({ reason: 'deleted' });

    // An already-suppressed person keeps their reason.
    expect((await s.people.forgetPerson('edu@x.com', 'UADMIN')).suppressionAdded).toBe(false);
    expect(rowsMentioning(core.db, 'edu@x.com')).toEqual([]);

    // Never mailed again: a re-import counts them suppressed, a new campaign skips them.
    const again = await importText(s, 'email\nfay@x.com\nnew@x.com\n', { fileName: 'again.csv' });
    expect(again.report).toMatchObject({ imported: 1, suppressed: 1 });
    sink.received.length = 0;
    clock.advance(minute);
    const next = await s.campaigns.create({ name: 'Q2', subject: 'Hi', body: 'Hello', sendAt: 'now' }, 'U1');
    await runToEnd(s, next.id);
    expect(sink.received.map((m) => m.to)).toEqual(['new@x.com']);
    expect(rowsMentioning(core.db, 'fay@x.com')).toEqual([]);
    // why still answers from the hash alone.
    expect(await s.people.why('fay@x.com')).toMatchObject({
      contact: null,
      suppression: { reason: 'deleted' },
    });
    expect(verdict((await s.people.why('fay@x.com')).campaigns, sent.id)).toMatchObject({ mailed: true });
  });

  it('forget of an unknown address refuses and changes nothing', async () => {
    const core = testCore();
    cleanups.push(core.cleanup);
    expect((await refusal(() => core.services.people.forgetPerson('nobody@x.com', 'U1'))).code).toBe(
      'not_found',
    );
    expect(core.db.$client.prepare('SELECT count(*) AS n FROM suppressions').get()).toEqual({ n: 0 });
  });
});

describe('retention', () => {
  it('proposes an inactive batch once per period, and deletes only when asked (keeping suppressions and ledger hashes)', async () => {
    const { s, sql, clock, a, b, late } = await scene();
    expect(await s.retention.due(30)).toEqual([]);
    clock.advance(31 * day);
    // `a` was deactivated 31 days ago; `late` never active, imported 31 days ago; `b` is active.
    expect((await s.retention.due(30)).map((p) => p.batchId).sort()).toEqual([a.id, late.id].sort());
    await s.retention.markProposed(a.id);
    expect((await s.retention.due(30)).map((p) => p.batchId)).toEqual([late.id]);
    clock.advance(10 * day);
    expect((await s.retention.due(30)).map((p) => p.batchId)).toEqual([late.id]);
    clock.advance(21 * day);
    expect((await s.retention.due(30)).map((p) => p.batchId).sort()).toEqual([a.id, late.id].sort());
    // Nothing was deleted by proposing.
    expect((await s.batches.get(a.id)).contactCount).toBe(1);

    expect((await refusal(() => s.retention.deleteBatch(b.id, 'U1'))).code).toBe('conflict');
    // A bounced contact of an inactive batch: its suppression and ledger hash outlive the batch.
    await s.batches.deactivate(b.id, 'U1');
    const hashes = sql.prepare('SELECT count(*) AS n FROM sends').get();
    const suppressed = sql.prepare('SELECT count(*) AS n FROM suppressions').get();
    expect(await s.retention.deleteBatch(b.id, 'U1', 2)).toMatchObject({ batchId: b.id, contacts: 6 });
    expect((await refusal(() => s.batches.get(b.id))).code).toBe('not_found');
    expect(sql.prepare('SELECT count(*) AS n FROM contacts WHERE batch_id = ?').get(b.id)).toEqual({ n: 0 });
    expect(sql.prepare('SELECT count(*) AS n FROM sends').get()).toEqual(hashes);
    expect(sql.prepare('SELECT count(*) AS n FROM sends WHERE contact_id IS NOT NULL').get()).toEqual({
      n: 0,
    });
    expect(sql.prepare('SELECT count(*) AS n FROM suppressions').get()).toEqual(suppressed);
    expect((await refusal(() => s.retention.deleteBatch(b.id, 'U1'))).code).toBe('not_found');
  });
});
