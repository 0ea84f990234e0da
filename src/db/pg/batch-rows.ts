import type { ActivationChange, ActivationResult } from '../../core/batches/batch-store.js';
import type { BatchStatus } from '../../core/vocabulary.js';
import { type PgExec, row, rows } from './client.js';

/**
 * The writes to `batches` and `batch_events`, for the batch store and for the other stores that
 * must change a batch inside their own transaction (a scheduled activation, a contact leaving its
 * batch, a person forgotten): they call these functions with their transaction's client instead
 * of repeating the SQL.
 */

/**
 * The key of the transaction-scoped advisory lock every activation takes: with several app
 * instances on one database, two activations at once would both find the same previous batch
 * and both make theirs active (batches_one_active refuses the second, as an error). Under the
 * lock they run one after the other, and the second sees the first's result.
 */
export const activationLockKey = 0x63626163; // 'cbac'

/** The batch statements, run on `exec` (SQLite prepares them once per connection; here they are the SQL). */
export function batchStatements(exec: PgExec) {
  const count = async (text: string, values: unknown[]) => (await exec.query(text, values)).rowCount ?? 0;
  return {
    /** Locks the batch's row until the transaction ends (a concurrent change of it waits). */
    status: (id: string) =>
      row<{ status: BatchStatus; name: string }>(
        exec,
        'SELECT status, name FROM batches WHERE id = $1 FOR UPDATE',
        [id],
      ),
    activeId: () => row<{ id: string }>(exec, `SELECT id FROM batches WHERE status = 'active'`),
    deactivate: (at: number, id: string) =>
      count(`UPDATE batches SET status = 'inactive', deactivated_at = $1 WHERE id = $2`, [at, id]),
    activate: (at: number, id: string) =>
      count(`UPDATE batches SET status = 'active', activated_at = $1 WHERE id = $2`, [at, id]),
    keepReplaced: (previous: string | null, id: string) =>
      count('UPDATE batches SET replaced_batch_id = $1 WHERE id = $2', [previous, id]),
    event: (batchId: string, kind: string, actor: string, reason: string | null, at: number) =>
      count('INSERT INTO batch_events (batch_id, kind, actor, reason, at) VALUES ($1, $2, $3, $4, $5)', [
        batchId,
        kind,
        actor,
        reason,
        at,
      ]),
    // Never below zero: an importing batch's count is written only when it finishes.
    dropCount: (n: number, id: string) =>
      count('UPDATE batches SET contact_count = GREATEST(contact_count - $1, 0) WHERE id = $2', [n, id]),
    eraseEvents: (replacement: string, text: string) =>
      count(
        'UPDATE batch_events SET reason = $1 WHERE reason IS NOT NULL AND strpos(lower(reason), $2) > 0',
        [replacement, text],
      ),
    /** Locks the reports it returns, so the rewrite below loses no concurrent change. */
    reportsNaming: (text: string) =>
      rows<{ id: string; report: string }>(
        exec,
        'SELECT id, report FROM batches WHERE strpos(lower(report), $1) > 0 FOR UPDATE',
        [text],
      ),
    setReport: (report: string, id: string) =>
      count('UPDATE batches SET report = $1 WHERE id = $2', [report, id]),
  };
}

/** Appends one line to a batch's history. */
export async function insertBatchEvent(
  exec: PgExec,
  e: { batchId: string; kind: string; actor: string; reason: string | null; at: number },
): Promise<void> {
  await batchStatements(exec).event(e.batchId, e.kind, e.actor, e.reason, e.at);
}

/** Deactivates an active batch with its `deactivated` event. */
export async function deactivateBatch(
  exec: PgExec,
  id: string,
  change: { actor: string; reason: string | null; at: number },
): Promise<void> {
  const s = batchStatements(exec);
  await s.deactivate(change.at, id);
  await s.event(id, 'deactivated', change.actor, change.reason, change.at);
}

/**
 * Makes `id` the only active batch, in the caller's transaction (`exec` must be a transaction's
 * client: the activation lock lasts until it ends): the one active before is deactivated, each
 * with its event. Nothing is written unless the result is `activated`.
 */
/**
 * Takes the activation lock until the transaction ends: changes of which batch is active run one
 * after the other, as on SQLite, each seeing the one before. Taken first, always: a transaction
 * that locked a batch row and then waited for this lock could deadlock with an activation holding
 * it and waiting for that row.
 */
export async function activationLock(exec: PgExec): Promise<void> {
  await exec.query('SELECT pg_advisory_xact_lock($1)', [activationLockKey]);
}

export async function activateBatch(
  exec: PgExec,
  id: string,
  change: ActivationChange,
): Promise<ActivationResult> {
  const s = batchStatements(exec);
  await activationLock(exec);
  const found = await s.status(id);
  if (!found) return { kind: 'missing' };
  if (found.status === 'importing') return { kind: 'importing' };
  if (found.status === 'active') return { kind: 'already_active' };
  const previous = (await s.activeId())?.id ?? null;
  if (previous) await deactivateBatch(exec, previous, { ...change, reason: change.replacedReason });
  await s.activate(change.at, id);
  if (change.keepReplaced) await s.keepReplaced(previous, id);
  await s.event(id, 'activated', change.actor, change.reason, change.at);
  return { kind: 'activated', name: found.name, previous };
}

/** Lowers a batch's contact_count by `n` contacts that left it (never below zero). */
export async function dropContactCount(exec: PgExec, batchId: string, n: number): Promise<void> {
  if (n > 0) await batchStatements(exec).dropCount(n, batchId);
}

/** The same (SQLite has a second copy for drizzle transactions; here both take the client). */
export async function dropContactCountWith(exec: PgExec, batchId: string, n: number): Promise<void> {
  await dropContactCount(exec, batchId, n);
}

/**
 * In the caller's transaction, replaces `text` (lowercase) with `replacement` in event reasons
 * (the whole reason) and import reports (each occurrence, any case); returns the rows changed.
 */
export async function eraseBatchTexts(
  exec: PgExec,
  text: string,
  replacement: string,
): Promise<{ events: number; reports: number }> {
  const s = batchStatements(exec);
  const events = await s.eraseEvents(replacement, text);
  const reports = await s.reportsNaming(text);
  const pattern = new RegExp(text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'gi');
  for (const b of reports) await s.setReport(b.report.replace(pattern, replacement), b.id);
  return { events, reports: reports.length };
}
