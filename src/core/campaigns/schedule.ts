import { CronExpressionParser } from 'cron-parser';
import { z } from 'zod';
import { DomainError } from '../../errors.js';

/** When a campaign may send: local weekdays (0 = Sunday … 6 = Saturday) and [start, end) hours in an IANA timezone. */
export type SendWindow = { days: number[]; start: string; end: string; timezone: string };

const minuteMs = 60_000;
const dayMs = 86_400_000;

/** True for a timezone name this runtime knows (IANA names and UTC). */
export function isTimezone(timezone: string): boolean {
  if (timezone.trim() === '') return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: timezone });
    return true;
  } catch {
    return false;
  }
}

const hhmmPattern = /^([01]\d|2[0-3]):[0-5]\d$/;
const hhmm = z.string().regex(hhmmPattern, 'write the time as HH:MM, from 00:00 to 23:59');

/** Validates a send window: some unique days 0–6, HH:MM times with end after start, a real timezone. */
export const sendWindowSchema = z
  .object({
    days: z
      .array(z.number().int().min(0).max(6, 'days go from 0 (Sunday) to 6 (Saturday)'))
      .min(1, 'pick at least one day: 0 = Sunday … 6 = Saturday')
      .refine((d) => new Set(d).size === d.length, 'each day may appear only once'),
    start: hhmm,
    end: hhmm,
    timezone: z.string().refine(isTimezone, 'unknown timezone: use an IANA name like Europe/Berlin, or UTC'),
  })
  .refine((w) => !hhmmPattern.test(w.start) || !hhmmPattern.test(w.end) || w.end > w.start, {
    error: 'the window must end after it starts on the same day (e.g. start 09:00, end 17:00)',
    path: ['end'],
  });

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(timezone: string): Intl.DateTimeFormat {
  let f = formatters.get(timezone);
  if (!f) {
    const opts = {
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    } as const;
    f = new Intl.DateTimeFormat('en-US', { ...opts, timeZone: timezone, hourCycle: 'h23' });
    formatters.set(timezone, f);
  }
  return f;
}

/** Local wall clock of an instant: `wall` read as if it were UTC, `day` counted from 1970-01-01, `minute` of the day. */
function localOf(timezone: string, atMs: number): { wall: number; day: number; minute: number } {
  const p: Record<string, number> = {};
  for (const part of formatter(timezone).formatToParts(atMs)) p[part.type] = Number(part.value);
  const [hour, minute] = [p.hour ?? 0, p.minute ?? 0];
  const wall = Date.UTC(p.year ?? 1970, (p.month ?? 1) - 1, p.day ?? 1, hour, minute, p.second ?? 0);
  return { wall, day: Math.floor(wall / dayMs), minute: hour * 60 + minute };
}

const offsetAt = (timezone: string, atMs: number) =>
  localOf(timezone, atMs).wall - Math.floor(atMs / 1000) * 1000;

const dayOffsets = new Map<string, number | null>();
/** The UTC offset a timezone keeps through a whole local day, or null when it changes around it (kept: formatting is slow). */
function dayOffset(timezone: string, day: number): number | null {
  const key = `${timezone} ${day}`;
  let offset = dayOffsets.get(key);
  if (offset === undefined) {
    const [before, after] = [offsetAt(timezone, (day - 1) * dayMs), offsetAt(timezone, (day + 2) * dayMs)];
    offset = before === after ? before : null;
    if (dayOffsets.size >= 10_000) dayOffsets.clear();
    dayOffsets.set(key, offset);
  }
  return offset;
}

/** localOf through the per-day offsets: no formatting on a day without a DST change (the common case). */
function clockOf(timezone: string, atMs: number): { wall: number; day: number; minute: number } {
  const utcDay = Math.floor(atMs / dayMs);
  for (const day of [utcDay, utcDay - 1, utcDay + 1]) {
    const offset = dayOffset(timezone, day);
    if (offset === null) continue;
    const wall = Math.floor(atMs / 1000) * 1000 + offset;
    if (Math.floor(wall / dayMs) === day)
      return { wall, day, minute: Math.floor((wall - day * dayMs) / minuteMs) };
  }
  return localOf(timezone, atMs);
}

