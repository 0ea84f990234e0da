import type { CampaignLedger, StatusCount } from './report-store.js';

/** The batch report's send figures: ledger rows folded by status into counts and rates. */

/**
 * Rates are fractions (0.0123 = 1.23 %), rounded to 4 decimals; null when nothing was attempted.
 * - `attempted` = sent + bounced + failed + unknown (every ledger row whose SMTP call happened or
 *   may have happened; `pending` rows — claimed or waiting for a retry — are not yet attempts).
 * - delivery = sent / attempted, bounce = bounced / attempted, failure = failed / attempted.
 * - unsubscribe = unsubscribed / sent (people who opted out through this campaign's link, among those
 *   who got it).
 * - reply = replied / sent (messages a person answered, read from the mailbox); interested =
 *   interested / replied (repliers someone marked interested).
 */
export type Rates = {
  delivery: number | null;
  bounce: number | null;
  failure: number | null;
  unsubscribe: number | null;
  reply: number | null;
  interested: number | null;
};

export type SendFigures = {
  /** Ledger rows for this batch's contacts (one per person per campaign and step). */
  reached: number;
  attempted: number;
  sent: number;
  bounced: number;
  failed: number;
  unknown: number;
  /** Claimed or waiting for a retry. */
  pending: number;
  unsubscribed: number;
  /** Messages a person replied to (the mailbox), complained about (spam reports), that soft-bounced. */
  replied: number;
  complained: number;
  softBounced: number;
  /** Replied messages whose contact was marked interested. */
  interested: number;
  rates: Rates;
};

/**
 * One A/B variant of a sequence's step, for the batch's contacts: a step's ledger holds one row per
 * person, so its `sent` and `replied` are the people behind its reply and interested rates.
 */
export type VariantReach = SendFigures & { step: number; variant: number };

const rate = (part: number, whole: number) =>
  whole > 0 ? Math.round((part / whole) * 10_000) / 10_000 : null;

/** Figures of no rows. */
export function emptyFigures(): SendFigures {
  return {
    reached: 0,
    attempted: 0,
    sent: 0,
    bounced: 0,
    failed: 0,
    unknown: 0,
    pending: 0,
    unsubscribed: 0,
    replied: 0,
    complained: 0,
    softBounced: 0,
    interested: 0,
    rates: { delivery: null, bounce: null, failure: null, unsubscribe: null, reply: null, interested: null },
  };
}

/** Adds ledger rows of one status, with their unsubscribes and marks. */
export function add(f: SendFigures, r: StatusCount): void {
  f.replied += r.replied;
  f.complained += r.complained;
  f.softBounced += r.softBounced;
  f.interested += r.interested;
  addStatus(f, r.status, r.n, r.unsub);
}

/** Adds ledger rows of one status (no marks). */
export function addStatus(f: SendFigures, status: string, n: number, unsub: number): void {
  f.reached += n;
  f.unsubscribed += unsub;
  if (status === 'sent') f.sent += n;
  else if (status === 'bounced') f.bounced += n;
  else if (status === 'failed') f.failed += n;
  else if (status === 'unknown') f.unknown += n;
  else f.pending += n;
}

/** Sets `attempted` and the rates from the counts. */
export function withRates<T extends SendFigures>(f: T): T {
  f.attempted = f.sent + f.bounced + f.failed + f.unknown;
  f.rates = {
    delivery: rate(f.sent, f.attempted),
    bounce: rate(f.bounced, f.attempted),
    failure: rate(f.failed, f.attempted),
    unsubscribe: rate(f.unsubscribed, f.sent),
    reply: rate(f.replied, f.sent),
    interested: rate(f.interested, f.replied),
  };
  return f;
}

/** The figures of each variant of a sequence's steps (rows without a variant are left out), by step then variant. */
export function variantFigures(rows: NonNullable<CampaignLedger['byStep']>): VariantReach[] {
  const by = new Map<string, VariantReach>();
  for (const r of rows) {
    if (r.variant === null) continue;
    const key = `${r.step}:${r.variant}`;
    const f = by.get(key) ?? { ...emptyFigures(), step: r.step, variant: r.variant };
    add(f, r);
    by.set(key, f);
  }
  return [...by.values()].sort((a, b) => a.step - b.step || a.variant - b.variant).map(withRates);
}
