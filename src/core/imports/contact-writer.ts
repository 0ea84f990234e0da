import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { DomainMatcher } from '../suppression/domain-suppression-service.js';
import {
  type ChunkWritten,
  type ContactImportStore,
  hashBytes,
  type ImportPart,
  type WriteCounts,
} from './contact-import-store.js';

export type { WriteCounts } from './contact-import-store.js';

/**
 * Rows per store call (one transaction). A transaction runs on the event loop from start to
 * commit, so this bounds how long one holds every request up (10–15 ms at a million contacts on
 * 2 cores); larger ones gain little once each statement inserts 100 rows.
 */
export const rowsPerTransaction = 1000;

/** Whole-domain suppression rules as a per-row test (the store reads the rules in each chunk's transaction). */
const domainRules = (patterns: string[]) => {
  const matcher = new DomainMatcher(patterns);
  return (email: string) => matcher.matches(email);
};

/** `parts` cut into runs of at most `size` rows (a part may be split across two runs). */
export function* slices(parts: ImportPart[], size: number): Generator<ImportPart[]> {
  let run: ImportPart[] = [];
  let runRows = 0;
  for (const part of parts) {
    for (let at = 0; at < part.rows.length; ) {
      const take = Math.min(size - runRows, part.rows.length - at);
      run.push(
        take === part.rows.length
          ? part
          : {
              rows: part.rows.slice(at, at + take),
              hashes: part.hashes.subarray(at * hashBytes, (at + take) * hashBytes),
            },
      );
      at += take;
      runRows += take;
      if (runRows === size) {
        yield run;
        run = [];
        runRows = 0;
      }
    }
  }
  if (runRows > 0) yield run;
}

/**
 * Writes validated rows into an importing batch through the store, at most rowsPerTransaction
 * rows per call (one transaction), yielding to the event loop before each call, and adds what each
 * call did to the import's report: suppressed addresses (by hash or whole domain) left out, new
 * ones inserted, the rest repeated in the file or held by another batch (`holders`, by batch id,
 * kept only while the import has added nobody: all the no_new_contacts refusal needs).
 */
export class ContactWriter {
  /** Rows per store call: the store's own size if it names one. */
  readonly rowsPerCall: number;
  /** Store calls one import keeps under way at once: the store's own number if it names one. */
  readonly callsInFlight: number;

  constructor(
    private readonly store: ContactImportStore,
    rowsPerCall?: number,
  ) {
    this.rowsPerCall = rowsPerCall ?? store.rowsPerCall ?? rowsPerTransaction;
    this.callsInFlight = Math.max(1, store.chunksInFlight ?? 1);
  }

  /** One import's writes, chunk after chunk of the file, into `report` and `holders`. */
  open(batchId: string, report: WriteCounts, holders: Map<string, number>): ImportWrites {
    return new ImportWrites(this, this.store, batchId, report, holders);
  }
}

/**
 * The writes of one import. A store that works on chunks at once (a database server: the next
 * chunk's lookups run while this one's rows go in) keeps up to its chunksInFlight calls under way,
 * started in file order and counted in that order; finish() waits for the last of them. A call
 * that fails fails the import, once every other call under way has ended, so nothing is written
 * into the batch after the error comes back (the import then discards it).
 */
export class ImportWrites {
  private readonly running: Promise<ChunkWritten>[] = [];
  /** Rows short of a whole call, kept for the next write (or finish). */
  private carried: ImportPart[] = [];
  private carriedRows = 0;
  private now = 0;

  constructor(
    private readonly writer: ContactWriter,
    private readonly store: ContactImportStore,
    private readonly batchId: string,
    private readonly report: WriteCounts,
    private readonly holders: Map<string, number>,
  ) {}

  /**
   * Hands the next stretch of the file to the store, a call per rowsPerCall rows (the rows short
   * of a whole call wait for the next stretch); returns once at most callsInFlight − 1 calls are
   * still under way (none for a store that takes one at a time).
   */
  async write(parts: ImportPart[], now: number): Promise<void> {
    this.now = now;
    for (const part of parts) {
      this.carried.push(part);
      this.carriedRows += part.rows.length;
    }
    const { rowsPerCall } = this.writer;
    if (this.carriedRows < rowsPerCall) return;
    const runs = [...slices(this.carried, rowsPerCall)];
    const short = this.carriedRows % rowsPerCall;
    this.carried = short > 0 ? runs.pop()! : [];
    this.carriedRows = short;
    await this.call(runs);
  }

  /** Writes the rows still carried, waits for every call under way and counts them; throws the first one's error. */
  async finish(): Promise<void> {
    const last = this.carried;
    this.carried = [];
    this.carriedRows = 0;
    if (last.length > 0) await this.call([last]);
    while (this.running.length > 0) await this.countOldest();
  }

  /** Writes nothing more and waits for the calls under way to end (the import failed). */
  async abandon(): Promise<void> {
    this.carried = [];
    this.carriedRows = 0;
    await Promise.allSettled(this.running.splice(0));
  }

  private async call(runs: ImportPart[][]): Promise<void> {
    const { callsInFlight } = this.writer;
    for (const run of runs) {
      while (this.running.length >= callsInFlight) await this.countOldest();
      // A turn of the event loop before every transaction, the first one too: write() is called
      // as a chunk arrives from the parse worker (the poll phase), and a transaction run straight
      // from there ran back to back with the next one (setImmediate lands in the check phase of
      // the same turn, before timers and I/O): a block of two transactions, 43–74 ms at 1M rows.
      await yieldToLoop();
      const call = this.store.writeChunk({
        batchId: this.batchId,
        parts: run,
        now: this.now,
        domainRules,
        // Who holds the existing addresses matters only if the file adds nobody (the refusal
        // names them): asked for until the first contact is imported, as far as the calls
        // counted so far tell (countOldest keeps them only while nothing was imported before).
        holders: this.report.imported === 0,
      });
      call.catch(() => {}); // its error is thrown where it is counted
      this.running.push(call);
    }
    while (this.running.length >= callsInFlight) await this.countOldest();
  }

  private async countOldest(): Promise<void> {
    const call = this.running.shift()!;
    let written: ChunkWritten;
    try {
      written = await call;
    } catch (e) {
      await this.abandon();
      throw e;
    }
    const { report, holders } = this;
    // Holders count while nothing was imported before this call, as when each call waited for
    // the last: a call started with another under way may have been asked for them too early.
    if (report.imported === 0)
      for (const [id, n] of written.holders) holders.set(id, (holders.get(id) ?? 0) + n);
    report.imported += written.imported;
    report.duplicateInFile += written.duplicateInFile;
    report.existing += written.existing;
    report.suppressed += written.suppressed;
  }
}