/** The first instant a local day's clock reads `minute`: the earlier one when DST repeats it, the jump when it skips it. */
function instantOf(timezone: string, day: number, minute: number): number {
  const wall = day * dayMs + minute * minuteMs;
  const before = offsetAt(timezone, wall - dayMs);
  const after = offsetAt(timezone, wall + dayMs);
  if (before === after) return wall - before;
  const fits = [wall - before, wall - after].filter((t) => localOf(timezone, t).wall === wall);
  if (fits.length > 0) return Math.min(...fits);
  let [lo, hi] = [wall - after, wall - before]; // in a gap: lo reads earlier than `minute`, hi later
  while (hi - lo > 1000) {
    const mid = lo + Math.floor((hi - lo) / 2000) * 1000;
    if (localOf(timezone, mid).wall >= wall) hi = mid;
    else lo = mid;
  }
  return hi;
}

const weekday = (day: number) => (((day + 4) % 7) + 7) % 7; // 1970-01-01 was a Thursday
const minutesOf = (time: string) => Number(time.slice(0, 2)) * 60 + Number(time.slice(3, 5));

/** Whether an instant falls inside the window, by the window's local clock (always, when there is no window). */
export function isInWindow(window: SendWindow | null, atMs: number): boolean {
  if (!window) return true;
  const local = clockOf(window.timezone, atMs);
  return (
    window.days.includes(weekday(local.day)) &&
    local.minute >= minutesOf(window.start) &&
    local.minute < minutesOf(window.end)
  );
}

/** The window's open stretches [from, to) in time order, the first one clipped to start at `fromMs`. */
function* openStretches(window: SendWindow | null, fromMs: number): Generator<[number, number]> {
  if (!window) {
    yield [fromMs, Number.POSITIVE_INFINITY];
    return;
  }
  const [start, end, tz] = [minutesOf(window.start), minutesOf(window.end), window.timezone];
  if (!(start < end) || !window.days.some((d) => d >= 0 && d <= 6)) return; // never open
  for (let day = localOf(tz, fromMs).day; ; day++) {
    if (!window.days.includes(weekday(day))) continue;
    const [s, e] = [instantOf(tz, day, start), instantOf(tz, day, end)];
    if (e > fromMs && e > s) yield [Math.max(s, fromMs), e];
  }
}

/** The first instant at or after afterMs inside the window (afterMs itself when it is inside). */
export function nextWindowStart(window: SendWindow, afterMs: number): number {
  if (isInWindow(window, afterMs)) return afterMs;
  for (const [start] of openStretches(window, afterMs)) return start;
  throw new DomainError(
    'invalid_input',
    'The send window never opens: pick at least one day and an end after the start.',
  );
}

/** An instant's local calendar day (counted from 1970-01-01), its weekday (0 = Sunday) and the time of day (ms past midnight). */
export function localDayOf(timezone: string, atMs: number): { day: number; weekday: number; timeMs: number } {
  const { wall, day } = clockOf(timezone, atMs);
  return { day, weekday: weekday(day), timeMs: wall - day * dayMs + (((atMs % 1000) + 1000) % 1000) };
}

/** The first instant a local day's clock reads `timeMs` past midnight (the jump when DST skips that time). */
export function instantOnDay(timezone: string, day: number, timeMs: number): number {
  const offset = dayOffset(timezone, day);
  if (offset !== null) return day * dayMs + timeMs - offset;
  const minute = Math.floor(timeMs / minuteMs);
  const at = instantOf(timezone, day, minute);
  return localOf(timezone, at).minute === minute ? at + (timeMs - minute * minuteMs) : at;
}

/** Midnight that starts the local day of an instant (the day's first instant when DST skips midnight). */
export function startOfDayIn(timezone: string, atMs: number): number {
  return instantOf(timezone, localOf(timezone, atMs).day, 0);
}

const cronHelp =
  'Use 5 fields, minute hour day-of-month month day-of-week, e.g. "0 9 * * 1-5" for 09:00 on weekdays.';

/** Throws invalid_input unless the expression is a standard 5-field cron and the timezone is known. */
export function validateCron(expr: string, timezone: string): void {
  if (!isTimezone(timezone)) {
    throw new DomainError(
      'invalid_input',
      `Unknown timezone "${timezone}": use an IANA name like Europe/Berlin, or UTC.`,
      { timezone },
    );
  }
  const fields = expr.trim().split(/\s+/).filter(Boolean);
  if (fields.length !== 5) {
    throw new DomainError(
      'invalid_input',
      `The cron "${expr}" has ${fields.length} field(s). ${cronHelp} Seconds and shortcuts like @daily are not accepted.`,
      { cron: expr },
    );
  }
  if (fields.some((f) => /(^|[^a-z])h([^a-z]|$)/i.test(f))) {
    throw new DomainError(
      'invalid_input',
      `The cron "${expr}" uses H (a random time), which would move between runs. Write the minute and hour, e.g. "17 9 * * 1-5".`,
      { cron: expr },
    );
  }
  try {
    CronExpressionParser.parse(fields.join(' '), { tz: timezone }).next();
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw new DomainError('invalid_input', `The cron "${expr}" is not valid (${why}). ${cronHelp}`, {
      cron: expr,
    });
  }
}

