/**
 * A 3-step sequence as a user meets it (issue 16, PRODUCT.md §8): imported and created over REST,
 * sent by the engine's passes as the scheduler runs them while the settable clock moves on. Each
 * step goes out on its due business day of a Mon–Fri window in Europe/Berlin, across a weekend and
 * the spring DST change, at the same local time; step 2 replies in the thread of each person's
 * step 1 and step 3 carries the whole thread. Step 1's A/B variants split evenly and the same way
 * when the same database runs again.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers.js';
import { type Received, startSink } from '../smtp-sink.js';
import {
  berlin,
  berlinWeekdays,
  boot,
  byRecipient,
  type Clock,
  campaignOf,
  createCampaign,
  expectLedgerUnique,
  expectNoDoubles,
  header,
  importPeople,
  type Json,
  minute,
  peopleOf,
  type Running,
  type Sink,
  stepOf,
  stepsWhen,
  testClock,
} from './kit.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** When each message reached the sink, by the app's clock. */
type Sent = { m: Received; at: number };

/**
 * The scheduler: moves the clock `every` ms at a time up to `until`, running the engine's pass at
 * each tick; each message the sink receives is noted with the clock time of the pass that sent it.
 */
async function runUntil(
  t: Running,
  clock: Clock,
  sink: Sink,
  log: Sent[],
  until: number,
  every = 15 * minute,
) {
  const note = () => {
    for (const m of sink.received.slice(log.length)) log.push({ m, at: clock.now() });
  };
  await t.app.services.sending.runDue();
  note();
  while (clock.now() + every <= until) {
    clock.advance(every);
    await t.app.services.sending.runDue();
    note();
  }
}

