import { describe, expect, it } from 'vitest';
import {
  estimateFinish,
  type FinishInput,
  isInWindow,
  isTimezone,
  nextCronRun,
  nextWindowStart,
  type SendWindow,
  sendWindowSchema,
  startOfDayIn,
  validateCron,
} from '../../../src/core/campaigns/schedule.js';
import { refusal } from '../../helpers.js';

const at = (iso: string) => Date.parse(iso);
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
const weekdays = [1, 2, 3, 4, 5];
const berlin: SendWindow = { days: weekdays, start: '09:00', end: '17:00', timezone: 'Europe/Berlin' };
const newYork: SendWindow = { ...berlin, timezone: 'America/New_York' };
const utc: SendWindow = { ...berlin, timezone: 'UTC' };

describe('sendWindowSchema', () => {
  const issues = (v: unknown) => {
    const r = sendWindowSchema.safeParse(v);
    return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  };

  it('accepts a window, including UTC and 23:59', () => {
    expect(sendWindowSchema.parse(berlin)).toEqual(berlin);
    expect(issues({ days: [0, 6], start: '00:00', end: '23:59', timezone: 'UTC' })).toEqual([]);
  });

  it('says what is wrong with each field', () => {
    expect(issues({ ...berlin, days: [] })).toEqual([
      'days: pick at least one day: 0 = Sunday … 6 = Saturday',
    ]);
    expect(issues({ ...berlin, days: [1, 1] })).toEqual(['days: each day may appear only once']);
    expect(issues({ ...berlin, days: [7] })).toEqual(['days.0: days go from 0 (Sunday) to 6 (Saturday)']);
    expect(issues({ ...berlin, start: '9:00' })).toEqual([
      'start: write the time as HH:MM, from 00:00 to 23:59',
    ]);
    expect(issues({ ...berlin, end: '24:00' })).toEqual([
      'end: write the time as HH:MM, from 00:00 to 23:59',
    ]);
    expect(issues({ ...berlin, end: '09:00' })).toEqual([
      'end: the window must end after it starts on the same day (e.g. start 09:00, end 17:00)',
    ]);
    expect(issues({ ...berlin, timezone: 'Mars/Base' })).toEqual([
      'timezone: unknown timezone: use an IANA name like Europe/Berlin, or UTC',
    ]);
  });
});

describe('isTimezone', () => {
  it('knows IANA names and UTC, not made-up ones', () => {
    expect(['UTC', 'Europe/Berlin', 'America/Sao_Paulo'].map(isTimezone)).toEqual([true, true, true]);
    expect(['', 'Mars/Base', '+03:00'].map(isTimezone)).toEqual([false, false, false]);
  });
});

describe('isInWindow', () => {
  const lateTokyo: SendWindow = { days: [1], start: '18:00', end: '23:59', timezone: 'Asia/Tokyo' };
  const sundayLA: SendWindow = { days: [0], start: '18:00', end: '22:00', timezone: 'America/Los_Angeles' };
  const windows = { none: null, berlin, newYork, lateTokyo, sundayLA };
  it.each<[keyof typeof windows, string, boolean, string]>([
    ['none', '2025-01-11T03:00:00Z', true, 'no window: always'],
    ['berlin', '2025-01-06T07:59:59Z', false, 'Mon 08:59:59 CET'],
    ['berlin', '2025-01-06T08:00:00Z', true, 'Mon 09:00 CET'],
    ['berlin', '2025-01-06T15:59:59Z', true, 'Mon 16:59:59 CET'],
    ['berlin', '2025-01-06T16:00:00Z', false, 'Mon 17:00 CET: the end is exclusive'],
    ['berlin', '2025-01-11T10:00:00Z', false, 'Saturday'],
    ['berlin', '2025-01-12T10:00:00Z', false, 'Sunday'],
    ['berlin', '2025-07-07T07:00:00Z', true, 'Mon 09:00 CEST'],
    ['berlin', '2025-07-07T15:00:00Z', false, 'Mon 17:00 CEST'],
    ['newYork', '2025-03-07T13:30:00Z', false, 'Fri 08:30 EST, before the DST weekend'],
    ['newYork', '2025-03-07T21:30:00Z', true, 'Fri 16:30 EST'],
    ['newYork', '2025-03-10T13:30:00Z', true, 'Mon 09:30 EDT, after it'],
    ['newYork', '2025-03-10T21:30:00Z', false, 'Mon 17:30 EDT'],
    ['lateTokyo', '2025-01-06T14:58:59Z', true, 'Mon 23:58:59 JST'],
    ['lateTokyo', '2025-01-06T14:59:00Z', false, 'Mon 23:59 JST: a window ending at 23:59'],
    ['lateTokyo', '2025-01-06T15:30:00Z', false, 'Tue 00:30 JST, still Monday in UTC'],
    ['sundayLA', '2025-01-13T04:00:00Z', true, 'Sun 20:00 PST, Monday in UTC'],
  ])('%s at %s → %s (%s)', (name, time, open) => {
    expect(isInWindow(windows[name], at(time))).toBe(open);
  });
});

