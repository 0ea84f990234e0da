import type { SendStatusCount } from '../../core/campaigns/campaign-store.js';
import type { Sqlite } from '../client.js';

/**
 * What the mailbox marked on the ledger rows `s` of a group (InboxMarkCounts), read in the same
 * pass as the status counts: count(column) counts the rows where it is set (cheaper per row than
 * sum(column IS NOT NULL)). `interested` looks the contact up by primary key only for a replied
 * row (CASE evaluates lazily), so its cost follows the replies, not the ledger.
 */
export const inboxMarkCounts = `count(s.replied_at) AS replied, count(s.complained_at) AS complained,
  count(s.soft_bounced_at) AS softBounced,
  count(CASE WHEN s.replied_at IS NOT NULL
    THEN (SELECT 1 FROM contacts ci WHERE ci.id = s.contact_id AND ci.interest = 'interested') END) AS interested`;

/** The rows the mailbox marked: the same terms as the partial index sends_mailbox_marked, so SQLite uses it. */
const marked = `(s.replied_at IS NOT NULL OR s.complained_at IS NOT NULL OR s.soft_bounced_at IS NOT NULL)`;

type StatusRow = { status: string; n: number; unsub: number };
type MarkRow = Omit<SendStatusCount, 'n' | 'unsub'>;

/**
 * The send counts by status of one campaign: the one query behind the campaign's figures, the
 * campaign.completed webhook and the batch report's App Home figures (statements prepared once).
 */
export class SendCounts {
  private readonly withUnsub;
  private readonly marks;
  private readonly indexOnly;
  constructor(sqlite: Sqlite) {
    // One pass over the campaign's rows (sends_campaign_status, then the row for unsubscribes).
    this.withUnsub = sqlite.prepare<[string], StatusRow>(
      `SELECT s.status AS status, count(*) AS n, count(s.unsubscribed_at) AS unsub
       FROM sends s WHERE s.campaign_id = ? GROUP BY s.status`,
    );
    // The mailbox's marks apart, over the few marked rows only (sends_mailbox_marked): reading
    // three more columns of every row cost the count above ~25 % at 1M rows.
    this.marks = sqlite.prepare<[string], MarkRow>(
      `SELECT s.status AS status, ${inboxMarkCounts}
       FROM sends s WHERE s.campaign_id = ? AND ${marked} GROUP BY s.status`,
    );
    // From the sends_campaign_status index alone (no table rows read): no unsubscribes.
    this.indexOnly = sqlite.prepare<[string], { status: string; n: number }>(
      'SELECT status, count(*) AS n FROM sends WHERE campaign_id = ? GROUP BY status',
    );
  }

  /** Ledger rows by status, with how many unsubscribed and what the mailbox marked. */
  byStatus(campaignId: string): SendStatusCount[] {
    const marks = new Map(this.marks.all(campaignId).map((m) => [m.status, m]));
    return this.withUnsub.all(campaignId).map((r) => {
      const m = marks.get(r.status);
      return {
        ...r,
        replied: m?.replied ?? 0,
        complained: m?.complained ?? 0,
        softBounced: m?.softBounced ?? 0,
        interested: m?.interested ?? 0,
      };
    });
  }

  /** Ledger rows by status from the index alone (cheap on a large campaign; no unsubscribes). */
  byStatusIndexOnly(campaignId: string): { status: string; n: number }[] {
    return this.indexOnly.all(campaignId);
  }
}
