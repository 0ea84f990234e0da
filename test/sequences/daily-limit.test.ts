/**
 * Follow-ups before new people under `dailyLimit` (issue 16, PRODUCT.md §8): a 2-step sequence of
 * 10 people with a limit of 4 a day, sent by the engine's passes every hour of each business day
 * while the clock moves on. Each day's sends are the follow-ups due that day first, new people
 * only in the room left; one person stopped over REST makes room for one new person. A sequence
 * paused and resumed after its follow-ups came due sends that backlog at its rate, not at once.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers.js';
import { startSink } from '../smtp-sink.js';
import {
  api,
  berlinWeekdays,
  boot,
  campaignOf,
  createCampaign,
  expectLedgerUnique,
  expectNoDoubles,
  hour,
  importPeople,
  peopleOf,
  stepOf,
  testClock,
} from './kit.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('dailyLimit with a sequence', () => {
  it('each day sends the due follow-ups first and new people only in the room left', async () => {
    const dirs = tempDir();
    cleanups.push(dirs.cleanup);
    const sink = await startSink();
    cleanups.push(sink.close);
    const monday = Date.UTC(2026, 2, 9, 9, 0); // Monday 9 March 2026, 10:00 in Berlin
    const clock = testClock(monday);
    const t = await boot({ db: join(dirs.dir, 'limit.db'), sink, clock }, cleanups);
    const people = Array.from({ length: 10 }, (_, i) => `p${i}@x.com`);
    await importPeople(t, people);
    const c = await createCampaign(t, {
      name: 'Limited',
      timezone: 'Europe/Berlin',
      window: berlinWeekdays,
      dailyLimit: 4,
      sendAt: 'now',
      steps: [
        { subject: 'Hello', body: 'step-1' },
        { body: 'step-2', delayDays: 1 },
      ],
    });

    /** One business day: passes every hour from 10:00 to 16:00 local; what it sent, as "person step". */
    const runDay = async (dayStart: number) => {
      const before = sink.received.length;
      for (let h = 0; h <= 6; h++) {
        clock.set(dayStart + h * hour);
        await t.app.services.sending.runDue();
      }
      const sent = sink.received.slice(before);
      return {
        followUps: sent
          .filter((m) => stepOf(m) === 2)
          .map((m) => m.to)
          .sort(),
        fresh: sent
          .filter((m) => stepOf(m) === 1)
          .map((m) => m.to)
          .sort(),
      };
    };
    const d = (n: number) => monday + n * 86_400_000;

    // Monday: the first four.
    expect(await runDay(d(0))).toEqual({
      followUps: [],
      fresh: ['p0@x.com', 'p1@x.com', 'p2@x.com', 'p3@x.com'],
    });
    // p0's sequence is stopped by hand (REST): three follow-ups are due on Tuesday.
    const p0 = (await peopleOf(t, c.id)).find((p) => p.email === 'p0@x.com')!;
    const stopped = await api<{ person: { state: string; stopReason: string } }>(
      t,
      `/campaigns/${c.id}/people/${p0.contactId}/stop`,
      { method: 'POST' },
    );
    expect(stopped.person).toMatchObject({ state: 'stopped', stopReason: 'stopped' });

    // Tuesday: 3 due follow-ups + 6 new people > 4: the follow-ups all go, one new person.
    const tue = await runDay(d(1));
    expect(tue.followUps).toEqual(['p1@x.com', 'p2@x.com', 'p3@x.com']);
    expect(tue.fresh).toHaveLength(1);
    // Wednesday: Tuesday's new person's follow-up, then three new.
    const wed = await runDay(d(2));
    expect(wed.followUps).toEqual(tue.fresh);
    expect(wed.fresh).toHaveLength(3);
    // Thursday: those three follow-ups, one new.
    const thu = await runDay(d(3));
    expect(thu.followUps).toEqual(wed.fresh);
    expect(thu.fresh).toHaveLength(1);
    // Friday: one follow-up, the last new person.
    const fri = await runDay(d(4));
    expect(fri.followUps).toEqual(thu.fresh);
    expect(fri.fresh).toHaveLength(1);
    // The weekend: nothing. Monday: the last follow-up.
    expect(await runDay(d(5))).toEqual({ followUps: [], fresh: [] });
    expect(await runDay(d(6))).toEqual({ followUps: [], fresh: [] });
    expect(await runDay(d(7))).toEqual({ followUps: fri.fresh, fresh: [] });

    // Everyone got step 1 once, everyone but p0 step 2 once; never more than 4 on a day.
    expect(
      sink.received
        .filter((m) => stepOf(m) === 1)
        .map((m) => m.to)
        .sort(),
    ).toEqual(people.sort());
    expect(
      sink.received
        .filter((m) => stepOf(m) === 2)
        .map((m) => m.to)
        .sort(),
    ).toEqual(people.filter((p) => p !== 'p0@x.com').sort());
    expectNoDoubles(sink.received);
    expectLedgerUnique(t, c.id);
    expect((await campaignOf(t, c.id)).status).toBe('completed');
  });
});

describe('a paused sequence resumed days later', () => {
  it("sends the overdue follow-ups at the campaign's rate, not in one burst", async () => {
    const dirs = tempDir();
    cleanups.push(dirs.cleanup);
    const sink = await startSink();
    cleanups.push(sink.close);
    const monday = Date.UTC(2026, 2, 9, 9, 0);
    const clock = testClock(monday);
    const t = await boot({ db: join(dirs.dir, 'paced.db'), sink, clock }, cleanups);
    const people = Array.from({ length: 10 }, (_, i) => `r${i}@x.com`);
    await importPeople(t, people);
    const c = await createCampaign(t, {
      name: 'Paced',
      timezone: 'Europe/Berlin',
      window: berlinWeekdays,
      ratePerMinute: 12,
      sendAt: 'now',
      steps: [
        { subject: 'Hello', body: 'step-1' },
        { body: 'step-2', delayDays: 1 },
      ],
    });
    /** The scheduler's passes every 5 s for `ms`; how many step-2 messages went after each. */
    const passes = async (ms: number) => {
      const out: number[] = [];
      for (let waited = 0; waited <= ms; waited += 5000) {
        await t.app.services.sending.runDue();
        out.push(sink.received.filter((m) => stepOf(m) === 2).length);
        clock.advance(5000);
      }
      return out;
    };
    // Step 1 at 12 a minute: about a minute for ten.
    for (let i = 0; i < 60 && sink.received.length < 10; i++) await passes(0);
    expect(sink.received).toHaveLength(10);
    await api(t, `/campaigns/${c.id}/pause`, { method: 'POST' });

    // Thursday, two days after step 2 came due for everyone: resumed.
    clock.set(Date.UTC(2026, 2, 12, 9, 0));
    await t.app.services.sending.runDue();
    expect(sink.received.filter((m) => stepOf(m) === 2)).toHaveLength(0); // paused: nothing
    await api(t, `/campaigns/${c.id}/resume`, { method: 'POST' });
    const counts = await passes(60_000);
    // At 12 a minute (one every 5 s, a burst of at most one): never the backlog at once.
    counts.forEach((n, i) => {
      expect(n, `after ${i * 5} s`).toBeLessThanOrEqual(1 + i);
    });
    expect(counts.at(-1)).toBe(10);
    expectNoDoubles(sink.received);
    expect((await campaignOf(t, c.id)).status).toBe('completed');
  });
});
