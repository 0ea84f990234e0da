import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SequenceStep } from '../../../src/core/campaigns/sequence.js';
import type { Services } from '../../../src/core/index.js';
import { createLogger } from '../../../src/logger.js';
import { createMailer } from '../../../src/mail/index.js';
import { importText, testClock, testCore } from '../../helpers.js';
import { type Received, startSink } from '../../smtp-sink.js';

type Sink = Awaited<ReturnType<typeof startSink>>;
let sink: Sink;
let mailer: ReturnType<typeof createMailer> | undefined;
let core: ReturnType<typeof testCore>;
let s: Services;
const day = 86_400_000;
const wednesdayNoon = Date.UTC(2026, 0, 14, 12);
const clock = testClock(wednesdayNoon);

async function setup(opts: Parameters<typeof startSink>[0] = {}) {
  sink = await startSink(opts);
  mailer = createMailer({ smtpUrl: sink.url, outboxDir: '/nonexistent', log: createLogger('silent') });
  core = testCore({ clock, mailer });
  s = core.services;
}

afterEach(async () => {
  await mailer?.close();
  core?.cleanup();
  await sink?.close();
});

beforeEach(() => clock.set(wednesdayNoon));

/**
 * A campaign due now with these steps (step 1 also in its columns, as the campaign service
 * stores it): the steps are written to the row before its first run.
 */
async function sequence(steps: SequenceStep[], more: { dailyLimit?: number } = {}) {
  const first = steps[0]!;
  const c = await s.campaigns.create(
    { name: 'seq', subject: first.subject!, body: first.body, sendAt: 'now', ...more },
    'U1',
  );
  core.db.$client.prepare('UPDATE campaigns SET steps = ? WHERE id = ?').run(JSON.stringify(steps), c.id);
  return c.id;
}

type Row = {
  contact_id: number;
  step: number;
  variant: number | null;
  status: string;
  message_id: string | null;
};
const rows = (id: string) =>
  core.db.$client
    .prepare(
      'SELECT contact_id, step, variant, status, message_id FROM sends WHERE campaign_id = ? ORDER BY step, contact_id',
    )
    .all(id) as Row[];
type Person = { contact_id: number; step: number; next_due_at: number | null; stop_reason: string | null };
const people = (id: string) =>
  core.db.$client
    .prepare(
      'SELECT contact_id, step, next_due_at, stop_reason FROM sequence_people WHERE campaign_id = ? ORDER BY contact_id',
    )
    .all(id) as Person[];
const contactId = (email: string) =>
  (core.db.$client.prepare('SELECT id FROM contacts WHERE email = ?').get(email) as { id: number }).id;
const to = (ms: Received[]) => ms.map((m) => m.to).sort();
/** The messages received since `from`. */
const since = (from: number) => sink.received.slice(from);

