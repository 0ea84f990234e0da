import type { Sqlite } from '../client.js';

/**
 * The send counts by status of one campaign: the one query behind the campaign's figures, the
 * campaign.completed webhook and the batch report's App Home figures (statements prepared once).
 */
export class SendCounts {
  private readonly withUnsub;
  private readonly indexOnly;
  constructor(sqlite: Sqlite) {
    this.withUnsub = sqlite.prepare<[string], { status: string; n: number; unsub: number }>(
      `SELECT status, count(*) AS n, coalesce(sum(unsubscribed_at IS NOT NULL), 0) AS unsub
       FROM sends WHERE campaign_id = ? GROUP BY status`,
    );
    // From the sends_campaign_status index alone (no table rows read): no unsubscribes.
    this.indexOnly = sqlite.prepare<[string], { status: string; n: number }>(
      'SELECT status, count(*) AS n FROM sends WHERE campaign_id = ? GROUP BY status',
    );
  }

  /** Ledger rows by status, with how many unsubscribed. */
  byStatus(campaignId: string): { status: string; n: number; unsub: number }[] {
    return this.withUnsub.all(campaignId);
  }

  /** Ledger rows by status from the index alone (cheap on a large campaign; no unsubscribes). */
  byStatusIndexOnly(campaignId: string): { status: string; n: number }[] {
    return this.indexOnly.all(campaignId);
  }
}
