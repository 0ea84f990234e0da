import { CronExpressionParser } from 'cron-parser';
import { z } from 'zod';
import { DomainError } from '../../errors.js';

export type SendWindow = { days: number[]; start: string; end: string; timezone: string };

/** True for an IANA timezone name this runtime knows. */
export function isTimezone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'use HH:MM, 00:00 to 23:59');
export const sendWindowSchema = z
  .object({
    days: z
      .array(z.number().int().min(0).max(6))
      .min(1, 'pick at least one day (0 = Sunday … 6 = Saturday)')
      .refine((d) => new Set(d).size === d.length, 'days repeat'),
    start: hhmm,
    end: hhmm,
    timezone: z
      .string()
      .refine(isTimezone, 'is not a known timezone (use an IANA name like America/Sao_Paulo)'),
  })
  .refine((w) => w.end > w.start, { message: 'the window must end after it starts', path: ['end'] });

const partsCache = new Map<string, Intl.DateTimeFormat>();
function formatter(tz: string): Intl.DateTimeFormat {
  let f = partsCache.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      hourCycle: 'h23',
      weekday: 'short',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    partsCache.set(tz, f);
  }
  return f;
}

const weekdays = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

/** Local calendar fields of an instant in a timezone. */
function local(tz: string, atMs: number) {
  const p: Record<string, string> = {};
  for (const part of formatter(tz).formatToParts(atMs)) p[part.type] = part.value;
  return {
    day: weekdays.indexOf(p.weekday ?? ''),
    y: Number(p.year),
    m: Number(p.month),
    d: Number(p.day),
    hhmm: `${p.hour}:${p.minute}`,
    seconds: Number(p.hour) * 3600 + Number(p.minute) * 60 + Number(p.second),
  };
}

/** The UTC instant of a local wall-clock time (DST-correct, by two offset corrections). */
function zoned(tz: string, y: number, m: number, d: number, hh: number, mm: number): number {
  let guess = Date.UTC(y, m - 1, d, hh, mm);
  for (let i = 0; i < 2; i++) {
    const l = local(tz, guess);
    const asUtc = Date.UTC(
      l.y,
      l.m - 1,
      l.d,
      Math.floor(l.seconds / 3600),
      Math.floor((l.seconds % 3600) / 60),
    );
    guess += Date.UTC(y, m - 1, d, hh, mm) - asUtc;
  }
  return guess;
}

/** Whether an instant falls inside the window (always, when there is none). */
export function isInWindow(window: SendWindow | null, atMs: number): boolean {
  if (!window) return true;
  const l = local(window.timezone, atMs);
  return window.days.includes(l.day) && l.hhmm >= window.start && l.hhmm < window.end;
}

/** Midnight of the local day of an instant. */
export function startOfDayIn(timezone: string, atMs: number): number {
  const l = local(timezone, atMs);
  return zoned(timezone, l.y, l.m, l.d, 0, 0);
}

/** The first instant at or after afterMs inside the window. */
export function nextWindowStart(window: SendWindow, afterMs: number): number {
  if (isInWindow(window, afterMs)) return afterMs;
  const [sh, sm] = window.start.split(':').map(Number) as [number, number];
  for (let i = 0; i < 8; i++) {
    const l = local(window.timezone, afterMs + i * 86_400_000);
    const start = zoned(window.timezone, l.y, l.m, l.d, sh, sm);
    if (start >= afterMs && window.days.includes(local(window.timezone, start).day)) return start;
  }
  return afterMs;
}

/** Throws invalid_input unless the expression is a standard 5-field cron valid in the timezone. */
export function validateCron(expr: string, timezone: string): void {
  if (!isTimezone(timezone)) {
    throw new DomainError(
      'invalid_input',
      `"${timezone}" is not a known timezone: use an IANA name like America/Sao_Paulo.`,
    );
  }
  if (expr.trim().split(/\s+/).length !== 5) {
    throw new DomainError(
      'invalid_input',
      `The cron "${expr}" must have 5 fields: minute hour day month weekday (e.g. 0 9 * * 1-5).`,
    );
  }
  try {
    CronExpressionParser.parse(expr, { tz: timezone });
  } catch (e) {
    throw new DomainError(
      'invalid_input',
      `The cron "${expr}" is not valid (${String((e as Error).message)}). Example: 0 9 * * 1-5.`,
    );
  }
}

/** The next occurrence strictly after afterMs. */
export function nextCronRun(expr: string, timezone: string, afterMs: number): number {
  return CronExpressionParser.parse(expr, { tz: timezone, currentDate: new Date(afterMs) })
    .next()
    .getTime();
}

const dayMs = 86_400_000;

/**
 * When the last of `count` messages should go out, sending at ratePerMinute (600/min when not
 * set) inside the window, with the daily limit per local day or per cron run. Null if never.
 */
export function estimateFinish(opts: {
  count: number;
  startMs: number;
  ratePerMinute: number | null;
  dailyLimit: number | null;
  window: SendWindow | null;
  cron: { expr: string; timezone: string } | null;
}): number | null {
  const rate = (opts.ratePerMinute ?? 600) / 60_000; // per ms
  if (opts.count <= 0) return opts.startMs;
  if (opts.dailyLimit !== null && opts.dailyLimit <= 0) return null;
  let left = opts.count;
  let t = opts.startMs;
  const end = opts.startMs + 3650 * dayMs;
  const tz = opts.window?.timezone ?? opts.cron?.timezone ?? 'UTC';
  while (t < end) {
    if (opts.cron) t = Math.max(t, nextCronRun(opts.cron.expr, opts.cron.timezone, t - 1));
    // One day (or one cron run) of sending from t.
    const dayEnd = startOfDayIn(tz, t) + dayMs;
    let budget = opts.dailyLimit ?? Number.POSITIVE_INFINITY;
    let cursor = opts.window ? nextWindowStart(opts.window, t) : t;
    if (cursor >= dayEnd && !opts.cron) {
      t = dayEnd;
      continue;
    }
    const [eh, em] = (opts.window?.end ?? '24:00').split(':').map(Number) as [number, number];
    const l = local(tz, cursor);
    const windowEnd = opts.window ? Math.min(zoned(tz, l.y, l.m, l.d, eh, em), dayEnd) : dayEnd;
    const capacity = Math.floor((windowEnd - cursor) * rate);
    const n = Math.min(left, budget, capacity);
    if (n >= left) return cursor + Math.ceil(left / rate);
    left -= n;
    budget -= n;
    cursor = windowEnd;
    t = opts.cron ? cursor + 60_000 : dayEnd;
  }
  return null;
}
