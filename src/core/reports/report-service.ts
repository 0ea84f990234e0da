import { resolve as resolve_ } from 'node:path';
import type { Statement } from 'better-sqlite3';
import { z } from 'zod';
import { DomainError, isErrorCode } from '../../errors.js';
import { spawnWorker } from '../../worker-thread.js';
import type { Batch } from '../batches/batch.js';
import type { BatchEvent, BatchService } from '../batches/batch-service.js';
import {
  type CampaignStatus,
  type ContactStatus,
  type CoreDeps,
  contactStatuses,
  type ValidationResult,
  validationResults,
} from '../types.js';

const workerAnswer = z.discriminatedUnion('ok', [
  z.object({
    ok: z.literal(true),
    report: z.object({ batch: z.object({ id: z.string() }).loose() }).loose(),
  }),
  z.object({
    ok: z.literal(false),
    error: z.object({
      code: z.string().optional(),
      message: z.string(),
      details: z.record(z.string(), z.unknown()).optional(),
    }),
  }),
]);

import { BatchLedger, dayString } from './batch-ledger.js';

/**
 * Rates are fractions (0.0123 = 1.23 %), rounded to 4 decimals; null when nothing was attempted.
 * - `attempted` = sent + bounced + failed + unknown (every ledger row whose SMTP call happened or
 *   may have happened; `pending` rows — claimed or waiting for a retry — are not yet attempts).
 * - delivery = sent / attempted, bounce = bounced / attempted, failure = failed / attempted.
 * - unsubscribe = unsubscribed / sent (people who opted out through this campaign's link, among those
 *   who got it).
 */
export type Rates = {
  delivery: number | null;
  bounce: number | null;
  failure: number | null;
  unsubscribe: number | null;
};

export type SendFigures = {
  /** Ledger rows for this batch's contacts (one per person per campaign). */
  reached: number;
  attempted: number;
  sent: number;
  bounced: number;
  failed: number;
  unknown: number;
  /** Claimed or waiting for a retry. */
  pending: number;
  unsubscribed: number;
  rates: Rates;
};

export type CampaignReach = SendFigures & { id: string; name: string; status: CampaignStatus };

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
   * bounced / unsubscribed now (contact status).
   */
  funnel: { imported: number; active: number; sent: number; bounced: number; unsubscribed: number };
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

const rate = (part: number, whole: number) =>
  whole > 0 ? Math.round((part / whole) * 10_000) / 10_000 : null;

const isValidationResult = (v: string): v is ValidationResult =>
  (validationResults as readonly string[]).includes(v);

function emptyFigures(): SendFigures {
  return {
    reached: 0,
    attempted: 0,
    sent: 0,
    bounced: 0,
    failed: 0,
    unknown: 0,
    pending: 0,
    unsubscribed: 0,
    rates: { delivery: null, bounce: null, failure: null, unsubscribe: null },
  };
}

function add(f: SendFigures, status: string, n: number, unsub: number): void {
  f.reached += n;
  f.unsubscribed += unsub;
  if (status === 'sent') f.sent += n;
  else if (status === 'bounced') f.bounced += n;
  else if (status === 'failed') f.failed += n;
  else if (status === 'unknown') f.unknown += n;
  else f.pending += n;
}

function withRates<T extends SendFigures>(f: T): T {
  f.attempted = f.sent + f.bounced + f.failed + f.unknown;
  f.rates = {
    delivery: rate(f.sent, f.attempted),
    bounce: rate(f.bounced, f.attempted),
    failure: rate(f.failed, f.attempted),
    unsubscribe: rate(f.unsubscribed, f.sent),
  };
  return f;
}

/**
 * Per-batch reports, read-only. Contacts are counted by `contacts_batch_status` (index only); the
 * ledger through BatchLedger, whose cost follows the rows of this batch, not the whole ledger.
 */
export class ReportService {
  private readonly statusStmt: Statement<[string], { status: ContactStatus; n: number }>;
  private readonly validationStmt: Statement<[string], { validation: string | null; n: number }>;
  private readonly ledger: BatchLedger;

  constructor(
    private readonly deps: CoreDeps,
    private readonly batches: BatchService,
    /** The database file: reports are then built in a worker thread (see build). */
    private readonly databasePath?: string,
  ) {
    const sqlite = deps.db.$client;
    this.statusStmt = sqlite.prepare(
      'SELECT status, count(*) AS n FROM contacts WHERE batch_id = ? GROUP BY status',
    );
    this.validationStmt = sqlite.prepare(
      'SELECT validation, count(*) AS n FROM contacts WHERE batch_id = ? GROUP BY validation',
    );
    this.ledger = new BatchLedger(deps.db);
  }

