import type { StatusCount, StepStatusCount } from '../../core/reports/report-store.js';
import type { CampaignStatus } from '../../core/vocabulary.js';
import type { Sqlite } from '../client.js';
import { inboxMarkCounts, SendCounts } from './send-counts.js';

const dayMs = 86_400_000;

type StatusRow = StatusCount;
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

/**
 * The send ledger seen from one batch, by indexed group-bys whose cost follows this batch's rows.
 *
 * Contacts of a batch are imported together, so their ids usually form one range [lo, hi] that
 * holds no other batch's contact. A campaign reached the batch only if its ledger has a row in that
 * range: an index-only probe of `sends_campaign_contact_step` per campaign finds the candidates without
 * walking the contacts. A campaign whose smallest and largest contact id both fall in a range of this batch
 * alone is counted straight from `sends_campaign_status`; any other (interleaved imports, a drip
 * that ran across an activation) is joined to the contact's batch row by row.
 */
export class BatchLedger {
  private readonly stmts;
  /** The send counts by status every campaign figure uses. */
  private readonly sendCounts: SendCounts;

  constructor(sqlite: Sqlite) {
    this.sendCounts = new SendCounts(sqlite);
    const perCampaign = (join: boolean, select: string, where: string, groupBy: string) =>
      `SELECT ${select} FROM sends s INDEXED BY sends_campaign_status
       ${join ? 'CROSS JOIN contacts c ON c.id = s.contact_id' : ''}
       WHERE s.campaign_id = @campaign ${where} ${join ? 'AND c.batch_id = @batch' : 'AND s.contact_id IS NOT NULL'}
       GROUP BY ${groupBy}`;
    const status = `s.status AS status, count(*) AS n, count(s.unsubscribed_at) AS unsub, ${inboxMarkCounts}`;
    const day = `s.updated_at / ${dayMs} AS day, count(*) AS n`;
    const perStep = (join: boolean) =>
      `SELECT s.step AS step, s.variant AS variant, ${status} FROM sends s INDEXED BY sends_step_variant
       ${join ? 'CROSS JOIN contacts c ON c.id = s.contact_id' : ''}
       WHERE s.campaign_id = @campaign AND (s.step > 1 OR s.variant IS NOT NULL)
         ${join ? 'AND c.batch_id = @batch' : 'AND s.contact_id IS NOT NULL'}
       GROUP BY s.step, s.variant, s.status`;
    type Ids = { campaign: string; batch: string };
    this.stmts = {
      range: sqlite.prepare<{ batch: string }, { lo: number | null; hi: number | null }>(
        `SELECT (SELECT min(id) FROM contacts WHERE batch_id = @batch) AS lo,
                (SELECT max(id) FROM contacts WHERE batch_id = @batch) AS hi`,
      ),
      othersInRange: sqlite.prepare<{ batch: string; lo: number; hi: number }, { hit: number }>(
        `SELECT EXISTS (
           SELECT 1 FROM batches b
            WHERE b.id <> @batch
              AND EXISTS (SELECT 1 FROM contacts c INDEXED BY contacts_batch
                           WHERE c.batch_id = b.id AND c.id BETWEEN @lo AND @hi)) AS hit`,
      ),
      campaigns: sqlite.prepare<[], { id: string; name: string; status: CampaignStatus; sequence: number }>(
        'SELECT id, name, status, steps IS NOT NULL AS sequence FROM campaigns ORDER BY created_at, id',
      ),
      touches: sqlite.prepare<{ campaign: string; lo: number; hi: number }, { hit: number }>(
        'SELECT EXISTS (SELECT 1 FROM sends WHERE campaign_id = @campaign AND contact_id BETWEEN @lo AND @hi) AS hit',
      ),
      span: sqlite.prepare<{ campaign: string }, { lo: number | null; hi: number | null }>(
        `SELECT (SELECT min(contact_id) FROM sends WHERE campaign_id = @campaign) AS lo,
                (SELECT max(contact_id) FROM sends WHERE campaign_id = @campaign) AS hi`,
      ),
      statusJoin: sqlite.prepare<Ids, StatusRow>(perCampaign(true, status, '', 's.status')),
      statusWhole: sqlite.prepare<Ids, StatusRow>(perCampaign(false, status, '', 's.status')),
      daysJoin: sqlite.prepare<Ids, DayRow>(perCampaign(true, day, "AND s.status = 'sent'", 'day')),
      daysWhole: sqlite.prepare<Ids, DayRow>(perCampaign(false, day, "AND s.status = 'sent'", 'day')),
      // A sequence's rows of a later step or with a variant: the partial index sends_step_variant.
      stepsJoin: sqlite.prepare<Ids, StepStatusCount>(perStep(true)),
      stepsWhole: sqlite.prepare<Ids, StepStatusCount>(perStep(false)),
      orphanCounts: sqlite.prepare<{ campaign: string }, { status: string; n: number }>(
        'SELECT status, count(*) AS n FROM sends WHERE campaign_id = @campaign AND contact_id IS NULL GROUP BY status',
      ),
      peopleSent: sqlite.prepare<{ batch: string }, { n: number }>(
        `SELECT count(*) AS n FROM contacts c
          WHERE c.batch_id = @batch
            AND EXISTS (SELECT 1 FROM sends s WHERE s.contact_id = c.id AND s.status = 'sent')`,
      ),
    };
  }

