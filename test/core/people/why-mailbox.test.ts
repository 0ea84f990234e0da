/**
 * `why`, the export and a forget with what the mailbox read: the contact's interest, whether and
 * why the address is suppressed (complained, soft_bounced), the marks on each ledger row and the
 * messages read from or about the person. The mailbox's rows are written with SQL, as the mailbox
 * store writes them.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { emailHash } from '../../../src/core/contacts/email-hash.js';
import type { CampaignVerdict } from '../../../src/core/people/people-service.js';
import { rowsMentioning } from '../../db-scan.js';
import { importText, testClock, testCore } from '../../helpers.js';

let core: ReturnType<typeof testCore>;
afterEach(() => core.cleanup());

const hour = 3_600_000;

async function scene() {
  const clock = testClock(Date.UTC(2026, 1, 4, 9));
  core = testCore({ clock });
  const s = core.services;
  const sql = core.db.$client;
  const idOf = (email: string) =>
    sql.prepare<[string], { id: number }>('SELECT id FROM contacts WHERE email = ?').get(email)!.id;
  await importText(s, 'email,name\nana@x.com,Ana\ndan@x.com,Dan\neva@x.com,Eva\nfay@x.com,Fay\n', {
    fileName: 'leads.csv',
  });
  const c = await s.campaigns.create({ name: 'Intro', subject: 'Hi', body: 'Hello', sendAt: 'now' }, 'U1');
  for (let i = 0; i < 10 && (await s.campaigns.get(c.id)).status !== 'completed'; i++)
    await s.sending.runDue();

  clock.advance(hour);
  const at = clock.now();
  let uid = 0;
  const message = (m: {
    kind: string;
    from: string | null;
    subject: string;
    snippet?: string;
    contact?: number;
  }) =>
    Number(
      sql
        .prepare(
          `INSERT INTO inbox_messages (mailbox, uid_validity, uid, kind, from_address, subject, message_id, received_at,
             campaign_id, contact_id, snippet, processed_at)
           VALUES ('imap://bounces@mail.test:993/INBOX', '7', ?, ?, ?, ?, NULL, ?, ?, ?, ?, ?)`,
        )
        .run(++uid, m.kind, m.from, m.subject, at, c.id, m.contact ?? null, m.snippet ?? null, at)
        .lastInsertRowid,
    );
  const ledger = (email: string, column: string) =>
    sql.prepare(`UPDATE sends SET ${column} = ? WHERE contact_id = ?`).run(at, idOf(email));

  // ana replied (a person marked her interested); dan complained; eva's message soft-bounced.
  message({
    kind: 'reply',
    from: 'ana@x.com',
    subject: 'Re: Hi',
    snippet: 'Yes, call me.',
    contact: idOf('ana@x.com'),
  });
  ledger('ana@x.com', 'replied_at');
  await s.contacts.setStatus(idOf('ana@x.com'), 'replied', 'system', 'replied to Intro');
  sql.prepare("UPDATE contacts SET interest = 'interested' WHERE email = 'ana@x.com'").run();
  message({ kind: 'complaint', from: 'fbl@isp.test', subject: 'Abuse report', contact: idOf('dan@x.com') });
  ledger('dan@x.com', 'complained_at');
  await s.contacts.setStatus(idOf('dan@x.com'), 'complained', 'system', 'spam report');
  const bounce = message({
    kind: 'bounce',
    from: 'mailer-daemon@mx.test',
    subject: 'Delivery delayed: failure',
  });
  sql
    .prepare(
      `INSERT INTO inbox_bounces (message_id, email, status, permanent, hard, reason, send_id, at)
       VALUES (?, 'eva@x.com', '4.2.2', 0, 0, 'mailbox full', NULL, ?)`,
    )
    .run(bounce, at);
  ledger('eva@x.com', 'soft_bounced_at');
  sql
    .prepare(
      "INSERT INTO suppressions (email_hash, reason, actor, created_at) VALUES (?, 'soft_bounced', 'system', ?)",
    )
    .run(emailHash('eva@x.com'), at);
  return { s, sql, clock, campaignId: c.id, at: new Date(at).toISOString() };
}

const mailed = (v: CampaignVerdict | undefined) => {
  if (!v?.mailed) throw new Error('expected a mailed verdict');
  return v;
};

describe('why with the mailbox', () => {
  it('shows the interest, no suppression, the reply on the ledger row and the reply itself', async () => {
    const { s, campaignId, at } = await scene();
    const w = await s.people.why('ana@x.com');
    expect(w.contact).toMatchObject({ status: 'replied', interest: 'interested' });
    expect(w.suppression).toBeNull();
    expect(mailed(w.campaigns[0])).toMatchObject({
      campaignId,
      status: 'sent',
      repliedAt: at,
      complainedAt: null,
      softBouncedAt: null,
    });
    expect(w.inbox).toEqual([
      { id: expect.any(Number), kind: 'reply', subject: 'Re: Hi', receivedAt: at, campaignId },
    ]);
  });

  it('shows whether and why the address is suppressed: complained, soft_bounced (who, when)', async () => {
    const { s, at } = await scene();
    const dan = await s.people.why('dan@x.com');
    expect(dan.suppression).toEqual({ reason: 'complained', actor: 'system', at });
    expect(mailed(dan.campaigns[0]).complainedAt).toBe(at);
    expect(dan.inbox.map((m) => m.kind)).toEqual(['complaint']);

    const eva = await s.people.why('eva@x.com');
    expect(eva.suppression).toEqual({ reason: 'soft_bounced', actor: 'system', at });
    expect(eva.contact?.interest).toBeNull();
    expect(mailed(eva.campaigns[0]).softBouncedAt).toBe(at);
    // The bounce names eva only in its recipients: found through them.
    expect(eva.inbox.map((m) => m.kind)).toEqual(['bounce']);
  });

  it('a later campaign explains that the person replied or complained', async () => {
    const { s, clock } = await scene();
    clock.advance(hour);
    const later = await s.campaigns.create({ name: 'Later', subject: 's', body: 'b', sendAt: 'now' }, 'U1');
    for (let i = 0; i < 10 && (await s.campaigns.get(later.id)).status !== 'completed'; i++)
      await s.sending.runDue();
    const [ana] = (await s.people.why('ana@x.com')).campaigns;
    expect(ana).toMatchObject({ campaignId: later.id, mailed: false, reason: 'status_not_active' });
    expect(ana?.mailed === false && ana.detail).toContain(
      'the contact was replied (people who replied are left out',
    );
    const [dan] = (await s.people.why('dan@x.com')).campaigns;
    expect(dan?.mailed === false && dan.detail).toContain('complained (reported a message as spam)');
  });

  it('the export holds the interest, the ledger marks and the messages; a forget blanks those messages', async () => {
    const { s, sql, at } = await scene();
    const e = await s.people.exportPerson('ana@x.com', 'U1');
    expect(e.contact).toMatchObject({ status: 'replied', interest: 'interested' });
    expect(e.sends[0]).toMatchObject({ repliedAt: at, complainedAt: null, softBouncedAt: null });
    expect(e.inbox).toEqual([
      expect.objectContaining({
        kind: 'reply',
        from: 'ana@x.com',
        subject: 'Re: Hi',
        snippet: 'Yes, call me.',
      }),
    ]);

    const counts = await s.people.forgetPerson('ana@x.com', 'U1');
    expect(counts.inboxMessages).toBe(1);
    expect(rowsMentioning(core.db, 'ana@x.com')).toEqual([]);
    // The row stays (so the reader never takes it for new), without the person.
    expect(
      sql.prepare("SELECT from_address, subject, snippet FROM inbox_messages WHERE kind = 'reply'").get(),
    ).toEqual({ from_address: null, subject: '[erased on request]', snippet: null });

    expect((await s.people.forgetPerson('eva@x.com', 'U1')).inboxMessages).toBe(0);
    expect(sql.prepare('SELECT count(*) AS n FROM inbox_bounces WHERE email IS NOT NULL').get()).toEqual({
      n: 0,
    });
    expect(rowsMentioning(core.db, 'eva@x.com')).toEqual([]);
  });
});