  /**
   * The full report, built in a worker thread with its own read-only connection when the database
   * is a file, so a million-contact batch does not hold up the event loop for a second.
   */
  async build(batchId: string): Promise<BatchReport> {
    const path = this.databasePath;
    if (!path || path === ':memory:') return this.batchReport(batchId);
    this.batches.get(batchId); // not_found at once, without a thread
    const answer = await new Promise<unknown>((resolve, reject) => {
      const worker = spawnWorker(import.meta.url, './report-worker', {
        databasePath: resolve_(path),
        batchId,
        now: this.deps.clock.now(),
      });
      let message: unknown;
      worker.once('message', (m: unknown) => {
        message = m;
      });
      worker.once('error', reject);
      worker.once('exit', (code) =>
        message === undefined
          ? reject(new Error(`report worker stopped (exit code ${code})`))
          : resolve(message),
      );
    });
    const parsed = workerAnswer.parse(answer);
    if (parsed.ok) return parsed.report as BatchReport; // built by ReportService.batchReport in the worker
    const f = parsed.error;
    if (f.code && isErrorCode(f.code)) throw new DomainError(f.code, f.message, f.details);
    throw new Error(`report failed: ${f.message}`);
  }

  /** The full report of one batch, on this thread (throws not_found for an unknown id). */
  batchReport(batchId: string): BatchReport {
    const started = performance.now();
    const batch = this.batches.get(batchId);
    const byStatus = this.statusCounts(batchId);
    const total = contactStatuses.reduce((sum, s) => sum + byStatus[s], 0);

    const totals = emptyFigures();
    const days = new Map<number, number>();
    // The ledger's candidates may include a campaign that only reached another batch whose ids
    // interleave with this one's: it counts nothing in the join and is left out.
    const campaigns: CampaignReach[] = this.ledger.candidates(batchId).flatMap((c) => {
      const f = emptyFigures();
      for (const r of this.ledger.statusCounts(c, batchId)) {
        add(f, r.status, r.n, r.unsub);
        add(totals, r.status, r.n, r.unsub);
      }
      for (const d of this.ledger.sentPerDay(c, batchId)) days.set(d.day, (days.get(d.day) ?? 0) + d.n);
      return f.reached > 0 ? [{ id: c.id, name: c.name, status: c.status, ...withRates(f) }] : [];
    });
    // A person is in a campaign's ledger once, so with one campaign its sent count is the people count.
    const peopleSent =
      campaigns.length === 0 ? 0 : campaigns.length === 1 ? totals.sent : this.ledger.peopleSent(batchId);

    const report: BatchReport = {
      batch,
      importReport: batch.report,
      contacts: { total, byStatus },
      validation: this.validation(batchId),
      campaigns,
      totals: withRates(totals),
      sendsPerDay: [...days].sort(([a], [b]) => a - b).map(([day, sent]) => ({ day: dayString(day), sent })),
      funnel: {
        imported: batch.report?.imported ?? batch.contactCount,
        active: byStatus.active,
        sent: peopleSent,
        bounced: byStatus.bounced,
        unsubscribed: byStatus.unsubscribed,
      },
      history: this.batches.events(batchId),
      generatedAt: new Date(this.deps.clock.now()).toISOString(),
    };
    this.deps.log.debug(
      { module: 'reports', batchId, contacts: total, ms: Math.round(performance.now() - started) },
      'batch report built',
    );
    return report;
  }

  /** Contacts, statuses, messages sent and the bounce rate of one batch, cheaply (for the App Home). */
  keyFigures(batchId: string): KeyFigures {
    const batch = this.batches.get(batchId);
    const byStatus = this.statusCounts(batchId);
    const f = emptyFigures();
    for (const c of this.ledger.candidates(batchId)) {
      for (const r of this.ledger.quickStatusCounts(c, batchId)) add(f, r.status, r.n, 0);
    }
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

  private statusCounts(batchId: string): Record<ContactStatus, number> {
    const byStatus: Record<ContactStatus, number> = { active: 0, inactive: 0, bounced: 0, unsubscribed: 0 };
    for (const r of this.statusStmt.all(batchId)) byStatus[r.status] = r.n;
    return byStatus;
  }

  private validation(batchId: string): BatchReport['validation'] {
    const byResult: Record<ValidationResult, number> = {
      valid: 0,
      role: 0,
      disposable: 0,
      no_mail_domain: 0,
      unknown: 0,
    };
    let checked = 0;
    let unchecked = 0;
    for (const r of this.validationStmt.all(batchId)) {
      if (r.validation === null) unchecked += r.n;
      else {
        checked += r.n;
        if (isValidationResult(r.validation)) byResult[r.validation] += r.n;
      }
    }
    return checked > 0 ? { checked, unchecked, byResult } : null;
  }
}
