import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  instantAt,
  isInWindow,
  nextWindowStart,
  type SendWindow,
} from '../../../src/core/campaigns/schedule.js';
import { nextDueAt } from '../../../src/core/campaigns/sequence.js';

const at = (iso: string) => Date.parse(iso);
const iso = (ms: number) => new Date(ms).toISOString();
const weekdays = [1, 2, 3, 4, 5];
const berlin: SendWindow = { days: weekdays, start: '09:00', end: '17:00', timezone: 'Europe/Berlin' };
const saoPaulo: SendWindow = { days: weekdays, start: '09:00', end: '18:00', timezone: 'America/Sao_Paulo' };

/** The local wall clock of an instant, read with a formatter of the test's own (not the code under test). */
function local(timezone: string, ms: number) {
  const f = new Intl.DateTimeFormat('en-US', {
    timeZone: timezone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  });
  const p = Object.fromEntries(f.formatToParts(ms).map((x) => [x.type, x.value]));
  return { date: `${p.year}-${p.month}-${p.day}`, time: `${p.hour}:${p.minute}:${p.second}` };
}

describe('nextDueAt: named cases', () => {
  it('a Mon–Fri window skips the weekend: business days, same local time', () => {
    const friday10 = at('2026-01-16T09:00:00Z'); // Friday 10:00 in Berlin (CET)
    expect(iso(nextDueAt(friday10, 1, berlin, 'UTC'))).toBe('2026-01-19T09:00:00.000Z'); // Monday 10:00
    expect(iso(nextDueAt(friday10, 3, berlin, 'UTC'))).toBe('2026-01-21T09:00:00.000Z'); // Wednesday
    expect(iso(nextDueAt(friday10, 5, berlin, 'UTC'))).toBe('2026-01-23T09:00:00.000Z'); // next Friday
    const thursday = at('2026-01-15T13:45:30.250Z'); // Thursday 14:45:30.250
    expect(iso(nextDueAt(thursday, 2, berlin, 'UTC'))).toBe('2026-01-19T13:45:30.250Z'); // Monday, to the ms
  });

  it('only the window’s days count: Tuesday and Thursday', () => {
    const tueThu: SendWindow = { ...berlin, days: [2, 4] };
    const tuesday = at('2026-01-13T10:00:00Z');
    expect(iso(nextDueAt(tuesday, 1, tueThu, 'UTC'))).toBe('2026-01-15T10:00:00.000Z');
    expect(iso(nextDueAt(tuesday, 2, tueThu, 'UTC'))).toBe('2026-01-20T10:00:00.000Z');
    // Sent on a day outside the window (a window changed since): counting starts the next day.
    const saturday = at('2026-01-17T10:00:00Z');
    expect(iso(nextDueAt(saturday, 1, tueThu, 'UTC'))).toBe('2026-01-20T10:00:00.000Z');
  });

  it('Europe/Berlin DST: 10:00 local the Friday before a change is due at 10:00 local, both ways', () => {
    // Spring: clocks go 02:00 → 03:00 on Sunday 2026-03-29 (CET +1 → CEST +2).
    expect(iso(nextDueAt(at('2026-03-27T09:00:00Z'), 1, berlin, 'UTC'))).toBe('2026-03-30T08:00:00.000Z');
    // Autumn: 03:00 → 02:00 on Sunday 2026-10-25 (CEST +2 → CET +1).
    expect(iso(nextDueAt(at('2026-10-23T08:00:00Z'), 1, berlin, 'UTC'))).toBe('2026-10-26T09:00:00.000Z');
    for (const ms of [
      nextDueAt(at('2026-03-27T09:00:00Z'), 1, berlin, 'UTC'),
      nextDueAt(at('2026-10-23T08:00:00Z'), 1, berlin, 'UTC'),
    ]) {
      expect(local('Europe/Berlin', ms).time).toBe('10:00:00');
    }
  });

  it('America/Sao_Paulo DST (2018–19, midnight skipped and repeated)', () => {
    // DST began Sunday 2018-11-04 at 00:00 → 01:00 (-03 → -02); it ended 2019-02-17 00:00 → 2019-02-16 23:00.
    expect(iso(nextDueAt(at('2018-11-02T13:00:00Z'), 1, saoPaulo, 'UTC'))).toBe('2018-11-05T12:00:00.000Z');
    expect(iso(nextDueAt(at('2019-02-15T12:00:00Z'), 1, saoPaulo, 'UTC'))).toBe('2019-02-18T13:00:00.000Z');
    // Without a window every day counts, in the campaign's timezone: a time the change skips
    // (00:30 on 2018-11-04 does not exist) moves to the jump, 01:00 -02.
    expect(iso(nextDueAt(at('2018-11-03T03:30:00Z'), 1, null, 'America/Sao_Paulo'))).toBe(
      '2018-11-04T03:00:00.000Z',
    );
    // 23:30 on 2019-02-16 happens twice: the first one.
    expect(iso(nextDueAt(at('2019-02-16T01:30:00Z'), 1, null, 'America/Sao_Paulo'))).toBe(
      '2019-02-17T01:30:00.000Z',
    );
  });

  it('a time after the window’s end moves to the next opening', () => {
    const tuesdayLate = at('2026-01-13T16:20:00Z'); // Tuesday 17:20 in Berlin, after 17:00
    expect(iso(nextDueAt(tuesdayLate, 1, berlin, 'UTC'))).toBe('2026-01-15T08:00:00.000Z'); // Thursday 09:00
    const fridayLate = at('2026-01-16T16:30:00Z'); // Friday 17:30
    expect(iso(nextDueAt(fridayLate, 1, berlin, 'UTC'))).toBe('2026-01-20T08:00:00.000Z'); // Tuesday 09:00
    const early = at('2026-01-13T06:30:00Z'); // Tuesday 07:30, before 09:00
    expect(iso(nextDueAt(early, 1, berlin, 'UTC'))).toBe('2026-01-14T08:00:00.000Z'); // Wednesday 09:00
    // The window's end itself is outside it ([start, end)).
    expect(iso(nextDueAt(at('2026-01-13T16:00:00Z'), 1, berlin, 'UTC'))).toBe('2026-01-15T08:00:00.000Z');
  });

  it('no window: calendar days at the same local time in the campaign’s timezone, across DST', () => {
    // Friday 2026-03-06 10:00 EST; US DST starts Sunday 2026-03-08. Weekends count.
    expect(iso(nextDueAt(at('2026-03-06T15:00:00Z'), 3, null, 'America/New_York'))).toBe(
      '2026-03-09T14:00:00.000Z',
    );
    expect(iso(nextDueAt(at('2026-03-06T15:00:00Z'), 1, null, 'America/New_York'))).toBe(
      '2026-03-07T15:00:00.000Z',
    );
    expect(iso(nextDueAt(at('2026-01-16T09:00:00Z'), 2, null, 'UTC'))).toBe('2026-01-18T09:00:00.000Z');
  });

  it('the window’s timezone wins over the campaign’s', () => {
    const friday = at('2026-01-16T09:00:00Z'); // 10:00 Berlin, 04:00 New York
    expect(iso(nextDueAt(friday, 1, berlin, 'America/New_York'))).toBe('2026-01-19T09:00:00.000Z');
  });

  it('delayDays 0: at once inside the window, else the next opening', () => {
    expect(iso(nextDueAt(at('2026-01-16T09:00:00Z'), 0, berlin, 'UTC'))).toBe('2026-01-16T09:00:00.000Z');
    expect(iso(nextDueAt(at('2026-01-17T09:00:00Z'), 0, berlin, 'UTC'))).toBe('2026-01-19T08:00:00.000Z');
    expect(nextDueAt(1234, 0, null, 'UTC')).toBe(1234);
  });

  it('a window that never opens is refused, not looped over', () => {
    expect(() => nextDueAt(0, 1, { ...berlin, days: [] }, 'UTC')).toThrow(/never opens/);
  });
});