describe('a sequence', () => {
  it('sends each follow-up at its due time only, in the thread of that person, with the unsubscribe parts on every step', async () => {
    await setup();
    await importText(s, 'email,name\nana@x.com,Ana Souza\nbruno@x.com,Bruno\ncarla@x.com,\n');
    const id = await sequence([
      { subject: 'Hello {{first_name|there}}', body: 'One for {{name|friend}}', delayDays: 0 },
      { body: 'Two for {{name|friend}}', delayDays: 2 },
      { subject: 'A new angle', body: 'Three', html: '<p>Three</p>', delayDays: 3 },
    ]);

    await s.sending.runDue();
    expect(to(sink.received)).toEqual(['ana@x.com', 'bruno@x.com', 'carla@x.com']);
    expect((await s.campaigns.get(id)).status).toBe('sending'); // people wait for step 2
    const step1 = new Map(sink.received.map((m) => [m.to, m]));
    expect(step1.get('ana@x.com')!.headers.subject).toBe('Hello Ana');
    expect(step1.get('ana@x.com')!.headers['in-reply-to']).toBeUndefined();
    const due2 = people(id);
    expect(due2.map((p) => [p.step, p.next_due_at, p.stop_reason])).toEqual(
      Array(3).fill([1, wednesdayNoon + 2 * day, null]),
    );

    clock.set(wednesdayNoon + 2 * day - 60_000); // a minute early: nothing
    await s.sending.runDue();
    expect(sink.received).toHaveLength(3);
    expect((await s.campaigns.get(id)).status).toBe('sending');

    clock.set(wednesdayNoon + 2 * day);
    await s.sending.runDue();
    const step2 = since(3);
    expect(to(step2)).toEqual(['ana@x.com', 'bruno@x.com', 'carla@x.com']);
    for (const m of step2) {
      const first = step1.get(m.to)!;
      expect(m.headers['in-reply-to']).toBe(first.headers['message-id']);
      expect(m.headers.references).toBe(first.headers['message-id']);
      expect(m.headers.subject).toBe(`Re: ${first.headers.subject}`);
      expect(m.headers['message-id']).not.toBe(first.headers['message-id']);
      expect(m.headers['list-unsubscribe']).toMatch(/^<https:\/\/coldbatch\.test\/u\/[^>]+>/);
      expect(m.headers['list-unsubscribe-post']).toBe('List-Unsubscribe=One-Click');
      expect(m.body).toContain('Rua Exemplo 100');
    }
    expect(step2.find((m) => m.to === 'ana@x.com')!.body).toContain('Two for Ana Souza');
    expect((await s.campaigns.get(id)).status).toBe('sending');

    clock.set(wednesdayNoon + 5 * day - 1);
    await s.sending.runDue();
    expect(sink.received).toHaveLength(6);
    clock.set(wednesdayNoon + 5 * day);
    await s.sending.runDue();
    const step3 = since(6);
    expect(to(step3)).toEqual(['ana@x.com', 'bruno@x.com', 'carla@x.com']);
    const second = new Map(step2.map((m) => [m.to, m]));
    for (const m of step3) {
      // Its own subject, still in the thread: In-Reply-To the previous step, References all.
      expect(m.headers.subject).toBe('A new angle');
      expect(m.headers['in-reply-to']).toBe(second.get(m.to)!.headers['message-id']);
      expect(m.headers.references).toBe(
        `${step1.get(m.to)!.headers['message-id']} ${second.get(m.to)!.headers['message-id']}`,
      );
      expect(m.raw).toContain('<p>Three</p>');
      expect(m.raw).toContain('Unsubscribe');
    }

    // The last step sent: the campaign completes, everyone finished.
    expect((await s.campaigns.get(id)).status).toBe('completed');
    expect(people(id).map((p) => [p.step, p.next_due_at, p.stop_reason])).toEqual(
      Array(3).fill([3, null, null]),
    );
    const ledger = rows(id);
    expect(ledger.map((r) => [r.step, r.status])).toEqual([
      ...Array(3).fill([1, 'sent']),
      ...Array(3).fill([2, 'sent']),
      ...Array(3).fill([3, 'sent']),
    ]);
    await s.sending.runDue();
    expect(sink.received).toHaveLength(9);
  });

  it('deals step 1 variants evenly (±1), stores them, and a follow-up answers the subject the person got', async () => {
    await setup();
    const emails = Array.from({ length: 11 }, (_, i) => `p${i}@x.com`);
    await importText(s, `email\n${emails.join('\n')}\n`);
    const id = await sequence([
      {
        subject: 'Base',
        body: 'Base body',
        delayDays: 0,
        variants: [{ subject: 'Subject A' }, { subject: 'Subject B', body: 'Body B' }],
      },
      { body: 'Following up', delayDays: 1 },
    ]);
    await s.sending.runDue();
    const ledger = rows(id);
    expect(ledger).toHaveLength(11);
    const byVariant = [1, 2].map((v) => ledger.filter((r) => r.variant === v).length);
    expect(byVariant[0]! + byVariant[1]!).toBe(11);
    expect(Math.abs(byVariant[0]! - byVariant[1]!)).toBeLessThanOrEqual(1);
    // Each person got the text of the variant on their row.
    const variantOf = new Map(ledger.map((r) => [r.contact_id, r.variant]));
    for (const m of sink.received) {
      const v = variantOf.get(contactId(m.to));
      expect(m.headers.subject).toBe(v === 1 ? 'Subject A' : 'Subject B');
      expect(m.body).toContain(v === 1 ? 'Base body' : 'Body B');
    }

    clock.advance(day);
    await s.sending.runDue();
    const followUps = since(11);
    expect(followUps).toHaveLength(11);
    for (const m of followUps) {
      const v = variantOf.get(contactId(m.to));
      expect(m.headers.subject).toBe(v === 1 ? 'Re: Subject A' : 'Re: Subject B');
    }
    // A step without variants has none on its rows.
    expect(
      rows(id)
        .filter((r) => r.step === 2)
        .every((r) => r.variant === null),
    ).toBe(true);
    expect((await s.campaigns.get(id)).status).toBe('completed');
  });

  it('variants on a one-step campaign: no follow-up bookkeeping, it completes at once', async () => {
    await setup();
    await importText(s, 'email\na@x.com\nb@x.com\nc@x.com\nd@x.com\n');
    const id = await sequence([
      { subject: 'S', body: 'B', delayDays: 0, variants: [{ subject: 'S1' }, { subject: 'S2' }] },
    ]);
    await s.sending.runDue();
    expect(sink.received).toHaveLength(4);
    expect(
      rows(id)
        .map((r) => r.variant)
        .sort(),
    ).toEqual([1, 1, 2, 2]);
    expect(people(id)).toEqual([]);
    expect((await s.campaigns.get(id)).status).toBe('completed');
  });

  it('due follow-ups go before new people under dailyLimit', async () => {
    await setup();
    await importText(s, 'email\na@x.com\nb@x.com\nc@x.com\nd@x.com\ne@x.com\n');
    const id = await sequence(
      [
        { subject: 'Hi', body: 'one', delayDays: 0 },
        { body: 'two', delayDays: 1 },
      ],
      { dailyLimit: 3 },
    );
    await s.sending.runDue();
    expect(to(sink.received)).toEqual(['a@x.com', 'b@x.com', 'c@x.com']);
    await s.sending.runDue();
    expect(sink.received).toHaveLength(3); // the day's limit

    clock.advance(day); // Thursday: a, b, c due, d and e not yet reached
    await s.sending.runDue();
    const thursday = since(3);
    expect(to(thursday)).toEqual(['a@x.com', 'b@x.com', 'c@x.com']);
    expect(thursday.every((m) => m.headers.subject === 'Re: Hi')).toBe(true);

    clock.advance(day); // Friday: the new people
    await s.sending.runDue();
    expect(to(since(6))).toEqual(['d@x.com', 'e@x.com']);
    expect((await s.campaigns.get(id)).status).toBe('sending');
    clock.advance(day);
    await s.sending.runDue();
    expect(to(since(8))).toEqual(['d@x.com', 'e@x.com']);
    expect((await s.campaigns.get(id)).status).toBe('completed');
  });

  it('a person who replied, unsubscribed or left the audience between steps gets nothing more and is stopped with the reason', async () => {
    await setup();
    await importText(s, 'email\nana@x.com\nbruno@x.com\ncarla@x.com\ndora@x.com\n');
    const id = await sequence([
      { subject: 'Hi', body: 'one', delayDays: 0 },
      { body: 'two', delayDays: 2 },
      { body: 'three', delayDays: 2 },
    ]);
    await s.sending.runDue();
    expect(sink.received).toHaveLength(4);

    // Through the contact service (its own store may stop the person at once) …
    await s.contacts.setStatus(contactId('bruno@x.com'), 'replied', 'system');
    // … or found by the claim when the follow-up comes due (a change that did not stop them).
    core.db.$client.prepare(`UPDATE contacts SET status = 'unsubscribed' WHERE email = 'carla@x.com'`).run();
    core.db.$client
      .prepare(
        `INSERT INTO suppressions (email_hash, reason, actor, created_at) SELECT email_hash, 'manual', 'U1', 0 FROM contacts WHERE email = 'dora@x.com'`,
      )
      .run();

    clock.advance(2 * day);
    await s.sending.runDue();
    expect(to(since(4))).toEqual(['ana@x.com']);
    const byContact = new Map(people(id).map((p) => [p.contact_id, p]));
    expect(byContact.get(contactId('bruno@x.com'))).toMatchObject({
      step: 1,
      next_due_at: null,
      stop_reason: 'replied',
    });
    expect(byContact.get(contactId('carla@x.com'))).toMatchObject({
      step: 1,
      next_due_at: null,
      stop_reason: 'unsubscribed',
    });
    expect(byContact.get(contactId('dora@x.com'))).toMatchObject({
      step: 1,
      next_due_at: null,
      stop_reason: 'left_audience',
    });
    expect((await s.campaigns.get(id)).status).toBe('sending'); // ana waits for step 3

    clock.advance(2 * day);
    await s.sending.runDue();
    expect(to(since(5))).toEqual(['ana@x.com']);
    expect((await s.campaigns.get(id)).status).toBe('completed');
    expect(
      rows(id)
        .filter((r) => r.step > 1)
        .map((r) => r.contact_id),
    ).toEqual([contactId('ana@x.com'), contactId('ana@x.com')]);
  });

  it('a follow-up waiting for a retry when the person replies is not retried, and the person is stopped', async () => {
    let greylist = false;
    await setup({ reject: (to) => (greylist && to === 'ana@x.com' ? 451 : undefined) });
    await importText(s, 'email\nana@x.com\nbruno@x.com\n');
    const id = await sequence([
      { subject: 'Hi', body: 'one', delayDays: 0 },
      { body: 'two', delayDays: 1 },
    ]);
    await s.sending.runDue();
    greylist = true;
    clock.advance(day);
    await s.sending.runDue();
    expect(to(since(2))).toEqual(['bruno@x.com']);
    const ana = contactId('ana@x.com');
    expect(rows(id).find((r) => r.contact_id === ana && r.step === 2)?.status).toBe('retry');
    // A reply recorded without stopping the sequence (the claim must not retry it).
    core.db.$client.prepare(`UPDATE contacts SET status = 'replied' WHERE id = ?`).run(ana);
    greylist = false;
    clock.advance(10 * 60_000);
    await s.sending.runDue();
    expect(sink.received).toHaveLength(3);
    expect(rows(id).find((r) => r.contact_id === ana && r.step === 2)?.status).toBe('failed');
    expect(people(id).find((p) => p.contact_id === ana)).toMatchObject({ stop_reason: 'replied' });
    expect((await s.campaigns.get(id)).status).toBe('completed');
  });

  it('follow-ups that came due while paused go out at the campaign rate after resume, not in one burst', async () => {
    await setup();
    await importText(s, `email\n${Array.from({ length: 6 }, (_, i) => `p${i}@x.com`).join('\n')}\n`);
    const first = { subject: 'Hi', body: 'one', delayDays: 0 };
    const c = await s.campaigns.create({ name: 'paced', ...first, sendAt: 'now', ratePerMinute: 12 }, 'U1');
    core.db.$client
      .prepare('UPDATE campaigns SET steps = ? WHERE id = ?')
      .run(JSON.stringify([first, { body: 'two', delayDays: 1 }]), c.id);
    // 12 a minute: one message every 5 s.
    for (let i = 0; i < 20 && sink.received.length < 6; i++) {
      await s.sending.runDue();
      clock.advance(5_000);
    }
    expect(sink.received).toHaveLength(6);
    await s.campaigns.pause(c.id, 'U1');
    clock.advance(3 * day);
    await s.sending.runDue();
    expect(sink.received).toHaveLength(6);
    await s.campaigns.resume(c.id, 'U1');
    await s.sending.runDue();
    expect(sink.received).toHaveLength(7); // one, not the six overdue at once
    for (let i = 0; i < 5; i++) {
      clock.advance(5_000);
      await s.sending.runDue();
      expect(sink.received).toHaveLength(8 + i);
    }
    // Nothing left: it completes (a look for new people may take a tick of its own).
    for (let i = 0; i < 3 && (await s.campaigns.get(c.id)).status === 'sending'; i++) {
      clock.advance(5_000);
      await s.sending.runDue();
    }
    expect(sink.received).toHaveLength(12);
    expect((await s.campaigns.get(c.id)).status).toBe('completed');
  });

  it('a person set active again while the sequence waits gets step 1 within ten minutes, and nobody twice', async () => {
    await setup();
    await importText(s, 'email\na@x.com\nb@x.com\nc@x.com\n');
    await s.contacts.setStatus(contactId('a@x.com'), 'inactive', 'U1');
    const id = await sequence([
      { subject: 'Hi', body: 'one', delayDays: 0 },
      { body: 'two', delayDays: 3 },
    ]);
    await s.sending.runDue();
    expect(to(sink.received)).toEqual(['b@x.com', 'c@x.com']);
    await s.contacts.setStatus(contactId('a@x.com'), 'active', 'U1');
    for (let i = 0; i < 10 && sink.received.length < 3; i++) {
      clock.advance(60_000);
      await s.sending.runDue();
    }
    expect(to(sink.received)).toEqual(['a@x.com', 'b@x.com', 'c@x.com']);
    clock.set(wednesdayNoon + 3 * day);
    await s.sending.runDue();
    expect(to(since(3))).toEqual(['b@x.com', 'c@x.com']);
    clock.advance(20 * 60_000);
    await s.sending.runDue();
    expect(to(since(3))).toEqual(['a@x.com', 'b@x.com', 'c@x.com']);
    expect((await s.campaigns.get(id)).status).toBe('completed');
  });

  it('a one-step campaign writes no sequence rows and its rows are step 1 without a variant', async () => {
    await setup();
    await importText(s, 'email\na@x.com\nb@x.com\n');
    const c = await s.campaigns.create({ name: 'one', subject: 'S', body: 'B', sendAt: 'now' }, 'U1');
    await s.sending.runDue();
    expect((await s.campaigns.get(c.id)).status).toBe('completed');
    expect(rows(c.id).map((r) => [r.step, r.variant, r.status])).toEqual([
      [1, null, 'sent'],
      [1, null, 'sent'],
    ]);
    expect(people(c.id)).toEqual([]);
    expect(sink.received.every((m) => m.headers['in-reply-to'] === undefined)).toBe(true);
  });
});
