import type pg from 'pg';
import type {
  BatchFigures,
  ContactCounts,
  QuickFigures,
  ReportStore,
} from '../../core/reports/report-store.js';
import { BatchLedger } from './batch-ledger.js';
import { inSnapshot, type PgDb, type PgExec, rows } from './client.js';

/**
 * The Postgres ReportStore: every figure counted inline, exactly, at each call. No worker thread:
 * a Postgres query runs in the server's process, so a long count does not hold the event loop.
 * Each call reads one snapshot (a read-only repeatable-read transaction), as SQLite's read
 * transaction does.
 */
export class PgReportStore implements ReportStore {
  private readonly pool: pg.Pool;

  constructor(db: PgDb) {
    this.pool = db.$client;
  }

  async batchFigures(batchId: string): Promise<BatchFigures> {
    return inSnapshot(this.pool, (tx) => readFigures(tx, batchId));
  }

  async quickFigures(batchId: string): Promise<QuickFigures> {
    return inSnapshot(this.pool, async (tx) => {
      const ledger = new BatchLedger(tx);
      const contacts = await contactStatuses(tx, batchId);
      const sends: QuickFigures['sends'] = [];
      for (const c of await ledger.candidates(batchId))
        sends.push(...(await ledger.quickStatusCounts(c, batchId)));
      return { contacts, sends };
    });
  }
}

/** The batch's contacts by status, ordered as SQLite's group-by over contacts_batch_status gives them. */
function contactStatuses(tx: PgExec, batchId: string): Promise<ContactCounts> {
  return rows(
    tx,
    'SELECT status, count(*) AS n FROM contacts WHERE batch_id = $1 GROUP BY status ORDER BY status COLLATE "C"',
    [batchId],
  );
}

/** The full report's counts, in the caller's transaction (the same steps as SQLite's readFigures). */
async function readFigures(tx: PgExec, batchId: string): Promise<BatchFigures> {
  const ledger = new BatchLedger(tx);
  const campaigns: BatchFigures['campaigns'] = [];
  for (const c of await ledger.candidates(batchId)) {
    const byStatus = await ledger.statusCounts(c, batchId);
    const sentPerDay = await ledger.sentPerDay(c, batchId);
    const byStep = c.sequence ? await ledger.stepCounts(c, batchId) : undefined;
    campaigns.push({
      id: c.id,
      name: c.name,
      status: c.status,
      byStatus,
      sentPerDay,
      ...(byStep ? { byStep } : {}),
    });
  }
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
        : await ledger.peopleSent(batchId);
  return {
    contacts: await contactStatuses(tx, batchId),
    validation: await rows(
      tx,
      `SELECT validation, count(*) AS n FROM contacts WHERE batch_id = $1
       GROUP BY validation ORDER BY validation COLLATE "C" NULLS FIRST`,
      [batchId],
    ),
    campaigns: reached,
    peopleSent,
  };
}