describe('nextWindowStart', () => {
  it('is the instant itself inside the window', () => {
    expect(nextWindowStart(berlin, at('2025-01-06T10:11:12.345Z'))).toBe(at('2025-01-06T10:11:12.345Z'));
  });

  it('waits for the start of the day, or skips to Monday after Friday or on a weekend', () => {
    expect(iso(nextWindowStart(berlin, at('2025-01-06T06:00:00Z')))).toBe('2025-01-06T08:00:00.000Z');
    expect(iso(nextWindowStart(berlin, at('2025-01-10T16:00:00Z')))).toBe('2025-01-13T08:00:00.000Z');
    expect(iso(nextWindowStart(berlin, at('2025-01-11T12:00:00Z')))).toBe('2025-01-13T08:00:00.000Z');
  });

  it('lands on the new offset after a DST change', () => {
    expect(iso(nextWindowStart(newYork, at('2025-03-07T22:00:00Z')))).toBe('2025-03-10T13:00:00.000Z');
    const daily: SendWindow = { ...berlin, days: [0, 1, 2, 3, 4, 5, 6] };
    expect(iso(nextWindowStart(daily, at('2025-10-25T15:00:00Z')))).toBe('2025-10-26T08:00:00.000Z');
  });

  it('after a window ending at 23:59 moves to the next day', () => {
    const late: SendWindow = { days: [0, 1, 2, 3, 4, 5, 6], start: '23:00', end: '23:59', timezone: 'UTC' };
    expect(iso(nextWindowStart(late, at('2025-01-06T23:59:30Z')))).toBe('2025-01-07T23:00:00.000Z');
  });

  it('opens at the jump when DST skips the start time', () => {
    const night: SendWindow = { days: [0], start: '02:30', end: '04:00', timezone: 'Europe/Berlin' };
    const open = nextWindowStart(night, at('2025-03-29T12:00:00Z'));
    expect(iso(open)).toBe('2025-03-30T01:00:00.000Z'); // 03:00 CEST: 02:00-03:00 does not exist that night
    expect(isInWindow(night, open)).toBe(true);
    expect(isInWindow(night, open - 1)).toBe(false);
    expect(iso(nextWindowStart(night, at('2025-03-30T02:00:00Z')))).toBe('2025-04-06T00:30:00.000Z');
  });

  it('opens at the first of two 02:30s when DST repeats the hour', () => {
    const night: SendWindow = { days: [0], start: '02:30', end: '04:00', timezone: 'Europe/Berlin' };
    expect(iso(nextWindowStart(night, at('2025-10-25T12:00:00Z')))).toBe('2025-10-26T00:30:00.000Z'); // CEST
  });
});

describe('startOfDayIn', () => {
  it.each([
    ['UTC', '2025-03-30T12:34:00Z', '2025-03-30T00:00:00.000Z', 'UTC'],
    ['Europe/Berlin', '2025-01-01T23:30:00Z', '2025-01-01T23:00:00.000Z', 'just after local midnight'],
    ['America/Sao_Paulo', '2025-01-06T12:00:00Z', '2025-01-06T03:00:00.000Z', 'no DST any more'],
    ['Europe/Berlin', '2025-03-30T12:00:00Z', '2025-03-29T23:00:00.000Z', 'a 23-hour day starts in CET'],
    ['Europe/Berlin', '2025-03-31T12:00:00Z', '2025-03-30T22:00:00.000Z', 'the next in CEST'],
    ['Europe/Berlin', '2025-10-26T12:00:00Z', '2025-10-25T22:00:00.000Z', 'a 25-hour day starts in CEST'],
    ['Europe/Berlin', '2025-10-27T12:00:00Z', '2025-10-26T23:00:00.000Z', 'the next in CET'],
    ['America/Sao_Paulo', '2018-11-04T12:00:00Z', '2018-11-04T03:00:00.000Z', 'midnight skipped: 01:00 -02'],
  ])('%s %s → %s (%s)', (timezone, time, midnight) => {
    expect(iso(startOfDayIn(timezone, at(time)))).toBe(midnight);
  });
});

