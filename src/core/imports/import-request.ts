import type { Batch, ImportReport } from '../batches/batch.js';
import type { Actor, BatchSource } from '../types.js';
import type { ByteSource } from './table.js';

/** What an import is asked to do, and what it answers. */

export type ImportOptions = {
  /** Batch name; defaults to the file name. */
  name?: string;
  /** Make the new batch the active one (default true). */
  activate?: boolean;
  /** Import even when a batch already holds a file with the same SHA-256. */
  force?: boolean;
};

/** Sizes and waits: IMPORT_MAX_BYTES, the size parsed on the calling thread, IMPORT_IDLE_TIMEOUT, IMPORT_QUEUE_TIMEOUT. */
export type ImportLimits = {
  maxBytes: number;
  inlineMaxBytes?: number;
  idleTimeoutMs?: number;
  queueTimeoutMs?: number;
};

/** Where a queued import stands: imports running now, and imports queued ahead of it. */
export type QueuePosition = { running: number; ahead: number };

export type ImportRequest = {
  /**
   * The file's bytes, or a function that opens them once an import slot is free (a download that
   * should not start, and time out, while it waits). A Node stream is read with the idle limit
   * (IMPORT_IDLE_TIMEOUT: upload_timeout when it sends nothing that long) and destroyed if the
   * import stops early.
   */
  source: ByteSource | (() => Promise<ByteSource>);
  fileName: string;
  origin: BatchSource;
  actor: Actor;
  /** Options may arrive after the file starts (multipart fields after the file part): awaited at the end. */
  options?: ImportOptions | Promise<ImportOptions>;
  onProgress?: (p: { rows: number; imported: number; bytes: number }) => void;
  /** Called once when every import slot is busy and this import has to wait for one. */
  onQueued?: (q: QueuePosition) => void;
  /**
   * Give up after IMPORT_QUEUE_TIMEOUT in the queue (import_busy), for a caller holding an HTTP
   * request; otherwise the import waits as long as it takes.
   */
  boundedWait?: boolean;
};

export type ImportResult = { kind: 'imported'; batch: Batch; report: ImportReport; replaced: Batch | null };
