/** Token bucket per campaign for ratePerMinute (pacing only: nothing that matters lives here). */
export class RateBuckets {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  /** How many of `want` messages the campaign may start now. */
  take(c: { id: string; ratePerMinute: number | null }, want: number, now: number): number {
    const rate = c.ratePerMinute;
    if (!rate) return want;
    const capacity = Math.max(1, Math.floor(rate / 12));
    const b = this.buckets.get(c.id) ?? { tokens: capacity, at: now };
    b.tokens = Math.min(capacity, b.tokens + ((now - b.at) * rate) / 60_000);
    b.at = now;
    const take = Math.min(want, Math.floor(b.tokens));
    b.tokens -= take;
    this.buckets.set(c.id, b);
    return take;
  }
}
