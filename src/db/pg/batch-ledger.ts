import type { StatusCount, StepStatusCount } from '../../core/reports/report-store.js';
import type { CampaignStatus } from '../../core/vocabulary.js';
import { type PgExec, row, rows } from './client.js';
import { inboxMarkCounts, SendCounts } from './send-counts.js';

const dayMs = 86_400_000;

type DayRow = { day: number; n: number };
/**
 * A campaign that may have reached the batch. `whole`: every ledger row of it (whose contact still exists)
 * is a contact of this batch, so its figures need no join to contacts. `sequence`: it has steps
 * (follow-ups or variants), so a person may have several rows.
 */
export type ReachedCampaign = {
  id: string;
  name: string;
  status: CampaignStatus;
  whole: boolean;
  sequence: boolean;
};

/** `s` joined to its contact and kept to the batch's (`$2`), or only rows whose contact still exists. */
const scope = (join: boolean) => ({
  from: join ? 'sends s JOIN contacts c ON c.id = s.contact_id' : 'sends s',
  where: join ? 'AND c.batch_id = $2' : 'AND s.contact_id IS NOT NULL',
});

/**
 * One campaign's (`$1`) ledger rows for the batch (`$2`, only used by the join). The order is the
 * one SQLite's group-bys give (sorted by the grouped columns, NULL first, text as bytes), so both
 * dialects list the same figures in the same order.
 */
const statusSql = (join: boolean) => {
  const { from, where } = scope(join);
  return `SELECT s.status AS status, count(*) AS n, count(s.unsubscribed_at) AS unsub, ${inboxMarkCounts}
    FROM ${from} WHERE s.campaign_id = $1 ${where}
    GROUP BY s.status ORDER BY s.status COLLATE "C"`;
};
const daysSql = (join: boolean) => {
  const { from, where } = scope(join);
  return `SELECT s.updated_at / ${dayMs} AS day, count(*) AS n
    FROM ${from} WHERE s.campaign_id = $1 AND s.status = 'sent' ${where}
    GROUP BY 1 ORDER BY 1`;
};
/** A sequence's rows of a later step or with a variant: the terms of the partial index sends_step_variant. */
const stepsSql = (join: boolean) => {
  const { from, where } = scope(join);
  return `SELECT s.step AS step, s.variant AS variant, s.status AS status, count(*) AS n,
      count(s.unsubscribed_at) AS unsub, ${inboxMarkCounts}
    FROM ${from} WHERE s.campaign_id = $1 AND (s.step > 1 OR s.variant IS NOT NULL) ${where}
    GROUP BY s.step, s.variant, s.status
    ORDER BY s.step, s.variant NULLS FIRST, s.status COLLATE "C"`;
};

/**
 * The send ledger seen from one batch, by indexed group-bys whose cost follows this batch's rows:
 * the twin of db/sqlite/batch-ledger.ts (the same candidates, the same `whole` shortcut), over
 * one transaction's client so every figure of a report reads the same snapshot.
 *
 * Contacts of a batch are imported together, so their ids usually form one range [lo, hi] that
 * holds no other batch's contact. A campaign reached the batch only if its ledger has a row in that
 * range: a probe of `sends_campaign_contact_step` per campaign finds the candidates without
 * walking the contacts. A campaign whose smallest and largest contact id both fall in a range of
 * this batch alone is counted from its own rows; any other is joined to the contact's batch.
 */
export class BatchLedger {
  constructor(private readonly exec: PgExec) {}

