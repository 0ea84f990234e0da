import type { StepStatusCount } from '../../core/audience/audience-store.js';
import type { SendStatusCount } from '../../core/campaigns/campaign-store.js';
import { type PgExec, rows } from './client.js';

/**
 * What the mailbox marked on the ledger rows `s` of a group (InboxMarkCounts): count(column)
 * counts the rows where it is set. `interested` looks the contact up by primary key only for a
 * replied row (CASE evaluates lazily), so its cost follows the replies, not the ledger. The
 * camelCase alias is quoted: unquoted, Postgres would fold it to `softbounced`.
 */
export const inboxMarkCounts = `count(s.replied_at) AS replied, count(s.complained_at) AS complained,
  count(s.soft_bounced_at) AS "softBounced",
  count(CASE WHEN s.replied_at IS NOT NULL
    THEN (SELECT 1 FROM contacts ci WHERE ci.id = s.contact_id AND ci.interest = 'interested') END) AS interested`;

/**
 * Rows of a later step or with a variant: the same terms as the partial index sends_step_variant,
 * so Postgres can count them from it (a one-step campaign without variants has no entry there).
 */
const stepRows = `(s.step > 1 OR s.variant IS NOT NULL)`;

// SQLite returns its GROUP BY groups in key order (bytewise text, NULL first); Postgres may hash
// them, so the order is spelled out to give the same lists.
const counts = `count(*) AS n, count(s.unsubscribed_at) AS unsub, count(s.message_id) AS accepted, ${inboxMarkCounts}`;

/**
 * The send counts by status of one campaign: the one query behind the campaign's figures, the
 * campaign.completed webhook and the batch report's App Home figures. SQLite reads the mailbox's
 * marks in a second pass over a partial index (to keep its single in-process pass cheap); here
 * one statement reads both, so the figures come from one snapshot, exactly, at every call.
 */
export class SendCounts {
  constructor(private readonly exec: PgExec) {}

  /** Ledger rows by status, with how many unsubscribed and what the mailbox marked. */
  byStatus(campaignId: string): Promise<SendStatusCount[]> {
    return rows<SendStatusCount>(
      this.exec,
      `SELECT s.status AS status, ${counts}
       FROM sends s WHERE s.campaign_id = $1 GROUP BY s.status ORDER BY s.status COLLATE "C"`,
      [campaignId],
    );
  }

  /**
   * The rows of a later step or with a variant by step, variant and status, with unsubscribes and
   * the mailbox's marks (step 1 without variants: byStatus minus these).
   */
  byStep(campaignId: string): Promise<StepStatusCount[]> {
    return rows<StepStatusCount>(
      this.exec,
      `SELECT s.step AS step, s.variant AS variant, s.status AS status, ${counts}
       FROM sends s WHERE s.campaign_id = $1 AND ${stepRows}
       GROUP BY s.step, s.variant, s.status
       ORDER BY s.step, s.variant NULLS FIRST, s.status COLLATE "C"`,
      [campaignId],
    );
  }

  /** Ledger rows by status (no unsubscribes): the cheap count of SQLite's index-only pass. */
  byStatusIndexOnly(campaignId: string): Promise<{ status: string; n: number }[]> {
    return rows<{ status: string; n: number }>(
      this.exec,
      `SELECT status, count(*) AS n FROM sends WHERE campaign_id = $1 GROUP BY status ORDER BY status COLLATE "C"`,
      [campaignId],
    );
  }
}
