import type { CampaignCounts } from '../campaigns/campaign.js';

/** A campaign's ledger figures (the CampaignCounts shape): every row by what became of it, and how many unsubscribed. */
export type SendTally = CampaignCounts;

/** Folds ledger rows by status (SendStore/CampaignStore `sendCounts`) into figures. */
export function tallySends(rows: readonly { status: string; n: number; unsub?: number }[]): SendTally {
  const t: SendTally = { total: 0, pending: 0, sent: 0, failed: 0, bounced: 0, unsubscribed: 0, unknown: 0 };
  for (const r of rows) {
    t.total += r.n;
    t.unsubscribed += r.unsub ?? 0;
    if (r.status === 'sent') t.sent += r.n;
    else if (r.status === 'failed') t.failed += r.n;
    else if (r.status === 'bounced') t.bounced += r.n;
    else if (r.status === 'unknown') t.unknown += r.n;
    else t.pending += r.n;
  }
  return t;
}