/** The cron's next occurrence strictly after afterMs, in the given timezone. */
export function nextCronRun(expr: string, timezone: string, afterMs: number): number {
  return CronExpressionParser.parse(expr, { tz: timezone, currentDate: new Date(afterMs) })
    .next()
    .getTime();
}

export type FinishInput = {
  count: number;
  /** When sending starts: now for a campaign sending, its next run for one scheduled (with cron, the first run). */
  startMs: number;
  /** null: 600 a minute, a fast SMTP server. */
  ratePerMinute: number | null;
  /** Per cron run with cron, per local day without. */
  dailyLimit: number | null;
  window: SendWindow | null;
  cron: { expr: string; timezone: string } | null;
  /** Whose local days the daily limit counts without cron (the campaign's); default the window's, else UTC. */
  timezone?: string;
};

const horizonMs = 3653 * dayMs; // ten years
const maxCronRuns = 1000; // past this, extrapolate from the throughput so far

/** Sends up to `want` at `perMs` inside the window between fromMs and untilMs (fluid model): how many, and when it stopped. */
function sendWithin(window: SendWindow | null, fromMs: number, untilMs: number, want: number, perMs: number) {
  let sent = 0;
  for (const [s, e] of openStretches(window, fromMs)) {
    if (s >= untilMs) break;
    const room = Math.floor((Math.min(e, untilMs) - s) * perMs);
    if (sent + room >= want) return { sent: want, atMs: s + Math.ceil((want - sent) / perMs) };
    sent += room;
  }
  return { sent, atMs: untilMs };
}

/**
 * When the last of `count` messages should go out, at ratePerMinute inside the window, with the daily limit per
 * local day, or per run at the cron's occurrences. Day by day, not message by message; null past ten years.
 */
export function estimateFinish(opts: FinishInput): number | null {
  const { count, startMs, window, cron } = opts;
  if (count <= 0) return startMs;
  const perMs = (opts.ratePerMinute ?? 600) / minuteMs;
  const limit = opts.dailyLimit ?? Number.POSITIVE_INFINITY;
  if (!(perMs > 0) || !(limit >= 1)) return null;
  const endMs = startMs + horizonMs;
  let left = count;
  if (cron) {
    const runs = CronExpressionParser.parse(cron.expr, { tz: cron.timezone, currentDate: new Date(startMs) });
    for (let run = 1, at = startMs; at < endMs; run++) {
      const r = sendWithin(window, at, endMs, Math.min(limit, left), perMs);
      left -= r.sent;
      if (left <= 0) return r.atMs;
      if (r.sent === 0) return null;
      if (run >= maxCronRuns) {
        const eta = r.atMs + Math.ceil((left * (r.atMs - startMs)) / (count - left));
        return eta < endMs ? eta : null;
      }
      runs.reset(new Date(r.atMs));
      at = runs.next().getTime();
    }
    return null;
  }
  if (limit === Number.POSITIVE_INFINITY) {
    const r = sendWithin(window, startMs, endMs, count, perMs);
    return r.sent >= count ? r.atMs : null;
  }
  const tz = opts.timezone ?? window?.timezone ?? 'UTC';
  for (let day = localOf(tz, startMs).day, dayStart = startMs; dayStart < endMs; day++) {
    const next = instantOf(tz, day + 1, 0);
    const r = sendWithin(window, dayStart, next, Math.min(limit, left), perMs);
    left -= r.sent;
    if (left <= 0) return r.atMs;
    dayStart = next;
  }
  return null;
}

/** The instant a local date (YYYY-MM-DD) and time (HH:MM) name in a timezone. */
export function instantAt(timezone: string, date: string, time: string): number {
  const [y = 1970, m = 1, d = 1] = date.split('-').map(Number);
  const [hh = 0, mm = 0] = time.split(':').map(Number);
  return instantOf(timezone, Math.floor(Date.UTC(y, m - 1, d) / dayMs), hh * 60 + mm);
}