// Timezones with DST both ways, half- and 45-minute offsets, and none.
const zones = [
  'UTC',
  'Europe/Berlin',
  'America/Sao_Paulo',
  'America/New_York',
  'Australia/Sydney',
  'Asia/Kolkata',
  'Asia/Kathmandu',
  'Pacific/Chatham',
  'Europe/London',
];
const hhmm = (minute: number) =>
  `${String(Math.floor(minute / 60)).padStart(2, '0')}:${String(minute % 60).padStart(2, '0')}`;
// Uniform over 15 years, half the time within two days of a DST change of one of the zones.
const dstChanges = [
  '2026-03-29T01:00:00Z', // Europe/Berlin, Europe/London (spring)
  '2026-10-25T01:00:00Z',
  '2018-11-04T03:00:00Z', // America/Sao_Paulo
  '2019-02-17T02:00:00Z',
  '2026-03-08T07:00:00Z', // America/New_York
  '2026-11-01T06:00:00Z',
  '2026-04-04T16:00:00Z', // Australia/Sydney
  '2026-10-03T16:00:00Z',
  '2026-04-04T14:00:00Z', // Pacific/Chatham
].map(Date.parse);
const sentAtArb = fc.oneof(
  fc.integer({ min: Date.UTC(2016, 0, 1), max: Date.UTC(2030, 11, 31) }),
  fc
    .tuple(fc.constantFrom(...dstChanges), fc.integer({ min: -2 * 86_400_000, max: 2 * 86_400_000 }))
    .map(([change, by]) => change + by),
);
const windowArb = (minStart = 0) =>
  fc
    .record({
      days: fc.uniqueArray(fc.integer({ min: 0, max: 6 }), { minLength: 1, maxLength: 7 }),
      start: fc.integer({ min: minStart, max: 23 * 60 }),
      length: fc.integer({ min: 1, max: 16 * 60 }),
      timezone: fc.constantFrom(...zones),
    })
    .map(
      ({ days, start, length, timezone }): SendWindow => ({
        days,
        start: hhmm(start),
        end: hhmm(Math.min(start + length, 23 * 60 + 59)),
        timezone,
      }),
    )
    .filter((w) => w.end > w.start);

