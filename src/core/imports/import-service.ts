import { Readable } from 'node:stream';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { eq } from 'drizzle-orm';
import type { BatchSource } from '../../db/schema.js';
import { batches } from '../../db/schema.js';
import { DomainError, storageError } from '../../errors.js';
import { type Batch, type ImportReport, toBatch } from '../batches/batch.js';
import { newBatchId } from '../batches/batch-service.js';
import type { Actor, CoreDeps } from '../types.js';
import { idleLimited } from './byte-source.js';
import { type ContactStream, maxReportedErrors } from './contact-chunks.js';
import { openContactStream } from './contact-stream.js';
import { ContactWriter } from './contact-writer.js';
import type { ContactRow } from './rows.js';
import type { ByteSource } from './table.js';

export type ImportOptions = {
  /** Batch name; defaults to the file name. */
  name?: string;
  /** Make the new batch the active one (default true). */
  activate?: boolean;
  /** Import even when a batch already holds a file with the same SHA-256. */
  force?: boolean;
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

type Counters = Omit<ImportReport, 'durationMs'>;

const chunkRows = 2000;
const deleteChunk = 5000;

/**
 * Imports running at once; later ones wait their turn (their uploads wait in the socket; a REST
 * one at most IMPORT_QUEUE_TIMEOUT, a Slack one, whose download waits unstarted, as long as it
 * takes), and a stalled upload gives its slot up after IMPORT_IDLE_TIMEOUT. Twenty
 * imports interleaving on the event loop would each add a chunk of work to every turn of it, and
 * requests (Slack must be answered within 3 s) would wait behind all of them.
 */
export const concurrentImports = 2;

/** Default IMPORT_IDLE_TIMEOUT and IMPORT_QUEUE_TIMEOUT (config sets both). */
const defaultIdleTimeoutMs = 30_000;
const defaultQueueTimeoutMs = 60_000;

/** A FIFO counting semaphore whose waiters may give up. */
class Lane {
  private free: number;
  private readonly waiting: (() => void)[] = [];
  constructor(private readonly size: number) {
    this.free = size;
  }
  /** Null when a slot is free now, else where the caller would stand in the queue. */
  position(): QueuePosition | null {
    return this.free > 0 ? null : { running: this.size - this.free, ahead: this.waiting.length };
  }
  /** Resolves true with a slot, or false once `timeoutMs` passed without one (then it holds none). */
  acquire(timeoutMs?: number): Promise<boolean> {
    if (this.free > 0) {
      this.free--;
      return Promise.resolve(true);
    }
    return new Promise((resolve) => {
      const granted = () => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer =
        timeoutMs === undefined
          ? undefined
          : setTimeout(() => {
              const at = this.waiting.indexOf(granted);
              if (at >= 0) this.waiting.splice(at, 1);
              resolve(false);
            }, timeoutMs);
      this.waiting.push(granted);
    });
  }
  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.free++;
  }
}

export class ImportService {
  private readonly log;
  private readonly lane = new Lane(concurrentImports);
  private readonly sqlite;
  private readonly stmts;
  private readonly writer;

  constructor(
    private readonly deps: CoreDeps,
    private readonly limits: {
      maxBytes: number;
      inlineMaxBytes?: number;
      idleTimeoutMs?: number;
      queueTimeoutMs?: number;
    },
  ) {
    this.log = deps.log.child({ module: 'imports' });
    this.sqlite = deps.db.$client;
    this.writer = new ContactWriter(this.sqlite);
    const s = this.sqlite;
    this.stmts = {
      createBatch: s.prepare(
        `INSERT INTO batches (id, name, source, status, created_by, created_at) VALUES (?, ?, ?, 'importing', ?, ?)`,
      ),
      sameFile: s.prepare<[string, string], { id: string; name: string }>(
        `SELECT id, name FROM batches WHERE file_sha256 = ? AND status != 'importing' AND id != ? ORDER BY created_at DESC LIMIT 1`,
      ),
      activeBatch: s.prepare<[], { id: string }>(`SELECT id FROM batches WHERE status = 'active'`),
      deactivateAll: s.prepare(
        `UPDATE batches SET status = 'inactive', deactivated_at = ? WHERE status = 'active'`,
      ),
      finalize: s.prepare(
        `UPDATE batches SET status = ?, name = ?, activated_at = ?, report = ?, file_sha256 = ?, contact_count = ?,
           replaced_batch_id = ? WHERE id = ?`,
      ),
      event: s.prepare(`INSERT INTO batch_events (batch_id, kind, actor, reason, at) VALUES (?, ?, ?, ?, ?)`),
      deleteSomeContacts: s.prepare(
        `DELETE FROM contacts WHERE id IN (SELECT id FROM contacts WHERE batch_id = ? LIMIT ${deleteChunk})`,
      ),
      deleteBatch: s.prepare(`DELETE FROM batches WHERE id = ?`),
      importingBatches: s.prepare<[], { id: string }>(`SELECT id FROM batches WHERE status = 'importing'`),
    };
  }

