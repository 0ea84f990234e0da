import type { StepStatusCount } from '../../core/audience/audience-store.js';
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

/**
 * Rows of a later step or with a variant: the same terms as the partial index sends_step_variant,
 * so SQLite counts them from it (a one-step campaign without variants has no entry there).
 */
const stepRows = `(s.step > 1 OR s.variant IS NOT NULL)`;

type StatusRow = { status: string; n: number; unsub: number; accepted: number };
type MarkRow = Omit<SendStatusCount, 'n' | 'unsub'>;
type Step = { step: number; variant: number | null };

/** A group's counts with the mailbox's marks of the same group (none marked: zeros). */
const withMarks = <R extends StatusRow>(r: R, m: MarkRow | undefined) => ({
  ...r,
  replied: m?.replied ?? 0,
  complained: m?.complained ?? 0,
  softBounced: m?.softBounced ?? 0,
  interested: m?.interested ?? 0,
});

/**
 * The send counts by status of one campaign: the one query behind the campaign's figures, the
 * campaign.completed webhook and the batch report's App Home figures (statements prepared once).
 */
export class SendCounts {
  private readonly withUnsub;
  private readonly marks;
  private readonly indexOnly;
  private readonly steps;
  private readonly stepMarks;
  constructor(sqlite: Sqlite) {
    // One pass over the campaign's rows (sends_campaign_status, then the row for unsubscribes).
    this.withUnsub = sqlite.prepare<[string], StatusRow>(
      `SELECT s.status AS status, count(*) AS n, count(s.unsubscribed_at) AS unsub,
              count(s.message_id) AS accepted
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
    // Per step and variant, the same two passes over sends_step_variant's rows only.
    this.steps = sqlite.prepare<[string], StatusRow & Step>(
      `SELECT s.step AS step, s.variant AS variant, s.status AS status, count(*) AS n,
              count(s.unsubscribed_at) AS unsub, count(s.message_id) AS accepted
       FROM sends s WHERE s.campaign_id = ? AND ${stepRows} GROUP BY s.step, s.variant, s.status`,
    );
    this.stepMarks = sqlite.prepare<[string], MarkRow & Step>(
      `SELECT s.step AS step, s.variant AS variant, s.status AS status, ${inboxMarkCounts}
       FROM sends s WHERE s.campaign_id = ? AND ${stepRows} AND ${marked}
       GROUP BY s.step, s.variant, s.status`,
    );
  }

  /** Ledger rows by status, with how many unsubscribed and what the mailbox marked. */
  byStatus(campaignId: string): SendStatusCount[] {
    const marks = new Map(this.marks.all(campaignId).map((m) => [m.status, m]));
    return this.withUnsub.all(campaignId).map((r) => withMarks(r, marks.get(r.status)));
  }

  /**
   * The rows of a later step or with a variant by step, variant and status, with unsubscribes and
   * the mailbox's marks (step 1 without variants: byStatus minus these).
   */
  byStep(campaignId: string): StepStatusCount[] {
    const key = (r: Step & { status: string }) => `${r.step}:${r.variant ?? ''}:${r.status}`;
    const marks = new Map(this.stepMarks.all(campaignId).map((m) => [key(m), m]));
    return this.steps.all(campaignId).map((r) => withMarks(r, marks.get(key(r))));
  }

  /** Ledger rows by status from the index alone (cheap on a large campaign; no unsubscribes). */
  byStatusIndexOnly(campaignId: string): { status: string; n: number }[] {
    return this.indexOnly.all(campaignId);
  }
}
