import type { CampaignCounts } from '../campaigns/campaign.js';
import type { InboxMarkCounts } from '../campaigns/campaign-store.js';

/** A campaign's ledger figures (the CampaignCounts shape): every row by what became of it, and how many unsubscribed. */
export type SendTally = CampaignCounts;

/**
 * Folds ledger rows by status (SendStore/CampaignStore `sendCounts`) into figures. `sent` counts
 * the messages the server accepted (PRODUCT.md §8): a row a later DSN bounced (`bounced` with a
 * Message-ID, `accepted`) is in `bounced` and stays in `sent`; a 5xx at send time is not sent.
 */
export function tallySends(
  rows: readonly ({
    status: string;
    n: number;
    unsub?: number;
    accepted?: number;
  } & Partial<InboxMarkCounts>)[],
): SendTally {
  const t: SendTally = {
    total: 0,
    pending: 0,
    sent: 0,
    failed: 0,
    bounced: 0,
    unsubscribed: 0,
    unknown: 0,
    replied: 0,
    complained: 0,
    softBounced: 0,
    interested: 0,
  };
  for (const r of rows) {
    t.total += r.n;
    t.unsubscribed += r.unsub ?? 0;
    t.replied += r.replied ?? 0;
    t.complained += r.complained ?? 0;
    t.softBounced += r.softBounced ?? 0;
    t.interested += r.interested ?? 0;
    if (r.status === 'sent') t.sent += r.n;
    else if (r.status === 'failed') t.failed += r.n;
    else if (r.status === 'bounced') {
      t.bounced += r.n;
      t.sent += r.accepted ?? 0;
    } else if (r.status === 'unknown') t.unknown += r.n;
    else t.pending += r.n;
  }
  return t;
}
