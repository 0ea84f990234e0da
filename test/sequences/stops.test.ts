/**
 * What stops a person's sequence, as it happens to a user (issue 16, PRODUCT.md §8): a human reply
 * delivered to the IMAP mailbox, a bounce DSN to the VERP address and a one-click unsubscribe (the
 * List-Unsubscribe link POSTed like a mail client) after step 1 stop that person's later steps,
 * and only theirs; an out-of-office auto-reply does not; a reply to step 2 stops step 3. A contact
 * set inactive and the campaign cancelled stop the rest; a reply read while the relay has step 1
 * but has not answered yet still stops that person. Asserted on what the sink received, on
 * GET /campaigns/{id}/people and on the step figures of GET /campaigns/{id}.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir, waitFor } from '../helpers.js';
import { startImapServer } from '../mail/imap-server.js';
import { startSink } from '../smtp-sink.js';
import {
  api,
  berlinWeekdays,
  boot,
  byRecipient,
  campaignOf,
  createCampaign,
  expectLedgerUnique,
  expectNoDoubles,
  hardBounce,
  importPeople,
  oneClickUrl,
  outOfOffice,
  peopleOf,
  reply,
  startGatedSink,
  stepOf,
  stepsWhen,
  testClock,
} from './kit.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const at = (p: string) => `${p}@x.com`;

describe('a sequence stops per person', () => {
  it('on a reply, a hard bounce and an unsubscribe after step 1 (theirs only), not on an out-of-office; a reply to step 2 stops step 3', async () => {
    const dirs = tempDir();
    cleanups.push(dirs.cleanup);
    const sink = await startSink();
    cleanups.push(sink.close);
    const imap = await startImapServer();
    cleanups.push(() => imap.kill());
    const start = Date.UTC(2026, 2, 10, 9, 0); // Tuesday 10 March 2026, 10:00 in Berlin
    const clock = testClock(start);
    const t = await boot({ db: join(dirs.dir, 'stops.db'), sink, imap, clock }, cleanups);
    const names = ['ana', 'ben', 'cem', 'dora', 'emil', 'fritz'];
    await importPeople(t, names.map(at));
    const c = await createCampaign(t, {
      name: 'Stops',
      timezone: 'Europe/Berlin',
      window: berlinWeekdays,
      sendAt: 'now',
      steps: [
        { subject: 'Quick question, {{first_name|there}}', body: 'step-1 Hi {{first_name|there}}.' },
        { body: 'step-2 bumping this.', delayDays: 2 },
        { body: 'step-3 last one.', delayDays: 3 },
      ],
    });

    await t.app.services.sending.runDue();
    const one = byRecipient(sink.received, 1);
    expect([...one.keys()].sort()).toEqual(names.map(at));

    // ana answers, ben's address bounces (a DSN to the VERP address), dora is out of office,
    // cem clicks the one-click unsubscribe of his mail client.
    imap.append(reply(one.get(at('ana'))!, 'Sounds good, call me on Friday.'));
    imap.append(hardBounce(one.get(at('ben'))!));
    imap.append(outOfOffice(one.get(at('dora'))!));
    const res = await fetch(oneClickUrl(t, one.get(at('cem'))!), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'List-Unsubscribe=One-Click',
    });
    expect(res.status).toBe(200);
    type Inbox = { messages: { kind: string; from: string | null }[] };
    await waitFor(async () => (await api<Inbox>(t, '/inbox/messages')).messages.length === 3, 20_000);
    const kinds = (await api<Inbox>(t, '/inbox/messages')).messages.map((m) => m.kind).sort();
    expect(kinds).toEqual(['auto_reply', 'bounce', 'reply']);

    // The people list says who stopped and why, at once.
    const stopped = await peopleOf(t, c.id, 'stopped');
    expect(stopped.map((p) => [p.email, p.step, p.stopReason]).sort()).toEqual([
      [at('ana'), 1, 'replied'],
      [at('ben'), 1, 'bounced'],
      [at('cem'), 1, 'unsubscribed'],
    ]);
    for (const p of stopped) expect(p.nextDueAt).toBeUndefined();
    const waiting = await peopleOf(t, c.id, 'waiting');
    // Two business days after Tuesday 10:00 CET: Thursday 12 March, 10:00 CET.
    expect(waiting.map((p) => [p.email, p.step, p.nextDueAt]).sort()).toEqual(
      ['dora', 'emil', 'fritz'].map((p) => [at(p), 1, '2026-03-12T09:00:00.000Z']),
    );

    // Step 2 comes due: only the three still in the sequence get it.
    clock.set(Date.UTC(2026, 2, 12, 9, 0));
    await t.app.services.sending.runDue();
    const two = byRecipient(sink.received, 2);
    expect([...two.keys()].sort()).toEqual(['dora', 'emil', 'fritz'].map(at));

    // emil answers step 2 (his mail client quotes it): his step 3 is stopped, the others' is not.
    imap.append(reply(two.get(at('emil'))!, 'Not now, maybe next quarter.'));
    await waitFor(async () => (await peopleOf(t, c.id, 'stopped')).length === 4, 20_000);
    clock.set(Date.UTC(2026, 2, 17, 9, 0)); // three business days after Thursday: Tuesday
    await t.app.services.sending.runDue();
    expect([...byRecipient(sink.received, 3).keys()].sort()).toEqual(['dora', 'fritz'].map(at));

    // Nothing more goes, to anyone.
    clock.set(Date.UTC(2026, 2, 31, 9, 0));
    await t.app.services.sending.runDue();
    expect(sink.received.map((m) => `${m.to} ${stepOf(m)}`).sort()).toEqual(
      [
        ...names.map((p) => `${at(p)} 1`),
        ...['dora', 'emil', 'fritz'].map((p) => `${at(p)} 2`),
        ...['dora', 'fritz'].map((p) => `${at(p)} 3`),
      ].sort(),
    );
    expectNoDoubles(sink.received);
    expectLedgerUnique(t, c.id);

    const all = await peopleOf(t, c.id);
    expect(all.map((p) => [p.email, p.state, p.step, p.stopReason ?? null]).sort()).toEqual([
      [at('ana'), 'stopped', 1, 'replied'],
      [at('ben'), 'stopped', 1, 'bounced'],
      [at('cem'), 'stopped', 1, 'unsubscribed'],
      [at('dora'), 'finished', 3, null],
      [at('emil'), 'stopped', 2, 'replied'],
      [at('fritz'), 'finished', 3, null],
    ]);
    const detail = await campaignOf(t, c.id);
    expect(detail.status).toBe('completed');
    const steps = await stepsWhen(t, c.id, (s) => s[2]!.counts.sent === 2 && s[1]!.counts.replied === 1);
    expect(steps[0]!.counts).toMatchObject({ bounced: 1, replied: 1, unsubscribed: 1 });
    expect(steps[1]!.counts).toMatchObject({ sent: 3, replied: 1 });
    expect(steps[2]!.counts).toMatchObject({ sent: 2, replied: 0 });
  });
});

describe('a sequence stops for everyone waiting', () => {
  it('a contact set inactive leaves it (`left_audience`); the campaign cancelled stops the rest (`cancelled`); nothing more goes', async () => {
    const dirs = tempDir();
    cleanups.push(dirs.cleanup);
    const sink = await startSink();
    cleanups.push(sink.close);
    const clock = testClock(Date.UTC(2026, 2, 10, 9, 0));
    const t = await boot({ db: join(dirs.dir, 'cancel.db'), sink, clock }, cleanups);
    await importPeople(t, ['kai', 'lea', 'max'].map(at));
    const c = await createCampaign(t, {
      name: 'Cancelled',
      timezone: 'Europe/Berlin',
      window: berlinWeekdays,
      sendAt: 'now',
      steps: [
        { subject: 'Hi', body: 'step-1' },
        { body: 'step-2', delayDays: 2 },
      ],
    });
    await t.app.services.sending.runDue();
    expect(sink.received).toHaveLength(3);
    const lea = (await peopleOf(t, c.id)).find((p) => p.email === at('lea'))!;
    await api(t, `/contacts/${lea.contactId}/status`, {
      method: 'PUT',
      body: JSON.stringify({ status: 'inactive', reason: 'left the company' }),
    });
    expect((await peopleOf(t, c.id, 'stopped')).map((p) => [p.email, p.stopReason])).toEqual([
      [at('lea'), 'left_audience'],
    ]);
    await api(t, `/campaigns/${c.id}/cancel`, { method: 'POST' });
    expect((await peopleOf(t, c.id, 'stopped')).map((p) => [p.email, p.stopReason]).sort()).toEqual([
      [at('kai'), 'cancelled'],
      [at('lea'), 'left_audience'],
      [at('max'), 'cancelled'],
    ]);
    expect(await peopleOf(t, c.id, 'waiting')).toEqual([]);
    clock.set(Date.UTC(2026, 2, 13, 9, 0));
    await t.app.services.sending.runDue();
    expect(sink.received).toHaveLength(3);
  });
});

describe('a reply that overtakes the sent mark', () => {
  it('read while the relay has step 1 but has not answered yet: that person gets no step 2, and the list says stopped (replied)', async () => {
    const dirs = tempDir();
    cleanups.push(dirs.cleanup);
    const sink = await startGatedSink();
    cleanups.push(sink.close);
    const imap = await startImapServer();
    cleanups.push(() => imap.kill());
    const clock = testClock(Date.UTC(2026, 2, 10, 9, 0));
    const t = await boot({ db: join(dirs.dir, 'race.db'), sink, imap, clock }, cleanups);
    await importPeople(t, [at('ana'), at('ben')]);
    const c = await createCampaign(t, {
      name: 'Race',
      timezone: 'Europe/Berlin',
      window: berlinWeekdays,
      sendAt: 'now',
      steps: [
        { subject: 'Hi {{first_name|there}}', body: 'step-1' },
        { body: 'step-2', delayDays: 2 },
        { body: 'step-3', delayDays: 3 },
      ],
    });
    // The relay has both messages but holds its 250; ana answers hers at once.
    sink.hold();
    const pass = t.app.services.sending.runDue();
    const first = await waitFor(() => sink.arrived.find((m) => m.to === at('ana')), 20_000);
    imap.append(reply(first, 'Yes! Call me.'));
    type Inbox = { messages: { kind: string }[] };
    await waitFor(async () => (await api<Inbox>(t, '/inbox/messages')).messages.length === 1, 20_000);
    sink.release();
    await pass;
    expect(sink.received.map((m) => m.to).sort()).toEqual([at('ana'), at('ben')]);

    // Stopped at once, like any reply (PRODUCT.md §8: the stop reason is the event that stopped them).
    const ana = (await peopleOf(t, c.id)).find((p) => p.email === at('ana'));
    expect
      .soft(ana, 'ana right after step 1 is marked sent')
      .toMatchObject({ state: 'stopped', stopReason: 'replied' });

    // Whatever the list said, step 2 never reaches her; ben gets his.
    clock.set(Date.UTC(2026, 2, 12, 9, 0));
    await t.app.services.sending.runDue();
    expect(byRecipient(sink.received, 2).size).toBe(1);
    expect([...byRecipient(sink.received, 2).keys()]).toEqual([at('ben')]);
    const after = (await peopleOf(t, c.id)).find((p) => p.email === at('ana'));
    expect(after).toMatchObject({ state: 'stopped', stopReason: 'replied', step: 1 });
  });
});

describe('step figures after a bounce DSN', () => {
  it('step 1 `sent` counts what the server accepted: a later DSN adds to `bounced`, it does not lower `sent` (PRODUCT.md §8)', async () => {
    const dirs = tempDir();
    cleanups.push(dirs.cleanup);
    const sink = await startSink();
    cleanups.push(sink.close);
    const imap = await startImapServer();
    cleanups.push(() => imap.kill());
    const clock = testClock(Date.UTC(2026, 2, 10, 9, 0));
    const t = await boot({ db: join(dirs.dir, 'dsn.db'), sink, imap, clock }, cleanups);
    await importPeople(t, [at('gus'), at('hal'), at('ivo')]);
    const c = await createCampaign(t, {
      name: 'DSN',
      timezone: 'Europe/Berlin',
      window: berlinWeekdays,
      sendAt: 'now',
      steps: [
        { subject: 'Hi', body: 'step-1' },
        { body: 'step-2', delayDays: 2 },
      ],
    });
    await t.app.services.sending.runDue();
    const one = byRecipient(sink.received, 1);
    expect(one.size).toBe(3);
    imap.append(hardBounce(one.get(at('hal'))!));
    await waitFor(async () => (await peopleOf(t, c.id, 'stopped')).length === 1, 20_000);
    clock.advance(61_000); // a minute later: a sending campaign's figures are at most a minute old
    const steps = await stepsWhen(t, c.id, (s) => s[0]!.counts.bounced === 1);
    expect(steps[0]!.counts).toMatchObject({ sent: 3, bounced: 1 });
  });
});