  /**
   * Every campaign whose ledger holds a contact of the batch, oldest first — and, when another
   * batch's contacts interleave with this one's ids, possibly a campaign that reached only those
   * (its join then counts nothing).
   */
  candidates(batchId: string): ReachedCampaign[] {
    const { lo, hi } = this.stmts.range.get({ batch: batchId }) ?? { lo: null, hi: null };
    if (lo === null || hi === null) return [];
    const reached = this.stmts.campaigns
      .all()
      .filter((c) => this.stmts.touches.get({ campaign: c.id, lo, hi })?.hit === 1);
    if (reached.length === 0) return [];
    const alone = this.stmts.othersInRange.get({ batch: batchId, lo, hi })?.hit === 0;
    return reached.map(({ sequence, ...c }) => {
      const span = this.stmts.span.get({ campaign: c.id });
      const whole = alone && span?.lo != null && span.hi != null && span.lo >= lo && span.hi <= hi;
      return { ...c, whole, sequence: sequence === 1 };
    });
  }

  /** One campaign's ledger rows for this batch's contacts, by status, with unsubscribes and the mailbox's marks. */
  statusCounts(c: ReachedCampaign, batchId: string): StatusRow[] {
    const ids = { campaign: c.id, batch: batchId };
    return c.whole ? this.stmts.statusWhole.all(ids) : this.stmts.statusJoin.all(ids);
  }

  /** One campaign's messages sent to this batch, by UTC day number (ms / 86 400 000). */
  sentPerDay(c: ReachedCampaign, batchId: string): DayRow[] {
    const ids = { campaign: c.id, batch: batchId };
    return c.whole ? this.stmts.daysWhole.all(ids) : this.stmts.daysJoin.all(ids);
  }

  /** A sequence's rows of a later step or with a variant for this batch's contacts, by step, variant and status. */
  stepCounts(c: ReachedCampaign, batchId: string): StepStatusCount[] {
    const ids = { campaign: c.id, batch: batchId };
    return c.whole ? this.stmts.stepsWhole.all(ids) : this.stmts.stepsJoin.all(ids);
  }

  /** Status counts without unsubscribes: from the ledger index alone for a whole campaign (App Home). */
  quickStatusCounts(c: ReachedCampaign, batchId: string): { status: string; n: number }[] {
    if (!c.whole) return this.statusCounts(c, batchId);
    // Index only (no unsubscribes): the whole ledger of the campaign, minus rows of deleted contacts.
    const counts = new Map(this.sendCounts.byStatusIndexOnly(c.id).map((r) => [r.status, r.n]));
    for (const o of this.stmts.orphanCounts.all({ campaign: c.id })) {
      counts.set(o.status, (counts.get(o.status) ?? 0) - o.n);
    }
    return [...counts].map(([status, n]) => ({ status, n }));
  }

  /** Contacts of the batch sent at least one message. */
  peopleSent(batchId: string): number {
    return this.stmts.peopleSent.get({ batch: batchId })?.n ?? 0;
  }
}
