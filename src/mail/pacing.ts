import { MailError, type Mailer, type OutgoingMessage, type SentInfo } from './mailer.js';

/**
 * Human pacing (SEND_GAP, an SMTP_URLS entry's `#gap=`): a random wait, within a range, between
 * the starts of two messages from one mailbox, like a person sending one at a time. In memory
 * only: after a restart each mailbox may start at once.
 */
export type Gap = { minMs: number; maxMs: number };

const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const gapShape = /^(\d+)(ms|s|m|h)?(?:\s*-\s*(\d+)(ms|s|m|h)?)?$/;
const gapExample = 'must be a wait like 90s, or a range like 60s-120s, 60-120s or 1m-3m (or 0: off)';

/** Reads a gap: `0` (off), `90s`, `60s-120s`, `60-120s` (the unit of the end applies to both), up to 1 h. */
export function parseGap(text: string): { ok: true; gap: Gap | null } | { ok: false; problem: string } {
  const m = gapShape.exec(text.trim().toLowerCase());
  if (!m) return { ok: false, problem: gapExample };
  const [, from = '0', fromUnit, to, toUnit] = m;
  if (to === undefined && fromUnit === undefined)
    return from === '0' ? { ok: true, gap: null } : { ok: false, problem: `${gapExample}: give a unit` };
  if (to !== undefined && fromUnit === undefined && toUnit === undefined)
    return { ok: false, problem: `${gapExample}: give a unit` };
  const minMs = Number(from) * (units[fromUnit ?? toUnit ?? 'ms'] ?? 1);
  const maxMs = to === undefined ? minMs : Number(to) * (units[toUnit ?? fromUnit ?? 'ms'] ?? 1);
  if (maxMs < minMs) return { ok: false, problem: `${gapExample}: the range starts above its end` };
  if (maxMs > 3_600_000) return { ok: false, problem: 'must be at most 1h between two messages' };
  return { ok: true, gap: maxMs === 0 ? null : { minMs, maxMs } };
}

/** One wait drawn from the range, uniformly (`random` in [0, 1), like Math.random). */
export function drawGap(gap: Gap, random: () => number): number {
  return Math.min(gap.maxMs, gap.minMs + Math.floor(random() * (gap.maxMs - gap.minMs + 1)));
}

/** The mean wait of a range: what the estimates use. */
export function meanGapMs(gap: Gap | null): number {
  return gap === null ? 0 : (gap.minMs + gap.maxMs) / 2;
}

/** When each mailbox may start its next message (by key); one per mailer. */
export class Pacer {
  private readonly next = new Map<string, number>();
  constructor(private readonly random: () => number = Math.random) {}

  /** Whether the mailbox `key` may start a message at `now`. */
  ready(key: string, now: number): boolean {
    return now >= (this.next.get(key) ?? Number.NEGATIVE_INFINITY);
  }

  /**
   * A message starts from `key` at `now`: the next may start a random gap later. Returns the undo,
   * for a message that never left (the server could not be reached): the mailbox sent nothing.
   */
  start(key: string, gap: Gap | null, now: number): () => void {
    if (gap === null) return () => {};
    const before = this.next.get(key);
    const at = now + drawGap(gap, this.random);
    this.next.set(key, at);
    return () => {
      if (this.next.get(key) !== at) return;
      if (before === undefined) this.next.delete(key);
      else this.next.set(key, before);
    };
  }
}

/**
 * One transport (SMTP_URL, the outbox) with SEND_GAP: `room` is 0 while it waits between two
 * messages (the engine then claims nothing), at most 1 otherwise. A send asked for during the
 * wait is refused as unreachable (nothing left; the row waits without spending an attempt).
 */
