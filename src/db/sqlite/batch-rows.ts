import { eq, sql } from 'drizzle-orm';
import type { ActivationChange, ActivationResult } from '../../core/batches/batch-store.js';
import type { BatchStatus } from '../../core/vocabulary.js';
import type { Db } from '../client.js';
import { batches } from '../schema.js';

/**
 * The writes to `batches` and `batch_events` (prepared once per connection), for the batch store
 * and for the other stores that must change a batch inside their own transaction (a scheduled
 * activation, a contact leaving its batch, a person forgotten): they call these functions instead
 * of repeating the SQL. Synchronous: they run inside the caller's transaction.
 */
type Client = Db['$client'];

function prepare(s: Client) {
  return {
    status: s.prepare<[string], { status: BatchStatus; name: string }>(
      `SELECT status, name FROM batches WHERE id = ?`,
    ),
    activeId: s.prepare<[], { id: string }>(`SELECT id FROM batches WHERE status = 'active'`),
    deactivate: s.prepare<[number, string]>(
      `UPDATE batches SET status = 'inactive', deactivated_at = ? WHERE id = ?`,
    ),
    activate: s.prepare<[number, string]>(
      `UPDATE batches SET status = 'active', activated_at = ? WHERE id = ?`,
    ),
    keepReplaced: s.prepare<[string | null, string]>(`UPDATE batches SET replaced_batch_id = ? WHERE id = ?`),
    event: s.prepare<[string, string, string, string | null, number]>(
      `INSERT INTO batch_events (batch_id, kind, actor, reason, at) VALUES (?, ?, ?, ?, ?)`,
    ),
    // Never below zero: an importing batch's count is written only when it finishes.
    dropCount: s.prepare<[number, string]>(
      `UPDATE batches SET contact_count = max(contact_count - ?, 0) WHERE id = ?`,
    ),
    eraseEvents: s.prepare<[string, string]>(
      `UPDATE batch_events SET reason = ? WHERE reason IS NOT NULL AND instr(lower(reason), ?) > 0`,
    ),
    reportsNaming: s.prepare<[string], { id: string; report: string }>(
      `SELECT id, report FROM batches WHERE instr(lower(report), ?) > 0`,
    ),
    setReport: s.prepare<[string, string]>(`UPDATE batches SET report = ? WHERE id = ?`),
  };
}

const cache = new WeakMap<Client, ReturnType<typeof prepare>>();

/** The batch statements of this connection, prepared on first use. */
export function batchStatements(client: Client): ReturnType<typeof prepare> {
  let s = cache.get(client);
  if (!s) {
    s = prepare(client);
    cache.set(client, s);
  }
  return s;
}

/** Appends one line to a batch's history. */
export function insertBatchEvent(
  client: Client,
  e: { batchId: string; kind: string; actor: string; reason: string | null; at: number },
): void {
  batchStatements(client).event.run(e.batchId, e.kind, e.actor, e.reason, e.at);
}

/** Deactivates an active batch with its `deactivated` event. */
export function deactivateBatch(
  client: Client,
  id: string,
  change: { actor: string; reason: string | null; at: number },
): void {
  const s = batchStatements(client);
  s.deactivate.run(change.at, id);
  s.event.run(id, 'deactivated', change.actor, change.reason, change.at);
}

/**
 * Makes `id` the only active batch, in the caller's transaction: the one active before is
 * deactivated, each with its event. Nothing is written unless the result is `activated`.
 */
export function activateBatch(client: Client, id: string, change: ActivationChange): ActivationResult {
  const s = batchStatements(client);
  const row = s.status.get(id);
  if (!row) return { kind: 'missing' };
  if (row.status === 'importing') return { kind: 'importing' };
  if (row.status === 'active') return { kind: 'already_active' };
  const previous = s.activeId.get()?.id ?? null;
  if (previous) deactivateBatch(client, previous, { ...change, reason: change.replacedReason });
  s.activate.run(change.at, id);
  if (change.keepReplaced) s.keepReplaced.run(previous, id);
  s.event.run(id, 'activated', change.actor, change.reason, change.at);
  return { kind: 'activated', name: row.name, previous };
}

/** Lowers a batch's contact_count by `n` contacts that left it (never below zero). */
export function dropContactCount(client: Client, batchId: string, n: number): void {
  if (n > 0) batchStatements(client).dropCount.run(n, batchId);
}

/** The same with a drizzle writer: a contact deleted inside a drizzle transaction (contact-status.ts). */
export function dropContactCountWith(tx: Pick<Db, 'update'>, batchId: string, n: number): void {
  if (n <= 0) return;
  tx.update(batches)
    .set({ contactCount: sql`max(${batches.contactCount} - ${n}, 0)` })
    .where(eq(batches.id, batchId))
    .run();
}

/**
 * In the caller's transaction, replaces `text` (lowercase) with `replacement` in event reasons
 * (the whole reason) and import reports (each occurrence, any case); returns the rows changed.
 */
export function eraseBatchTexts(
  client: Client,
  text: string,
  replacement: string,
): { events: number; reports: number } {
  const s = batchStatements(client);
  const events = s.eraseEvents.run(replacement, text).changes;
  const reports = s.reportsNaming.all(text);
  const pattern = new RegExp(text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'gi');
  for (const b of reports) s.setReport.run(b.report.replace(pattern, replacement), b.id);
  return { events, reports: reports.length };
}
