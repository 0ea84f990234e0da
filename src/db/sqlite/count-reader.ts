import type { ActiveBatch, FigureRows, SequenceRows } from '../../core/audience/audience-store.js';
import type { SendStatusCount } from '../../core/campaigns/campaign-store.js';
import type { Sqlite } from '../client.js';
import { audienceFrom, notSendableWhens } from './audience-sql.js';
import { SendCounts } from './send-counts.js';

/** The counts of FigureRows, without the time (the caller stamps it). */
export type CountedFigures = Omit<FigureRows, 'countedAt'>;

/**
 * The heavy counts of the audience rule (hundreds of ms at a million contacts and 50k
 * suppressions), statements prepared once: read on the main connection by the stores when they
 * count inline (tests, the command line), and by count-worker.ts on a read-only connection of its
 * own when the app counts off the main thread.
 */
export class CountReader {
  private readonly s;
  private readonly sendCounts: SendCounts;
  constructor(private readonly sqlite: Sqlite) {
    this.sendCounts = new SendCounts(sqlite);
    this.s = {
      count: sqlite.prepare<[], { n: number }>(`SELECT count(*) AS n ${audienceFrom}`),
      active: sqlite.prepare<[], ActiveBatch>(
        `SELECT id, name, activated_at AS activatedAt FROM batches WHERE status = 'active'`,
      ),
      // One pass over the active batch's contacts (contacts_batch), grouped by the first reason that applies.
      reasons: sqlite.prepare<{ campaign: string | null; batch: string }, { reason: string; n: number }>(
        `SELECT CASE ${notSendableWhens}
           WHEN @campaign IS NOT NULL
             AND EXISTS (SELECT 1 FROM sends x WHERE x.campaign_id = @campaign AND x.contact_id = c.id)
             THEN 'already_reached'
           ELSE 'sendable' END AS reason, count(*) AS n
         FROM contacts c JOIN batches b ON b.id = c.batch_id
         WHERE c.batch_id = @batch AND b.status = 'active'
         GROUP BY reason`,
      ),
      remaining: sqlite.prepare<[string], { n: number }>(
        `SELECT count(*) AS n ${audienceFrom}
           AND NOT EXISTS (SELECT 1 FROM sends x WHERE x.campaign_id = ? AND x.contact_id = c.id)`,
      ),
      // People waiting for a follow-up, and the earliest due: the partial index sequence_people_due alone.
      waiting: sqlite.prepare<[string], { n: number; next: number | null }>(
        `SELECT count(*) AS n, min(next_due_at) AS next FROM sequence_people
          WHERE campaign_id = ? AND next_due_at IS NOT NULL`,
      ),
    };
  }

  /** How many contacts the audience holds now. */
  count(): number {
    return this.s.count.get()?.n ?? 0;
  }

  /** The active batch, or null (cheap: the one-active partial index). */
  activeBatch(): ActiveBatch | null {
    return this.s.active.get() ?? null;
  }

  /** The active batch's contacts by the first reason that leaves them out, or `sendable`. */
  reasons(batchId: string, campaignId: string | null): { reason: string; n: number }[] {
    return this.s.reasons.all({ campaign: campaignId, batch: batchId });
  }

  /** Contacts of the audience the campaign has no ledger row for yet. */
  remaining(campaignId: string): number {
    return this.s.remaining.get(campaignId)?.n ?? 0;
  }

  /** The campaign's ledger rows by status, with how many unsubscribed. */
  sends(campaignId: string): SendStatusCount[] {
    return this.sendCounts.byStatus(campaignId);
  }

  /** A sequence's rows per step and variant, and who waits for a follow-up. */
  sequence(campaignId: string): SequenceRows {
    const w = this.s.waiting.get(campaignId);
    return { steps: this.sendCounts.byStep(campaignId), waiting: w?.n ?? 0, nextDueAt: w?.next ?? null };
  }

  /**
   * A campaign's figures (null: a new campaign, which has no ledger rows) in one read transaction,
   * so the ledger, the audience and (with `sequence`) the steps are counted from the same state of
   * the database. Without `sequence` no step is read: a one-step campaign costs what it did.
   */
  figures(campaignId: string | null, audience: boolean, sequence = false): CountedFigures {
    return this.sqlite.transaction((): CountedFigures => {
      const sends = campaignId === null ? [] : this.sends(campaignId);
      const seq = sequence
        ? {
            sequence:
              campaignId === null ? { steps: [], waiting: 0, nextDueAt: null } : this.sequence(campaignId),
          }
        : {};
      if (!audience) return { sends, audience: null, ...seq };
      const batch = this.activeBatch();
      return {
        sends,
        audience: { batch, reasons: batch ? this.reasons(batch.id, campaignId) : [] },
        ...seq,
      };
    })();
  }
}