describe('a 3-step sequence over a Mon–Fri window in Berlin', () => {
  it('goes out on each due business day at the same local time across a weekend and the DST change, threaded per person', async () => {
    const dirs = tempDir();
    cleanups.push(dirs.cleanup);
    const sink = await startSink();
    cleanups.push(sink.close);
    // Thursday 26 March 2026, 10:00 in Berlin (CET, UTC+1). Clocks go forward on Sunday the 29th.
    const start = Date.UTC(2026, 2, 26, 9, 0);
    const clock = testClock(start);
    const t = await boot({ db: join(dirs.dir, 'dst.db'), sink, clock }, cleanups);
    const people = ['ana', 'ben', 'cem', 'dora', 'emil', 'fritz'].map((p) => `${p}@x.com`);
    await importPeople(t, people);
    const c = await createCampaign(t, {
      name: 'Spring outreach',
      timezone: 'Europe/Berlin',
      window: berlinWeekdays,
      sendAt: 'now',
      steps: [
        { subject: 'Quick question, {{first_name|there}}', body: 'Hi {{first_name|there}}, step-1 note.' },
        { body: 'step-2: bumping this up, {{first_name|there}}.', delayDays: 2 },
        { subject: 'One last idea', body: 'step-3: the last one from me.', delayDays: 3 },
      ],
    });
    expect((c.steps as Json[]).map((s) => s.delayDays)).toEqual([0, 2, 3]);

    const log: Sent[] = [];
    // Until Friday 3 April, 18:00 in Berlin.
    await runUntil(t, clock, sink, log, Date.UTC(2026, 3, 3, 16, 0));

    // Every person got each step once, and nothing else was sent.
    expect(sink.received).toHaveLength(3 * people.length);
    expectNoDoubles(sink.received);
    expectLedgerUnique(t, c.id);
    for (const step of [1, 2, 3]) expect([...byRecipient(sink.received, step).keys()].sort()).toEqual(people);

    // When: step 1 at once (Thu 26 Mar 10:00 CET); step 2 two business days later skipping the
    // weekend, on Mon 30 Mar at 10:00 CEST (08:00 UTC: the offset changed on Sunday); step 3 three
    // business days after that, on Thu 2 Apr at 10:00 CEST.
    const at = (step: number) => [...new Set(log.filter((s) => stepOf(s.m) === step).map((s) => s.at))];
    expect(at(1)).toEqual([start]);
    expect(at(2).map((ms) => new Date(ms).toISOString())).toEqual(['2026-03-30T08:00:00.000Z']);
    expect(at(3).map((ms) => new Date(ms).toISOString())).toEqual(['2026-04-02T08:00:00.000Z']);
    for (const s of log) {
      const local = berlin(s.at);
      expect(local.weekday, `${local.date} is a weekday`).toBeGreaterThanOrEqual(1);
      expect(local.weekday, `${local.date} is a weekday`).toBeLessThanOrEqual(5);
      expect(local.hhmm).toBe('10:00'); // the same local time of day, inside 09:00–17:00
    }

    // Threading: step 2 answers that person's step 1, step 3 carries the whole thread; each from
    // the same sender, each with the unsubscribe parts.
    const one = byRecipient(sink.received, 1);
    const two = byRecipient(sink.received, 2);
    const three = byRecipient(sink.received, 3);
    for (const p of people) {
      const [m1, m2, m3] = [one.get(p)!, two.get(p)!, three.get(p)!];
      const first = p.split('@')[0]!;
      expect(header(m1, 'subject')).toBe(`Quick question, ${first}`);
      expect(header(m1, 'in-reply-to')).toBe('');
      const id1 = header(m1, 'message-id');
      const id2 = header(m2, 'message-id');
      expect(id1).toMatch(/^<.+@.+>$/);
      expect(id2).not.toBe(id1);
      expect(header(m2, 'subject')).toBe(`Re: Quick question, ${first}`);
      expect(header(m2, 'in-reply-to')).toBe(id1);
      expect(header(m2, 'references')).toBe(id1);
      expect(m2.body).toContain(`bumping this up, ${first}`);
      expect(header(m3, 'subject')).toBe('One last idea');
      expect(header(m3, 'in-reply-to')).toBe(id2);
      expect(header(m3, 'references')).toBe(`${id1} ${id2}`);
      for (const m of [m1, m2, m3]) {
        expect(header(m, 'from')).toContain('sales@coldbatch.test');
        expect(m.from).toMatch(/^bounces\+.+@coldbatch\.test$/); // VERP on every step
        expect(header(m, 'list-unsubscribe')).toMatch(/<https:\/\/coldbatch\.test\/u\/[^>]+>/);
        expect(header(m, 'list-unsubscribe-post')).toBe('List-Unsubscribe=One-Click');
        expect(m.body).toContain('Rua Exemplo 1');
      }
    }

    // The people list: everyone finished at step 3; the campaign is complete.
    const everyone = await peopleOf(t, c.id);
    expect(everyone.map((p) => [p.email, p.state, p.step, p.nextDueAt ?? null]).sort()).toEqual(
      people.map((p) => [p, 'finished', 3, null]),
    );
    expect((await campaignOf(t, c.id)).status).toBe('completed');
  });

  it('across the autumn DST change: a Friday 16:30 CEST step 1 is followed on Monday at 16:30 CET, shown as each person’s next due time, nothing on the weekend', async () => {
    const dirs = tempDir();
    cleanups.push(dirs.cleanup);
    const sink = await startSink();
    cleanups.push(sink.close);
    // Friday 23 October 2026, 16:30 in Berlin (CEST, UTC+2); clocks go back on Sunday the 25th.
    const start = Date.UTC(2026, 9, 23, 14, 30);
    const clock = testClock(start);
    const t = await boot({ db: join(dirs.dir, 'autumn.db'), sink, clock }, cleanups);
    await importPeople(t, ['ida@x.com', 'jon@x.com']);
    const c = await createCampaign(t, {
      name: 'Autumn',
      timezone: 'Europe/Berlin',
      window: berlinWeekdays,
      sendAt: 'now',
      steps: [
        { subject: 'Hello', body: 'step-1' },
        { body: 'step-2', delayDays: 1 },
      ],
    });
    await t.app.services.sending.runDue();
    expect(sink.received).toHaveLength(2);
    // One business day after Friday 16:30 CEST: Monday 26 October 16:30 CET (15:30 UTC).
    const waiting = await peopleOf(t, c.id, 'waiting');
    expect(waiting.map((p) => [p.step, p.nextDueAt])).toEqual([
      [1, '2026-10-26T15:30:00.000Z'],
      [1, '2026-10-26T15:30:00.000Z'],
    ]);
    // Saturday and Sunday pass with passes every hour: nothing goes.
    const log: Sent[] = sink.received.map((m) => ({ m, at: start }));
    await runUntil(t, clock, sink, log, Date.UTC(2026, 9, 26, 15, 29), 60 * minute);
    expect(sink.received).toHaveLength(2);
    clock.set(Date.UTC(2026, 9, 26, 15, 30));
    await t.app.services.sending.runDue();
    expect(
      sink.received
        .filter((m) => stepOf(m) === 2)
        .map((m) => m.to)
        .sort(),
    ).toEqual(['ida@x.com', 'jon@x.com']);
    expect((await campaignOf(t, c.id)).status).toBe('completed');
  });
});

