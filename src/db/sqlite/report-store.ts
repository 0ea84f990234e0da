import type {
  BatchFigures,
  ContactCounts,
  QuickFigures,
  ReportStore,
} from '../../core/reports/report-store.js';
import type { Sqlite } from '../client.js';
import { BatchLedger } from './batch-ledger.js';
import { figuresOffThread } from './report-thread.js';

/**
 * The SQLite ReportStore. Contacts are counted by `contacts_batch_status` (index only), the ledger
 * through BatchLedger. With `offThread`, a full report's counts (over a second at a million
 * contacts) run in a worker thread with a read-only connection of its own, so the event loop keeps
 * answering meanwhile (not for an in-memory database, which no other connection can open).
 */
export class SqliteReportStore implements ReportStore {
  private readonly stmts;
  private readonly ledger: BatchLedger;

  constructor(
    private readonly sqlite: Sqlite,
    private readonly options: { offThread?: boolean } = {},
  ) {
    this.stmts = {
      statuses: sqlite.prepare<[string], ContactCounts[number]>(
        'SELECT status, count(*) AS n FROM contacts WHERE batch_id = ? GROUP BY status',
      ),
      validation: sqlite.prepare<[string], { validation: string | null; n: number }>(
        'SELECT validation, count(*) AS n FROM contacts WHERE batch_id = ? GROUP BY validation',
      ),
    };
    this.ledger = new BatchLedger(sqlite);
  }

  async batchFigures(batchId: string): Promise<BatchFigures> {
    if (this.options.offThread && !this.sqlite.memory) return figuresOffThread(this.sqlite.name, batchId);
    // One read transaction: every count from the same state of the database.
    return this.sqlite.transaction(() => this.readFigures(batchId))();
  }

  async quickFigures(batchId: string): Promise<QuickFigures> {
    return this.sqlite.transaction(() => ({
      contacts: this.stmts.statuses.all(batchId),
      // Index only for a campaign whose ledger is all this batch's (no unsubscribes needed here).
      sends: this.ledger.candidates(batchId).flatMap((c) => this.ledger.quickStatusCounts(c, batchId)),
    }))();
  }

  /** The full report's counts, in the caller's transaction. */
  private readFigures(batchId: string): BatchFigures {
    const campaigns = this.ledger.candidates(batchId).map((c) => ({
      id: c.id,
      name: c.name,
      status: c.status,
      byStatus: this.ledger.statusCounts(c, batchId),
      sentPerDay: this.ledger.sentPerDay(c, batchId),
      ...(c.sequence ? { byStep: this.ledger.stepCounts(c, batchId) } : {}),
    }));
    // A candidate may count nothing (it reached another batch whose ids interleave with this one's).
    const reached = campaigns.filter((c) => c.byStatus.some((r) => r.n > 0));
    // A person is in a one-step campaign's ledger once: its sent rows are the people sent (a
    // sequence has a row per step).
    const only = reached.length === 1 ? reached[0] : undefined;
    const peopleSent =
      reached.length === 0
        ? 0
        : only && !only.byStep
          ? (only.byStatus.find((r) => r.status === 'sent')?.n ?? 0)
          : this.ledger.peopleSent(batchId);
    return {
      contacts: this.stmts.statuses.all(batchId),
      validation: this.stmts.validation.all(batchId),
      campaigns: reached,
      peopleSent,
    };
  }
}