/**
 * The rule written again another way: the sent instant's local date and time from Intl, dates walked
 * as UTC calendar dates, the candidate from instantAt, then the window's next opening.
 */
function oracle(sentAt: number, delayDays: number, window: SendWindow | null, timezone: string): number {
  const tz = window?.timezone ?? timezone;
  const { date, time } = local(tz, sentAt);
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  let i = 0;
  for (let left = delayDays; left > 0; ) {
    i++;
    const weekday = new Date(Date.UTC(y, m - 1, d + i)).getUTCDay();
    if (!window || window.days.includes(weekday)) left--;
  }
  const day = new Date(Date.UTC(y, m - 1, d + i)).toISOString().slice(0, 10);
  const minute = instantAt(tz, day, time.slice(0, 5));
  // A minute DST skips is the jump itself; otherwise the seconds and milliseconds follow
  const skipped = local(tz, minute).time.slice(0, 5) !== time.slice(0, 5);
  const candidate = skipped ? minute : minute + Number(time.slice(6)) * 1000 + (sentAt % 1000);
  const due = Math.max(sentAt, candidate);
  return window ? nextWindowStart(window, due) : due;
}

describe('isInWindow (read through the per-day offsets)', () => {
  it('agrees with the local clock read by Intl, across DST changes', () => {
    const weekdayOf = (date: string) => new Date(`${date}T12:00:00Z`).getUTCDay();
    fc.assert(
      fc.property(sentAtArb, windowArb(), (t, window) => {
        const { date, time } = local(window.timezone, t);
        const hm = time.slice(0, 5);
        const inside = window.days.includes(weekdayOf(date)) && hm >= window.start && hm < window.end;
        expect(isInWindow(window, t)).toBe(inside);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('nextDueAt: properties', () => {
  it('agrees with the rule written another way', () => {
    fc.assert(
      fc.property(
        sentAtArb,
        fc.integer({ min: 0, max: 15 }),
        fc.option(windowArb(), { nil: null }),
        fc.constantFrom(...zones),
        (sentAt, delay, window, tz) => {
          expect(nextDueAt(sentAt, delay, window, tz)).toBe(oracle(sentAt, delay, window, tz));
        },
      ),
      { numRuns: 500 },
    );
  });

  it('is inside the window, after the send, and never earlier for a longer delay', () => {
    fc.assert(
      fc.property(sentAtArb, fc.integer({ min: 0, max: 10 }), windowArb(), (sentAt, delay, window) => {
        const due = nextDueAt(sentAt, delay, window, 'UTC');
        expect(isInWindow(window, due)).toBe(true);
        expect(due).toBeGreaterThanOrEqual(sentAt);
        if (delay > 0) expect(due).toBeGreaterThan(sentAt);
        const longer = nextDueAt(sentAt, delay + 1, window, 'UTC');
        // delayDays 0 from outside the window is the next opening, which may be the next window day's
        if (delay > 0) expect(longer).toBeGreaterThan(due);
        else expect(longer).toBeGreaterThanOrEqual(due);
      }),
      { numRuns: 300 },
    );
  });

  it('a step sent inside a daytime window is due at the same local time on the delayDays-th window day', () => {
    fc.assert(
      fc.property(sentAtArb, fc.integer({ min: 1, max: 10 }), windowArb(6 * 60), (rawSent, delay, window) => {
        const sentAt = nextWindowStart(window, rawSent); // a send happens inside the window
        const due = nextDueAt(sentAt, delay, window, 'UTC');
        const [s, d] = [local(window.timezone, sentAt), local(window.timezone, due)];
        expect(d.time).toBe(s.time);
        let windowDays = 0;
        for (
          let t = Date.parse(`${s.date}T12:00:00Z`) + 86_400_000;
          t <= Date.parse(`${d.date}T12:00:00Z`);
          t += 86_400_000
        ) {
          if (window.days.includes(new Date(t).getUTCDay())) windowDays++;
        }
        expect(windowDays).toBe(delay);
      }),
      { numRuns: 300 },
    );
  });

  it('without a window: delayDays calendar days later at the same local time (unless DST skips that time)', () => {
    fc.assert(
      fc.property(
        sentAtArb,
        fc.integer({ min: 1, max: 30 }),
        fc.constantFrom(...zones),
        (sentAt, delay, tz) => {
          const due = nextDueAt(sentAt, delay, null, tz);
          const [s, d] = [local(tz, sentAt), local(tz, due)];
          const expected = new Date(Date.parse(`${s.date}T00:00:00Z`) + delay * 86_400_000)
            .toISOString()
            .slice(0, 10);
          expect(d.date).toBe(expected);
          // Only a time that the day's DST change skips differs: it is then the jump (due - 1 s reads earlier).
          if (d.time !== s.time) {
            expect(local(tz, due - 1000).time < s.time).toBe(true);
            expect(d.time > s.time).toBe(true);
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});