describe('a sequence over two sending identities (SMTP_URLS)', () => {
  it('each follow-up goes out through the relay that sent that person step 1', async () => {
    const dirs = tempDir();
    cleanups.push(dirs.cleanup);
    const relayA = await startSink();
    cleanups.push(relayA.close);
    const relayB = await startSink();
    cleanups.push(relayB.close);
    const start = Date.UTC(2026, 2, 10, 9, 0);
    const clock = testClock(start);
    const t = await boot(
      {
        db: join(dirs.dir, 'identities.db'),
        sink: relayA,
        clock,
        env: { SMTP_URL: '', SMTP_URLS: `${relayA.url},${relayB.url}`, SMTP_MAX_CONNECTIONS: '1' },
      },
      cleanups,
    );
    const people = Array.from({ length: 8 }, (_, i) => `id${i}@x.com`);
    await importPeople(t, people);
    const c = await createCampaign(t, {
      name: 'Two relays',
      timezone: 'Europe/Berlin',
      window: berlinWeekdays,
      sendAt: 'now',
      steps: [
        { subject: 'Hi', body: 'step-1' },
        { body: 'step-2', delayDays: 2 },
        { body: 'step-3', delayDays: 3 },
      ],
    });
    const relayOf = (step: number) =>
      new Map([
        ...[...byRecipient(relayA.received, step).keys()].map((p) => [p, 'A'] as const),
        ...[...byRecipient(relayB.received, step).keys()].map((p) => [p, 'B'] as const),
      ]);
    await t.app.services.sending.runDue();
    const first = relayOf(1);
    expect(first.size).toBe(8);
    expect(new Set(first.values()).size, 'both relays sent step 1').toBe(2);
    clock.set(start + 2 * 86_400_000);
    await t.app.services.sending.runDue();
    clock.set(start + 7 * 86_400_000);
    await t.app.services.sending.runDue();
    expect(relayOf(2)).toEqual(first);
    expect(relayOf(3)).toEqual(first);
    expectNoDoubles([...relayA.received, ...relayB.received]);
    expect((await campaignOf(t, c.id)).status).toBe('completed');
  });
});

describe('A/B variants on step 1', () => {
  it('split evenly (±1), the same way when the same database runs again; GET /campaigns/{id} counts per step and variant', async () => {
    const dirs = tempDir();
    cleanups.push(dirs.cleanup);
    const sink = await startSink();
    cleanups.push(sink.close);
    const start = Date.UTC(2026, 2, 10, 9, 0); // Tuesday 10 March 2026, 10:00 in Berlin
    const clock = testClock(start);
    const path = join(dirs.dir, 'ab.db');
    const t = await boot({ db: path, sink, clock }, cleanups);
    const people = Array.from({ length: 15 }, (_, i) => `lead${String(i).padStart(2, '0')}@x.com`);
    await importPeople(t, people);
    const c = await createCampaign(t, {
      name: 'AB',
      timezone: 'Europe/Berlin',
      window: berlinWeekdays,
      sendAt: 'now',
      steps: [
        {
          subject: 'Hello',
          body: 'step-1 body',
          variants: [{ subject: 'Variant A' }, { subject: 'Variant B', body: 'step-1 body B' }],
        },
        { body: 'step-2 follow-up', delayDays: 2 },
      ],
    });
    // The same database, copied before anything is sent: the second, identical run.
    const copy = join(dirs.dir, 'ab-copy.db');
    t.app.db.$client.exec(`VACUUM INTO '${copy}'`);

    await t.app.services.sending.runDue();
    expect(sink.received).toHaveLength(15);
    const got = new Map(sink.received.map((m) => [m.to, header(m, 'subject')]));
    const a = [...got.values()].filter((s) => s === 'Variant A').length;
    const b = [...got.values()].filter((s) => s === 'Variant B').length;
    expect(a + b).toBe(15);
    expect(Math.abs(a - b)).toBeLessThanOrEqual(1);
    for (const m of sink.received)
      expect(m.body.includes('step-1 body B')).toBe(header(m, 'subject') === 'Variant B');

    // The second run: another app on the copy, another relay; the same person gets the same variant.
    const sink2 = await startSink();
    cleanups.push(sink2.close);
    const clock2 = testClock(start);
    const t2 = await boot({ db: copy, sink: sink2, clock: clock2 }, cleanups);
    await t2.app.services.sending.runDue();
    expect(sink2.received).toHaveLength(15);
    expect(new Map(sink2.received.map((m) => [m.to, header(m, 'subject')]))).toEqual(got);
    await t2.stop();

    // Step 2 two business days later (Thursday), in the thread of the variant each person got.
    clock.set(start + 2 * 86_400_000);
    await t.app.services.sending.runDue();
    const two = byRecipient(sink.received, 2);
    expect(two.size).toBe(15);
    for (const [to, m] of two) expect(header(m, 'subject')).toBe(`Re: ${got.get(to)}`);

    // The figures per step and variant (GET /campaigns/{id}).
    const steps = await stepsWhen(t, c.id, (s) => s[1]?.counts.sent === 15);
    expect(steps.map((s) => s.index)).toEqual([1, 2]);
    expect(steps[0]!.counts).toMatchObject({ sent: 15 });
    expect(steps[0]!.variants?.map((v) => [v.index, v.counts.sent])).toEqual([
      [1, a],
      [2, b],
    ]);
    expect(steps[1]!.counts).toMatchObject({ sent: 15 });
    expect(steps[1]!.variants).toBeUndefined();
    expect((await campaignOf(t, c.id)).status).toBe('completed');
    expectLedgerUnique(t, c.id);
  });
});