export function pacedMailer(
  inner: Mailer,
  opts: { gap: Gap | null; clock: { now(): number }; random?: () => number },
): Mailer {
  if (opts.gap === null) return inner;
  const gap = opts.gap;
  const pacer = new Pacer(opts.random);
  const key = 'transport';
  const paced: Mailer = {
    kind: inner.kind,
    async send(m: OutgoingMessage): Promise<SentInfo> {
      const now = opts.clock.now();
      if (!pacer.ready(key, now))
        throw new MailError(
          'transient',
          undefined,
          'the mailbox is waiting between two messages (SEND_GAP)',
          true,
        );
      const undo = pacer.start(key, gap, now);
      try {
        return await inner.send(m);
      } catch (e) {
        if (e instanceof MailError && e.unreachable) undo();
        throw e;
      }
    },
    room(now: number): number {
      if (!pacer.ready(key, now)) return 0;
      return Math.min(1, inner.room?.(now) ?? 1);
    },
    verify: () => inner.verify(),
    close: () => inner.close(),
  };
  if (inner.identities) paced.identities = (now) => inner.identities?.(now) ?? [];
  return paced;
}

/** One mailbox as the estimates see it: its gap, and the messages it may still send today (null: no cap). */
export type PacedIdentity = { gap: Gap | null; roomToday?: number | null };

/** The shortest time between two starts from one mailbox: its mean gap, or the transport's ratePerMinute. */
function intervalMs(gap: Gap | null, ratePerMinute: number | null | undefined, tickMs: number): number {
  const byRate = ratePerMinute ? 60_000 / ratePerMinute : 0;
  const byGap = gap === null ? 0 : meanGapMs(gap) + tickMs / 2;
  return Math.max(byRate, byGap);
}

/**
 * The messages a minute the mailboxes can start at most, with their mean gaps (each mailbox also
 * bounded by SMTP_RATE_PER_MINUTE, which is per account); null when none has a gap or a rate
 * (nothing in the mail layer bounds the speed). `tickMs` (SCHEDULER_TICK): the engine notices a
 * gap's end at its next tick, half a tick later on average. Feed it to estimateFinish's ratePerMinute
 * (the smaller of this and the campaign's).
 */
export function pacedRatePerMinute(
  identities: PacedIdentity[],
  ratePerMinute?: number | null,
  tickMs = 0,
): number | null {
  let perMs = 0;
  for (const i of identities) {
    const every = intervalMs(i.gap, ratePerMinute, tickMs);
    if (every <= 0) return null;
    perMs += 1 / every;
  }
  return identities.length === 0 ? null : perMs * 60_000;
}

/**
 * The expected time from the first start to the start of the `count`-th message, each mailbox
 * sending every mean gap (round-robin over those free: the mailboxes interleave). Null when no
 * gap or rate bounds it, or when today's room (caps) cannot take `count` (then the daily maths
 * apply: estimateFinish with the caps' sum as a daily limit).
 */
export function estimateSendMs(opts: {
  count: number;
  identities: PacedIdentity[];
  ratePerMinute?: number | null;
  tickMs?: number;
}): number | null {
  const { count, identities } = opts;
  if (count <= 0) return 0;
  const every = identities.map((i) => intervalMs(i.gap, opts.ratePerMinute, opts.tickMs ?? 0));
  if (every.length === 0 || every.some((e) => e <= 0)) return null;
  const room = identities.map((i) => i.roomToday ?? Number.POSITIVE_INFINITY);
  if (room.reduce((a, b) => a + b, 0) < count) return null;
  // Starts by time t: mailbox i starts at 0, e, 2e…, at most its room. The count-th start is the
  // smallest t with count starts; found by bisection (the starts by t only grow with t).
  const startsBy = (t: number) =>
    every.reduce((sum, e, i) => sum + Math.min(room[i] ?? 0, Math.floor(t / e + 1e-9) + 1), 0);
  let lo = 0;
  let hi = Math.max(...every) * count;
  if (startsBy(lo) >= count) return 0;
  while (hi - lo > 1) {
    const mid = (lo + hi) / 2;
    if (startsBy(mid) >= count) hi = mid;
    else lo = mid;
  }
  // the start itself: the first multiple of a mailbox's interval after lo that completes the count
  const at = every.map((e) => Math.floor(lo / e + 1) * e).filter((t) => t <= hi && startsBy(t) >= count);
  return Math.round(Math.min(hi, ...at));
}
