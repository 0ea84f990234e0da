import { Readable } from 'node:stream';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { DomainError, storageError } from '../../errors.js';
import type { ImportReport } from '../batches/batch.js';
import type { BatchService } from '../batches/batch-service.js';
import type { CoreDeps } from '../types.js';
import { idleLimited } from './byte-source.js';
import { type ContactStream, maxReportedErrors } from './contact-chunks.js';
import type { ContactImportStore, ImportPart } from './contact-import-store.js';
import { openContactStream } from './contact-stream.js';
import { ContactWriter } from './contact-writer.js';
import { Lane } from './import-lane.js';
import { noNewContacts, noValidRows } from './import-refusals.js';
import type { ImportLimits, ImportOptions, ImportRequest, ImportResult } from './import-request.js';
import { importerMayBeAlive, newImporter } from './importer.js';
import { type ParseWorkers, sharedParseWorkers } from './parse-workers.js';

export type {
  ImportLimits,
  ImportOptions,
  ImportRequest,
  ImportResult,
  QueuePosition,
} from './import-request.js';

type Counters = Omit<ImportReport, 'durationMs'>;

const chunkRows = 2000; // rows gathered before a write (at least one store call's worth)

/** What an import asks of the batches' owner. */
type ImportBatches = Pick<
  BatchService,
  'startImport' | 'finishImport' | 'discardImport' | 'findByFile' | 'listImporting' | 'removeImporting'
>;

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

export class ImportService {
  private readonly log;
  private readonly lane = new Lane(concurrentImports);
  /** This service's name on the batches it fills, so other processes' sweeps leave them alone. */
  private readonly importer = newImporter();
  private readonly writer: ContactWriter;

  constructor(
    private readonly deps: Pick<CoreDeps, 'log' | 'clock'>,
    private readonly limits: ImportLimits,
    /** Where the rows go, one chunk per call. */
    store: ContactImportStore,
    /** The batches' owner: it creates, finishes (and activates) or discards the import's batch. */
    private readonly batches: ImportBatches,
    /** The parse worker threads: by default the process's one set, started on the first large file and kept. */
    readonly parseWorkers: ParseWorkers = sharedParseWorkers,
  ) {
    this.log = deps.log.child({ module: 'imports' });
    this.writer = new ContactWriter(store);
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
      const stream = await openContactStream(source, { ...this.limits, workers: this.parseWorkers });
      try {
        return await this.importStream(req, stream, started);
      } finally {
        await stream.close();
      }
    } finally {
      this.lane.release();
    }
  }

  /** Ends the parse worker threads (the app's and the CLI's stop); an import still being read in one fails. */
  async stop(): Promise<void> {
    await this.parseWorkers.stop();
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
    const batchId = await this.batches.startImport({
      name: req.fileName,
      origin: req.origin,
      actor: req.actor,
      importer: this.importer,
    });
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
      await this.refuseUnlessUseful(batchId, sha256, options, report, counters.holders);
      const { batch, replaced } = await this.batches.finishImport({
        id: batchId,
        name: options.name?.trim() || req.fileName,
        origin: req.origin,
        actor: req.actor,
        report,
        sha256,
        activate: options.activate ?? true,
      });
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
        await this.batches.discardImport(batchId);
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
    let pending: ImportPart[] = [];
    let pendingRows = 0;
    const flushAt = Math.max(chunkRows, this.writer.rowsPerCall);
    const writes = this.writer.open(batchId, report, holders);
    const flush = async () => {
      await writes.write(pending, this.deps.clock.now());
      pending = [];
      pendingRows = 0;
      onProgress?.({ rows: report.rows, imported: report.imported, bytes: stream.bytesRead() });
      await yieldToLoop();
    };
    try {
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
        if (pendingRows >= flushAt) await flush();
      }
      if (pendingRows > 0) await flush();
    } catch (e) {
      await writes.abandon(); // nothing still writing when the batch is discarded
      throw e;
    }
    await writes.finish();
    return { report, holders };
  }

  /** Throws (and so discards the batch) when the file repeats one already imported or adds nobody. */
  private async refuseUnlessUseful(
    batchId: string,
    sha256: string,
    options: ImportOptions,
    report: ImportReport,
    holders: Map<string, number>,
  ): Promise<void> {
    const same = await this.batches.findByFile(sha256, batchId);
    if (same && !options.force) {
      throw new DomainError(
        'duplicate_file',
        `This exact file was already imported as batch ${same.id} (${same.name}). ` +
          'Activate that batch, or send it again with force=true to import it anyway.',
        { batchId: same.id },
      );
    }
    const refused = noValidRows(report) ?? noNewContacts(report, holders);
    if (refused) throw refused;
  }

  /**
   * Removes batches left `importing` by a crash; run once at start, before serving. An import
   * another live process is still filling (the app while `npm run import` starts, or the reverse)
   * is left alone. A batch that cannot be removed now (a full disk: deleting needs room in the WAL)
   * stays `importing`, which no list activates and no campaign reaches, and is removed at a later start.
   */
  async sweepInterrupted(): Promise<string[]> {
    const removed: string[] = [];
    for (const { id, importer } of await this.batches.listImporting()) {
      if (importerMayBeAlive(importer, this.importer)) {
        this.log.info({ batchId: id }, 'import under way in another process: left alone');
        continue;
      }
      try {
        await this.batches.removeImporting(id);
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
