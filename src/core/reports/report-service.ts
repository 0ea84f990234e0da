import type { Batch } from '../batches/batch.js';
import type { BatchEvent, BatchService } from '../batches/batch-service.js';
import { zeroByStatus } from '../contacts/contact.js';
import {
  type CampaignStatus,
  type ContactStatus,
  type CoreDeps,
  contactStatuses,
  type ValidationResult,
  validationResults,
} from '../types.js';
import type { BatchFigures, ContactCounts, ReportStore } from './report-store.js';
import {
  add,
  addStatus,
  emptyFigures,
  type SendFigures,
  type VariantReach,
  variantFigures,
  withRates,
} from './send-figures.js';

export type { Rates, SendFigures, VariantReach } from './send-figures.js';

const dayMs = 86_400_000;

/** A UTC day number (ms / 86 400 000) as `YYYY-MM-DD`. */
const dayString = (day: number) => new Date(day * dayMs).toISOString().slice(0, 10);

/** A campaign that reached the batch; `variants` when a step of it has A/B variants (by step, then variant). */
export type CampaignReach = SendFigures & {
  id: string;
  name: string;
  status: CampaignStatus;
  variants?: VariantReach[];
};

export type BatchReport = {
  batch: Batch;
  /** The import report stored with the batch (null for a batch still importing). */
  importReport: Batch['report'];
  contacts: { total: number; byStatus: Record<ContactStatus, number> };
  /** Bulk validation verdicts; null while no contact of the batch has been checked. */
  validation: { checked: number; unchecked: number; byResult: Record<ValidationResult, number> } | null;
  /** Every campaign whose ledger holds a contact of this batch, oldest first. */
  campaigns: CampaignReach[];
  /** All those campaigns together (messages, not people). */
  totals: SendFigures;
  /** Messages sent per UTC day (the ledger's time of the `sent` row), oldest first, days without sends left out. */
  sendsPerDay: { day: string; sent: number }[];
  /**
   * People at each stage: imported (the import report) → active now → sent at least one message →
   * bounced / unsubscribed now (contact status); `replied` and `complained`: contacts in those
   * statuses now (the chart leaves them out).
   */
  funnel: {
    imported: number;
    active: number;
    sent: number;
    bounced: number;
    unsubscribed: number;
    replied: number;
    complained: number;
  };
  /** Imports, activations and deactivations, oldest first. */
  history: BatchEvent[];
  generatedAt: string;
};

/** The few figures the App Home shows for the active batch. */
export type KeyFigures = {
  batchId: string;
  contacts: number;
  active: number;
  bounced: number;
  unsubscribed: number;
  /** Messages sent to the batch's contacts, every campaign together. */
  sent: number;
  /** Ledger bounced / attempted over every campaign, for this batch's contacts. */
  bounceRate: number | null;
};

const isValidationResult = (v: string): v is ValidationResult =>
  (validationResults as readonly string[]).includes(v);

/**
 * Per-batch reports, read-only, from the ReportStore's counts (whose cost follows the rows of the
 * batch, not the whole ledger).
 */
export class ReportService {
  constructor(
    private readonly deps: Pick<CoreDeps, 'log' | 'clock'>,
    private readonly store: ReportStore,
    private readonly batches: BatchService,
  ) {}

  /** The full report of one batch (throws not_found for an unknown id). */
  async build(batchId: string): Promise<BatchReport> {
    const started = performance.now();
    const batch = await this.batches.get(batchId); // not_found before any counting
    const figures = await this.store.batchFigures(batchId);
    const byStatus = statusRecord(figures.contacts);
    const total = contactStatuses.reduce((sum, s) => sum + byStatus[s], 0);

    const totals = emptyFigures();
    const days = new Map<number, number>();
    // A candidate campaign may count nothing here (it reached another batch whose contact ids
    // interleave with this one's): it is left out.
    const campaigns: CampaignReach[] = figures.campaigns.flatMap((c) => {
      const f = emptyFigures();
      for (const r of c.byStatus) {
        add(f, r);
        add(totals, r);
      }
      for (const d of c.sentPerDay) days.set(d.day, (days.get(d.day) ?? 0) + d.n);
      const variants = variantFigures(c.byStep ?? []);
      return f.reached > 0
        ? [
            {
              id: c.id,
              name: c.name,
              status: c.status,
              ...withRates(f),
              ...(variants.length > 0 ? { variants } : {}),
            },
          ]
        : [];
    });

    const report: BatchReport = {
      batch,
      importReport: batch.report,
      contacts: { total, byStatus },
      validation: validationFigures(figures.validation),
      campaigns,
      totals: withRates(totals),
      sendsPerDay: [...days].sort(([a], [b]) => a - b).map(([day, sent]) => ({ day: dayString(day), sent })),
      funnel: {
        imported: batch.report?.imported ?? batch.contactCount,
        active: byStatus.active,
        sent: figures.peopleSent,
        bounced: byStatus.bounced,
        unsubscribed: byStatus.unsubscribed,
        replied: byStatus.replied,
        complained: byStatus.complained,
      },
      history: await this.batches.events(batchId),
      generatedAt: new Date(this.deps.clock.now()).toISOString(),
    };
    this.deps.log.debug(
      { module: 'reports', batchId, contacts: total, ms: Math.round(performance.now() - started) },
      'batch report built',
    );
    return report;
  }

  /** Contacts, statuses, messages sent and the bounce rate of one batch, cheaply (for the App Home). */
  async keyFigures(batchId: string): Promise<KeyFigures> {
    const batch = await this.batches.get(batchId);
    const quick = await this.store.quickFigures(batchId);
    const byStatus = statusRecord(quick.contacts);
    const f = emptyFigures();
    for (const r of quick.sends) addStatus(f, r.status, r.n, 0);
    withRates(f);
    return {
      batchId,
      contacts: batch.contactCount,
      active: byStatus.active,
      bounced: byStatus.bounced,
      unsubscribed: byStatus.unsubscribed,
      sent: f.sent,
      bounceRate: f.rates.bounce,
    };
  }
}

function statusRecord(counts: ContactCounts): Record<ContactStatus, number> {
  const byStatus = zeroByStatus();
  for (const r of counts) byStatus[r.status] = r.n;
  return byStatus;
}

function validationFigures(counts: BatchFigures['validation']): BatchReport['validation'] {
  const byResult: Record<ValidationResult, number> = {
    valid: 0,
    role: 0,
    disposable: 0,
    no_mail_domain: 0,
    unknown: 0,
  };
  let checked = 0;
  let unchecked = 0;
  for (const r of counts) {
    if (r.validation === null) unchecked += r.n;
    else {
      checked += r.n;
      if (isValidationResult(r.validation)) byResult[r.validation] += r.n;
    }
  }
  return checked > 0 ? { checked, unchecked, byResult } : null;
}