  /** Imports one CSV as a new batch: all or nothing; the report counts every row. */
  async importFile(req: ImportRequest): Promise<ImportResult> {
    await this.waitForSlot(req);
    const started = performance.now();
    try {
      const opened = typeof req.source === 'function' ? await req.source() : req.source;
      const source =
        opened instanceof Readable
          ? idleLimited(opened, this.limits.idleTimeoutMs ?? defaultIdleTimeoutMs)
          : opened;
      const stream = await openContactStream(source, this.limits);
      try {
        return await this.importStream(req, stream, started);
      } finally {
        await stream.close();
      }
    } finally {
      this.lane.release();
    }
  }

  /** Takes an import slot, telling the caller when it has to queue; bounded waits give up with import_busy. */
  private async waitForSlot(req: ImportRequest): Promise<void> {
    const queued = this.lane.position();
    if (queued) {
      this.log.info({ origin: req.origin, ...queued }, 'import queued: every import slot is busy');
      req.onQueued?.(queued);
    }
    const timeoutMs = req.boundedWait ? (this.limits.queueTimeoutMs ?? defaultQueueTimeoutMs) : undefined;
    if (await this.lane.acquire(timeoutMs)) return;
    const seconds = Math.max(1, Math.ceil((timeoutMs ?? 0) / 1000));
    this.log.warn({ origin: req.origin, waitedMs: timeoutMs }, 'import refused: no import slot came free');
    throw new DomainError(
      'import_busy',
      `${concurrentImports} imports are running and none finished within ${seconds} s, so this one was not started ` +
        `and nothing was saved. Send the file again in ${seconds} s.`,
      { retryAfterSeconds: seconds },
    );
  }

  private async importStream(
    req: ImportRequest,
    stream: ContactStream,
    started: number,
  ): Promise<ImportResult> {
    const now = this.deps.clock.now();
    const batchId = newBatchId(now);
    this.stmts.createBatch.run(batchId, req.fileName, req.origin, req.actor, now);
    this.log.info(
      {
        batchId,
        origin: req.origin,
        actor: req.actor,
        encoding: stream.encoding,
        delimiter: stream.delimiter,
      },
      'import started',
    );
    try {
      const counters = await this.writeRows(batchId, stream, req.onProgress);
      const options = (await req.options) ?? {};
      const sha256 = stream.sha256();
      const report: ImportReport = {
        ...counters.report,
        durationMs: Math.round(performance.now() - started),
      };
      this.refuseUnlessUseful(batchId, sha256, options, report, counters.holders);
      const { batch, replaced } = this.finalize(batchId, req, options, report, sha256);
      this.log.info(
        {
          batchId,
          rows: report.rows,
          imported: report.imported,
          durationMs: report.durationMs,
          replaced: replaced?.id,
        },
        'import finished',
      );
      return { kind: 'imported', batch, report, replaced };
    } catch (thrown) {
      const e = storageError(thrown) ?? thrown;
      try {
        await this.discard(batchId);
        this.log.warn(
          { batchId, code: e instanceof DomainError ? e.code : 'internal' },
          'import failed, batch discarded',
        );
      } catch (discardError) {
        // Left `importing` (never listed, never mailed): the start-up sweep removes it.
        this.log.error(
          { batchId, err: discardError, code: e instanceof DomainError ? e.code : 'internal' },
          'import failed and its batch could not be discarded now; it is removed at the next start',
        );
      }
      throw e;
    }
  }

  private async writeRows(
    batchId: string,
    stream: ContactStream,
    onProgress: ImportRequest['onProgress'],
  ): Promise<{ report: Counters; holders: Map<string, number> }> {
    const report: Counters = {
      rows: 0,
      imported: 0,
      invalid: 0,
      duplicateInFile: 0,
      existing: 0,
      suppressed: 0,
      errors: [],
    };
    const holders = new Map<string, number>();
    let pending: { rows: ContactRow[]; hashes: Uint8Array }[] = [];
    let pendingRows = 0;
    const flush = async () => {
      this.writer.write(batchId, pending, report, holders, this.deps.clock.now());
      pending = [];
      pendingRows = 0;
      onProgress?.({ rows: report.rows, imported: report.imported, bytes: stream.bytesRead() });
      await yieldToLoop();
    };
    for await (const chunk of stream.chunks) {
      report.rows += chunk.records;
      report.invalid += chunk.invalid;
      for (const error of chunk.errors) {
        if (report.errors.length < maxReportedErrors) report.errors.push(error);
      }
      if (chunk.rows.length > 0) {
        pending.push(chunk);
        pendingRows += chunk.rows.length;
      }
      if (pendingRows >= chunkRows) await flush();
    }
    if (pendingRows > 0) await flush();
    return { report, holders };
  }