describe('validateCron', () => {
  it('accepts standard 5-field expressions', () => {
    for (const expr of ['0 9 * * 1-5', '*/15 8-17 * * MON-FRI', ' 0 9 * * THU ', '0 9 L * *']) {
      expect(() => validateCron(expr, 'Europe/Berlin')).not.toThrow();
    }
  });

  it('refuses other shapes, saying what to write', () => {
    const six = refusal(() => validateCron('0 0 9 * * 1-5', 'UTC'));
    expect(six.code).toBe('invalid_input');
    expect(six.message).toBe(
      'The cron "0 0 9 * * 1-5" has 6 field(s). Use 5 fields, minute hour day-of-month month day-of-week, ' +
        'e.g. "0 9 * * 1-5" for 09:00 on weekdays. Seconds and shortcuts like @daily are not accepted.',
    );
    expect(refusal(() => validateCron('@daily', 'UTC')).message).toContain('has 1 field(s)');
    expect(refusal(() => validateCron('H 9 * * *', 'UTC')).message).toContain('uses H (a random time)');
    const range = refusal(() => validateCron('0 25 * * *', 'UTC'));
    expect(range.message).toMatch(/^The cron "0 25 \* \* \*" is not valid \(.*0-23.*\)\. Use 5 fields/);
    expect(refusal(() => validateCron('0 0 30 2 *', 'UTC')).message).toContain('is not valid');
    expect(refusal(() => validateCron('0 9 * * *', 'Mars/Base')).message).toBe(
      'Unknown timezone "Mars/Base": use an IANA name like Europe/Berlin, or UTC.',
    );
  });
});

describe('nextCronRun', () => {
  it('is the next occurrence in the timezone, across a DST weekend', () => {
    expect(iso(nextCronRun('0 9 * * 1-5', 'America/New_York', at('2025-03-07T15:00:00Z')))).toBe(
      '2025-03-10T13:00:00.000Z',
    );
    expect(iso(nextCronRun('0 9 * * *', 'Europe/Berlin', at('2025-10-25T07:00:00Z')))).toBe(
      '2025-10-26T08:00:00.000Z',
    );
    expect(iso(nextCronRun('0 9 * * 1-5', 'UTC', at('2025-03-07T15:00:00Z')))).toBe(
      '2025-03-10T09:00:00.000Z',
    );
  });

  it('is strictly after the given instant', () => {
    const ny = (t: string) => iso(nextCronRun('0 9 * * 1-5', 'America/New_York', at(t)));
    expect(ny('2025-03-10T12:59:59.999Z')).toBe('2025-03-10T13:00:00.000Z');
    expect(ny('2025-03-10T13:00:00.000Z')).toBe('2025-03-11T13:00:00.000Z');
    expect(ny('2025-03-10T13:00:00.500Z')).toBe('2025-03-11T13:00:00.000Z');
  });
});