  /**
   * Every campaign whose ledger holds a contact of the batch, oldest first — and, when another
   * batch's contacts interleave with this one's ids, possibly a campaign that reached only those
   * (its join then counts nothing).
   */
  async candidates(batchId: string): Promise<ReachedCampaign[]> {
    const range = await row<{ lo: number | null; hi: number | null }>(
      this.exec,
      `SELECT (SELECT min(id) FROM contacts WHERE batch_id = $1) AS lo,
              (SELECT max(id) FROM contacts WHERE batch_id = $1) AS hi`,
      [batchId],
    );
    const lo = range?.lo ?? null;
    const hi = range?.hi ?? null;
    if (lo === null || hi === null) return [];
    const reached = await rows<{ id: string; name: string; status: CampaignStatus; sequence: boolean }>(
      this.exec,
      `SELECT cp.id, cp.name, cp.status, cp.steps IS NOT NULL AS sequence FROM campaigns cp
        WHERE EXISTS (SELECT 1 FROM sends s WHERE s.campaign_id = cp.id AND s.contact_id BETWEEN $1 AND $2)
        ORDER BY cp.created_at, cp.id COLLATE "C"`,
      [lo, hi],
    );
    if (reached.length === 0) return [];
    const others = await row<{ hit: boolean }>(
      this.exec,
      `SELECT EXISTS (
         SELECT 1 FROM batches b
          WHERE b.id <> $1
            AND EXISTS (SELECT 1 FROM contacts c WHERE c.batch_id = b.id AND c.id BETWEEN $2 AND $3)) AS hit`,
      [batchId, lo, hi],
    );
    const alone = others?.hit === false;
    const out: ReachedCampaign[] = [];
    for (const { sequence, ...c } of reached) {
      const span = await row<{ lo: number | null; hi: number | null }>(
        this.exec,
        `SELECT (SELECT min(contact_id) FROM sends WHERE campaign_id = $1) AS lo,
                (SELECT max(contact_id) FROM sends WHERE campaign_id = $1) AS hi`,
        [c.id],
      );
      const whole = alone && span?.lo != null && span.hi != null && span.lo >= lo && span.hi <= hi;
      out.push({ ...c, whole, sequence });
    }
    return out;
  }

  /** One campaign's ledger rows for this batch's contacts, by status, with unsubscribes and the mailbox's marks. */
  statusCounts(c: ReachedCampaign, batchId: string): Promise<StatusCount[]> {
    return rows(this.exec, statusSql(!c.whole), this.ids(c, batchId));
  }

  /** One campaign's messages sent to this batch, by UTC day number (ms / 86 400 000). */
  sentPerDay(c: ReachedCampaign, batchId: string): Promise<DayRow[]> {
    return rows(this.exec, daysSql(!c.whole), this.ids(c, batchId));
  }

  /** A sequence's rows of a later step or with a variant for this batch's contacts, by step, variant and status. */
  stepCounts(c: ReachedCampaign, batchId: string): Promise<StepStatusCount[]> {
    return rows(this.exec, stepsSql(!c.whole), this.ids(c, batchId));
  }

  /** Status counts without unsubscribes: the campaign's whole ledger for a whole campaign (App Home). */
  async quickStatusCounts(c: ReachedCampaign, batchId: string): Promise<{ status: string; n: number }[]> {
    if (!c.whole) return this.statusCounts(c, batchId);
    // The whole ledger of the campaign, minus rows of deleted contacts (as SQLite counts it).
    const counts = new Map(
      (await new SendCounts(this.exec).byStatusIndexOnly(c.id)).map((r) => [r.status, r.n]),
    );
    const orphans = await rows<{ status: string; n: number }>(
      this.exec,
      'SELECT status, count(*) AS n FROM sends WHERE campaign_id = $1 AND contact_id IS NULL GROUP BY status',
      [c.id],
    );
    for (const o of orphans) counts.set(o.status, (counts.get(o.status) ?? 0) - o.n);
    return [...counts].map(([status, n]) => ({ status, n }));
  }

  /** Contacts of the batch sent at least one message. */
  async peopleSent(batchId: string): Promise<number> {
    const r = await row<{ n: number }>(
      this.exec,
      `SELECT count(*) AS n FROM contacts c
        WHERE c.batch_id = $1
          AND EXISTS (SELECT 1 FROM sends s WHERE s.contact_id = c.id AND s.status = 'sent')`,
      [batchId],
    );
    return r?.n ?? 0;
  }

  /** The parameters of the ledger queries: the batch only when the query joins to it. */
  private ids(c: ReachedCampaign, batchId: string): string[] {
    return c.whole ? [c.id] : [c.id, batchId];
  }
}