  /** Throws (and so discards the batch) when the file repeats one already imported or adds nobody. */
  private refuseUnlessUseful(
    batchId: string,
    sha256: string,
    options: ImportOptions,
    report: ImportReport,
    holders: Map<string, number>,
  ): void {
    const same = this.stmts.sameFile.get(sha256, batchId);
    if (same && !options.force) {
      throw new DomainError(
        'duplicate_file',
        `This exact file was already imported as batch ${same.id} (${same.name}). ` +
          'Activate that batch, or send it again with force=true to import it anyway.',
        { batchId: same.id },
      );
    }
    const valid = report.rows - report.invalid;
    if (valid === 0) {
      const firstError = report.errors[0];
      throw new DomainError(
        'no_valid_rows',
        report.rows === 0
          ? 'The file has a header but no contact rows.'
          : `None of the ${report.rows} rows has a valid e-mail address` +
              (firstError ? ` (line ${firstError.line}: ${firstError.reason})` : '') +
              '. Check that the e-mail column holds addresses.',
        { rows: report.rows, errors: report.errors.slice(0, 10) },
      );
    }
    if (report.imported === 0) {
      const where = [...holders.entries()]
        .sort((a, b) => b[1] - a[1])
        .slice(0, 5)
        .map(([id, n]) => `${n} in ${id}`);
      if (report.suppressed > 0)
        where.push(`${report.suppressed} suppressed (bounced, unsubscribed or deleted)`);
      if (report.duplicateInFile > 0) where.push(`${report.duplicateInFile} repeated in the file`);
      throw new DomainError(
        'no_new_contacts',
        `No new contacts: every valid address is already known (${where.join(', ')}). ` +
          'Activate the batch that holds them instead.',
        { existingByBatch: Object.fromEntries(holders), suppressed: report.suppressed },
      );
    }
  }

  /** Turns the importing batch into a finished one, activating it unless asked not to. */
  private finalize(
    batchId: string,
    req: ImportRequest,
    options: ImportOptions,
    report: ImportReport,
    sha256: string,
  ): { batch: Batch; replaced: Batch | null } {
    const now = this.deps.clock.now();
    const activate = options.activate ?? true;
    const s = this.stmts;
    let replacedId: string | null = null;
    this.sqlite.transaction(() => {
      const current = s.activeBatch.get()?.id ?? null;
      if (activate && current) {
        replacedId = current;
        s.deactivateAll.run(now);
        s.event.run(current, 'deactivated', req.actor, `replaced by import ${batchId}`, now);
      }
      s.finalize.run(
        activate ? 'active' : 'inactive',
        options.name?.trim() || req.fileName,
        activate ? now : null,
        JSON.stringify(report),
        sha256,
        report.imported,
        activate ? current : null,
        batchId,
      );
      s.event.run(batchId, 'imported', req.actor, `${report.imported} contacts from ${req.origin}`, now);
      if (activate) s.event.run(batchId, 'activated', req.actor, 'new import', now);
      const name = options.name?.trim() || req.fileName;
      this.deps.webhooks?.record(
        this.deps.db,
        'batch.imported',
        {
          batchId,
          name,
          origin: req.origin,
          rows: report.rows,
          imported: report.imported,
          activated: activate,
        },
        now,
      );
      if (activate) {
        const data = { batchId, name, previousBatchId: current, reason: 'import' };
        this.deps.webhooks?.record(this.deps.db, 'batch.activated', data, now);
      }
    })();
    const read = (id: string) =>
      toBatch(this.deps.db.select().from(batches).where(eq(batches.id, id)).get()!);
    return { batch: read(batchId), replaced: replacedId ? read(replacedId) : null };
  }

  /** Removes an unfinished batch and its contacts in small steps, so the event loop keeps running. */
  private async discard(batchId: string): Promise<void> {
    while (this.stmts.deleteSomeContacts.run(batchId).changes > 0) await yieldToLoop();
    this.stmts.deleteBatch.run(batchId);
  }

  /**
   * Removes batches left `importing` by a crash; run once at start, before serving. A batch that
   * cannot be removed now (a full disk: deleting needs room in the WAL) stays `importing`, which
   * no list activates and no campaign reaches, and is removed at a later start.
   */
  sweepInterrupted(): string[] {
    const ids = this.stmts.importingBatches.all().map((r) => r.id);
    const removed: string[] = [];
    for (const id of ids) {
      try {
        this.sqlite.transaction(() => {
          while (this.stmts.deleteSomeContacts.run(id).changes > 0);
          this.stmts.deleteBatch.run(id);
        })();
      } catch (e) {
        const storage = storageError(e);
        if (!storage) throw e;
        this.log.error(
          { batchId: id, code: storage.code },
          'interrupted import not removed now; retried at the next start',
        );
        continue;
      }
      removed.push(id);
      this.log.warn({ batchId: id }, 'interrupted import removed');
    }
    return removed;
  }
}