describe('estimateFinish', () => {
  const plain: FinishInput = {
    count: 1200,
    startMs: at('2025-01-06T09:00:00Z'), // a Monday
    ratePerMinute: null,
    dailyLimit: null,
    window: null,
    cron: null,
  };
  const eta = (over: Partial<FinishInput>) => iso(estimateFinish({ ...plain, ...over }));

  it('without limits is count / rate (600 a minute by default)', () => {
    expect(eta({})).toBe('2025-01-06T09:02:00.000Z');
    expect(eta({ ratePerMinute: 60 })).toBe('2025-01-06T09:20:00.000Z');
    expect(eta({ count: 0 })).toBe('2025-01-06T09:00:00.000Z');
  });

  it('sends only inside the window, spilling into the next open day', () => {
    expect(eta({ count: 600, ratePerMinute: 1, window: utc })).toBe('2025-01-07T11:00:00.000Z');
    const friday = at('2025-01-10T16:00:00Z');
    expect(eta({ count: 300, ratePerMinute: 1, window: utc, startMs: friday })).toBe(
      '2025-01-13T13:00:00.000Z',
    );
    const dstFriday = at('2025-03-28T15:00:00Z'); // 16:00 CET; Monday is CEST
    expect(eta({ count: 120, ratePerMinute: 1, window: berlin, startMs: dstFriday })).toBe(
      '2025-03-31T08:00:00.000Z',
    );
  });

  it('with a daily limit and no cron, sends at most the limit per local day', () => {
    const lateMonday = at('2025-01-06T22:30:00Z'); // 23:30 in Berlin
    const base = { count: 250, dailyLimit: 100, startMs: lateMonday };
    expect(eta({ ...base, timezone: 'Europe/Berlin' })).toBe('2025-01-07T23:00:05.000Z');
    expect(eta(base)).toBe('2025-01-08T00:00:05.000Z'); // UTC days
  });

  it('with cron, each run sends up to the limit; weekday runs skip the weekend', () => {
    const base = { count: 250, dailyLimit: 100, ratePerMinute: 10 };
    const cron = (timezone: string) => ({ expr: '0 9 * * 1-5', timezone });
    expect(eta({ ...base, cron: cron('Europe/Berlin'), startMs: at('2025-03-07T08:00:00Z') })).toBe(
      '2025-03-11T08:05:00.000Z',
    );
    // New York changes to EDT that weekend: Monday's and Tuesday's runs are an hour earlier in UTC.
    expect(eta({ ...base, cron: cron('America/New_York'), startMs: at('2025-03-07T14:00:00Z') })).toBe(
      '2025-03-11T13:05:00.000Z',
    );
  });

  it('with cron and no limit, the first run sends everything', () => {
    expect(eta({ cron: { expr: '0 9 * * 1-5', timezone: 'UTC' } })).toBe('2025-01-06T09:02:00.000Z');
  });

  it('with cron and a window, a run waits for the window and continues the next day', () => {
    const window: SendWindow = { days: [0, 1, 2, 3, 4, 5, 6], start: '09:00', end: '10:00', timezone: 'UTC' };
    const over = {
      count: 150,
      dailyLimit: 100,
      ratePerMinute: 1,
      window,
      startMs: at('2025-01-06T08:00:00Z'),
    };
    // Run 1: 60 on Monday, 40 on Tuesday (till 09:40); run 2 on Wednesday 08:00 sends 50 from 09:00.
    expect(eta({ ...over, cron: { expr: '0 8 * * *', timezone: 'UTC' } })).toBe('2025-01-08T09:50:00.000Z');
  });

  it('is null when it can never finish', () => {
    expect(eta({ dailyLimit: 0 })).toBeNull();
    expect(eta({ ratePerMinute: 0 })).toBeNull();
    expect(eta({ window: { ...utc, days: [] } })).toBeNull();
    expect(eta({ count: 1_000_000, dailyLimit: 100 })).toBeNull(); // 10,000 days: past ten years
    expect(
      eta({ count: 1_000_000, dailyLimit: 100, cron: { expr: '0 9 * * *', timezone: 'UTC' } }),
    ).toBeNull();
  });

  it('handles a million contacts day by day', () => {
    const million = { count: 1_000_000 };
    expect(eta({ ...million, window: utc })).toBe('2025-01-09T12:46:40.000Z'); // 288,000 a day
    const drip = {
      ...million,
      dailyLimit: 5000,
      ratePerMinute: 100,
      cron: { expr: '0 9 * * 1-5', timezone: 'UTC' },
    };
    expect(eta(drip)).toBe('2025-10-10T09:50:00.000Z'); // the 200th weekday run, 50 minutes long
    // 4,000 a weekday (the window would allow 4,800): 250 weekdays, the last one 6 h 40 min long.
    expect(eta({ ...million, dailyLimit: 4000, ratePerMinute: 10, window: berlin })).toBe(
      '2025-12-19T14:40:00.000Z',
    );
  });

  it('extrapolates after many short cron runs, staying close to the exact answer', () => {
    const every5 = { expr: '*/5 * * * *', timezone: 'Europe/Berlin' };
    const got = estimateFinish({
      ...plain,
      count: 1_000_000,
      dailyLimit: 50,
      ratePerMinute: 100,
      cron: every5,
    });
    const exact = plain.startMs + (19_999 * 5 + 0.5) * 60_000; // 20,000 runs of 30 s, 5 minutes apart
    expect(got).not.toBeNull();
    expect(Math.abs((got ?? 0) - exact) / (exact - plain.startMs)).toBeLessThan(0.01);
  });
});
