import type pg from 'pg';
import type { ActiveBatch, FigureRows, SequenceRows } from '../../core/audience/audience-store.js';
import type { SendStatusCount } from '../../core/campaigns/campaign-store.js';
import { audienceFrom, notSendableWhens } from './audience-sql.js';
import { inSnapshot, type PgExec, row, rows } from './client.js';
import { SendCounts } from './send-counts.js';

/** The counts of FigureRows, without the time (the caller stamps it). */
export type CountedFigures = Omit<FigureRows, 'countedAt'>;

/**
 * The heavy counts of the audience rule over Postgres, counted inline at every call: a query runs
 * in the server's process and does not block the event loop, so there is no counting thread and no
 * figure cache here (db/sqlite/count-reader.ts has them because SQLite runs in-process).
 */
export class CountReader {
  private readonly sendCounts: SendCounts;
  constructor(private readonly exec: PgExec) {
    this.sendCounts = new SendCounts(exec);
  }

  /** How many contacts the audience holds now. */
  async count(): Promise<number> {
    return (await row<{ n: number }>(this.exec, `SELECT count(*) AS n ${audienceFrom}`))?.n ?? 0;
  }

  /** The active batch, or null (cheap: the one-active partial index). */
  async activeBatch(): Promise<ActiveBatch | null> {
    const active = await row<ActiveBatch>(
      this.exec,
      `SELECT id, name, activated_at AS "activatedAt" FROM batches WHERE status = 'active' LIMIT 1`,
    );
    return active ?? null;
  }

  /**
   * The active batch's contacts by the first reason that leaves them out, or `sendable`: one pass
   * over the batch. Ordered by reason byte by byte, the order SQLite's GROUP BY gives.
   */
  async reasons(batchId: string, campaignId: string | null): Promise<{ reason: string; n: number }[]> {
    return rows<{ reason: string; n: number }>(
      this.exec,
      `SELECT reason, n FROM (
         SELECT CASE ${notSendableWhens}
             WHEN $1::text IS NOT NULL
               AND EXISTS (SELECT 1 FROM sends x WHERE x.campaign_id = $1 AND x.contact_id = c.id)
               THEN 'already_reached'
             ELSE 'sendable' END AS reason, count(*) AS n
         FROM contacts c JOIN batches b ON b.id = c.batch_id
         WHERE c.batch_id = $2 AND b.status = 'active'
         GROUP BY 1
       ) r ORDER BY reason COLLATE "C"`,
      [campaignId, batchId],
    );
  }

  /** Contacts of the audience the campaign has no ledger row for yet. */
  async remaining(campaignId: string): Promise<number> {
    const r = await row<{ n: number }>(
      this.exec,
      `SELECT count(*) AS n ${audienceFrom}
         AND NOT EXISTS (SELECT 1 FROM sends x WHERE x.campaign_id = $1 AND x.contact_id = c.id)`,
      [campaignId],
    );
    return r?.n ?? 0;
  }

  /** The campaign's ledger rows by status, with how many unsubscribed. */
  sends(campaignId: string): Promise<SendStatusCount[]> {
    return this.sendCounts.byStatus(campaignId);
  }

  /** A sequence's rows per step and variant, and who waits for a follow-up. */
  async sequence(campaignId: string): Promise<SequenceRows> {
    // People waiting for a follow-up, and the earliest due: the partial index sequence_people_due alone.
    const w = await row<{ n: number; next: number | null }>(
      this.exec,
      `SELECT count(*) AS n, min(next_due_at) AS next FROM sequence_people
        WHERE campaign_id = $1 AND next_due_at IS NOT NULL`,
      [campaignId],
    );
    const steps = await this.sendCounts.byStep(campaignId);
    return { steps, waiting: w?.n ?? 0, nextDueAt: w?.next ?? null };
  }
}

/**
 * A campaign's figures (null: a new campaign, which has no ledger rows) from one snapshot, so the
 * ledger, the audience and (with `sequence`) the steps are counted from the same state of the
 * database. Without `sequence` no step is read.
 */
export function countFigures(
  pool: pg.Pool,
  campaignId: string | null,
  audience: boolean,
  sequence = false,
): Promise<CountedFigures> {
  return inSnapshot(pool, async (tx): Promise<CountedFigures> => {
    const reader = new CountReader(tx);
    const sends = campaignId === null ? [] : await reader.sends(campaignId);
    const seq = sequence
      ? {
          sequence:
            campaignId === null
              ? { steps: [], waiting: 0, nextDueAt: null }
              : await reader.sequence(campaignId),
        }
      : {};
    if (!audience) return { sends, audience: null, ...seq };
    const batch = await reader.activeBatch();
    return {
      sends,
      audience: { batch, reasons: batch ? await reader.reasons(batch.id, campaignId) : [] },
      ...seq,
    };
  });
}
