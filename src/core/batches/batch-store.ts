import type { ContactRowOut } from '../contacts/contact.js';
import type { BatchSource, BatchStatus, ContactStatus, ValidationResult } from '../vocabulary.js';
import type { WebhookDelivery } from '../webhooks/webhook-outbox.js';
import type { BatchRow } from './batch.js';
import type { ContactFilter } from './contact-filter.js';

export type { BatchRow } from './batch.js';
export type { ContactFilter } from './contact-filter.js';

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

export type Activated = Extract<ActivationResult, { kind: 'activated' }>;

/**
 * An activation to make inside another unit of work, with the webhook rows it commits with
 * (computed from what it found; called only once the batch is activated). When the batch cannot
 * be activated (missing, importing) the activation writes nothing.
 */
export type ActivationOrder = {
  id: string;
  change: ActivationChange;
  webhooks: (done: Activated) => WebhookDelivery[];
};

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

/** A contact of a batch as exported (every column a CSV shows, and why it is not sendable now). */
export type ContactExportRow = ContactRowOut & { validation: ValidationResult | null };

/** A page of a batch's contacts: those the filter keeps, id ascending, after `after` (an id). */
export type ContactPageQuery = { filter: ContactFilter; after?: number; limit: number };

/**
 * The batches and their history (`batches`, `batch_events`): the only code that writes them.
 * Every method is one atomic unit of work that owns its transaction. Work that must commit with
 * a change (an import's activation, the webhook rows) is handed to the method as data or as a
 * pure callback computing it from what the method read.
 */
export interface BatchStore {
  /** The batch, or null. */
  find(id: string): Promise<BatchRow | null>;
  /** Batches newest first (created_at, id), older than `olderThan` when given. */
  listNewestFirst(q: {
    status?: BatchStatus;
    olderThan?: [number, string];
    limit: number;
  }): Promise<BatchRow[]>;
  /** The active batch, if any. */
  findActive(): Promise<BatchRow | null>;
  /** The newest finished batch (other than `exceptId`) holding a file with this SHA-256. */
  findByFile(sha256: string, exceptId: string): Promise<{ id: string; name: string } | null>;
  /** Ids of batches left `importing`. */
  listImporting(): Promise<{ id: string; importer: string | null }[]>;
  /** How many of the batch's contacts are in each status (statuses with none are left out). */
  countContactsByStatus(id: string): Promise<{ status: ContactStatus; count: number }[]>;
  /** A batch's events, oldest first. */
  listEvents(id: string): Promise<BatchEventRow[]>;
  /** A page of the batch's contacts the filter keeps (for browsing, and page by page for exports). */
  listContacts(batchId: string, q: ContactPageQuery): Promise<ContactExportRow[]>;

  /**
   * Makes `order.id` the only active batch (every other is deactivated, with an event) and
   * inserts the order's webhook rows, in one transaction; nothing is written unless `activated`.
   */
  activate(order: ActivationOrder): Promise<ActivationResult>;
  /** Deactivates the batch if it is active, with a `deactivated` event. */
  deactivate(
    id: string,
    change: { actor: string; reason: string | null; at: number },
  ): Promise<'deactivated' | 'not_active' | 'missing'>;
  /**
   * An import's Undo, while `batchId` is still active, in one transaction: `reactivate` (the
   * batch it replaced) is activated; without one, `batchId` is deactivated with `reason`. When the
   * batch to reactivate cannot be (missing, importing) nothing is written and `reactivated` says why.
   */
  undoImport(
    batchId: string,
    undo: { actor: string; reason: string; at: number; reactivate?: ActivationOrder },
  ): Promise<{ kind: 'undone'; reactivated: ActivationResult | null } | { kind: 'not_active' | 'missing' }>;

  /** Inserts a new `importing` batch. */
  startImport(start: ImportStart): Promise<void>;
  /**
   * The importing batch becomes `inactive` with its report and `imported` event, then (with
   * `activate`) the active one, and the webhook rows computed from that activation's result
   * (null without one) are inserted: all in one transaction. Returns the activation's result.
   */
  finishImport(
    finish: ImportFinish,
    then: {
      activate?: ActivationChange;
      webhooks: (activated: ActivationResult | null) => WebhookDelivery[];
    },
  ): Promise<ActivationResult | null>;

  /**
   * Deletes up to `limit` of the batch's contacts in one transaction, only while the batch is in
   * `status` (its contact count drops by as many).
   */
  deleteContacts(id: string, status: BatchStatus, limit: number): Promise<ChunkResult>;
  /** Deletes the batch row if it is in `status`; its events, schedules and retention proposal go with it. */
  deleteBatch(id: string, status: BatchStatus): Promise<void>;

  /**
   * Sets whether campaigns reach the batch's contacts whose domain takes no mail, with an event
   * when it changes. Null: no such batch.
   */
  setIncludeInvalidDomains(
    id: string,
    include: boolean,
    event: { kind: string; actor: string; reason: string; at: number },
  ): Promise<{ before: boolean; row: BatchRow } | null>;
}
