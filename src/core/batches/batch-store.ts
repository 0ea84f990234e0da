import type { BatchSource, BatchStatus, ContactStatus, CoreDeps } from '../types.js';
import type { BatchRow } from './batch.js';

export type { BatchRow } from './batch.js';

/** A transaction on the app's connection, handed to the `…Within` steps that join the caller's. */
export type Tx = Parameters<Parameters<CoreDeps['db']['transaction']>[0]>[0];

/** One line of a batch's history as stored. */
export type BatchEventRow = { kind: string; actor: string; reason: string | null; at: number };

/** What an activation writes: who, when, and the texts of its two events. */
export type ActivationChange = {
  actor: string;
  at: number;
  /** The `activated` event's reason. */
  reason: string | null;
  /** The reason of the `deactivated` event of the batch it replaces. */
  replacedReason: string;
  /** Keep the replaced batch's id on the new one (`replaced_batch_id`, an import's Undo reads it). */
  keepReplaced: boolean;
};

/** What an activation found: nothing to activate, or the batch now active and the one it replaced. */
export type ActivationResult =
  | { kind: 'missing' }
  | { kind: 'importing' }
  | { kind: 'already_active' }
  | { kind: 'activated'; name: string; previous: string | null };

/** What one step of a chunked deletion did: contacts removed, or the batch left the expected status. */
export type ChunkResult = { kind: 'deleted'; count: number } | { kind: 'moved'; status: BatchStatus | null };

/** A new batch, `importing` until the import finishes. */
export type ImportStart = {
  id: string;
  name: string;
  source: BatchSource;
  actor: string;
  at: number;
  /** The process filling it (core/imports/importer.ts). */
  importer: string;
};

/** The finished import's figures, written on the batch with its `imported` event. */
export type ImportFinish = {
  id: string;
  name: string;
  /** The report as JSON text. */
  report: string;
  sha256: string;
  contactCount: number;
  actor: string;
  /** The `imported` event's reason. */
  reason: string;
  at: number;
};

/**
 * The batches and their history (`batches`, `batch_events`): the only code that writes them.
 * Each method is one atomic unit of work owning its transaction, except the `…Within(tx)` ones,
 * which join the caller's so another workflow (an import's finish, a scheduled activation) commits
 * with it. A `within(tx)` hook runs last inside the method's transaction (webhooks, bookkeeping).
 *
 * Synchronous: every BatchService method is, and its callers (REST, Slack, the scheduler) use
 * the answers at once; better-sqlite3 transactions cannot await anyway. Only the import, already
 * asynchronous, awaits its steps (`startImport`, `finishImport`).
 */
export interface BatchStore {
  /** The batch, or null; inside `tx` when given. */
  find(id: string, tx?: Tx): BatchRow | null;
  /** Batches newest first (created_at, id), older than `olderThan` when given. */
  listNewestFirst(q: { status?: BatchStatus; olderThan?: [number, string]; limit: number }): BatchRow[];
  /** The active batch, if any. */
  findActive(): BatchRow | null;
  /** The newest finished batch (other than `exceptId`) holding a file with this SHA-256. */
  findByFile(sha256: string, exceptId: string): { id: string; name: string } | null;
  /** Ids of batches left `importing`. */
  listImporting(): { id: string; importer: string | null }[];
  /** How many of the batch's contacts are in each status (statuses with none are left out). */
  countContactsByStatus(id: string): { status: ContactStatus; count: number }[];
  /** A batch's events, oldest first. */
  listEvents(id: string): BatchEventRow[];

  /** Makes `id` the only active batch in the caller's transaction (nothing written unless `activated`). */
  activateWithin(tx: Tx, id: string, change: ActivationChange): ActivationResult;
  /** `activateWithin` in a transaction of its own; `within` runs in it once the batch is activated. */
  activate(
    id: string,
    change: ActivationChange,
    within?: (tx: Tx, done: Extract<ActivationResult, { kind: 'activated' }>) => void,
  ): ActivationResult;
  /** Deactivates the batch if it is active, with a `deactivated` event. */
  deactivate(
    id: string,
    change: { actor: string; reason: string | null; at: number },
  ): 'deactivated' | 'not_active' | 'missing';
  /**
   * An import's Undo, while `batchId` is still active: `reactivate` (the batch it replaced) runs
   * in the transaction; without one, `batchId` is deactivated with `reason`.
   */
  undoImport(
    batchId: string,
    undo: { actor: string; reason: string; at: number; reactivate?: (tx: Tx) => void },
  ): 'undone' | 'not_active' | 'missing';

  /** Inserts a new `importing` batch. */
  startImport(start: ImportStart): Promise<void>;
  /** The importing batch becomes `inactive` with its report and `imported` event; `within` runs in the same transaction. */
  finishImport(finish: ImportFinish, within?: (tx: Tx) => void): Promise<void>;

  /**
   * Deletes up to `limit` of the batch's contacts in one transaction, only while the batch is in
   * `status` (its contact count drops by as many).
   */
  deleteContacts(id: string, status: BatchStatus, limit: number): ChunkResult;
  /** Deletes the batch row (its events go with it) if it is in `status`; `within` runs in the same transaction. */
  deleteBatch(id: string, status: BatchStatus, within?: (tx: Tx) => void): void;

  /**
   * Sets whether campaigns reach the batch's contacts whose domain takes no mail, with an event
   * when it changes. Null: no such batch.
   */
  setIncludeInvalidDomains(
    id: string,
    include: boolean,
    event: { kind: string; actor: string; reason: string; at: number },
  ): { before: boolean; row: BatchRow } | null;
  /**
   * In the caller's transaction, replaces `text` (lowercase) with `replacement` in event reasons
   * (the whole reason) and import reports (each occurrence, any case); returns the rows changed.
   */
  eraseTextWithin(tx: Tx, text: string, replacement: string): { events: number; reports: number };
}
