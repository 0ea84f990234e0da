import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { DomainMatcher } from '../suppression/domain-suppression-service.js';
import {
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

  constructor(
    private readonly store: ContactImportStore,
    rowsPerCall?: number,
  ) {
    this.rowsPerCall = rowsPerCall ?? store.rowsPerCall ?? rowsPerTransaction;
  }

  /**
   * Writes one chunk of the file and adds its counts to `report` and, while nothing is imported
   * yet, the batches holding its existing addresses to `holders`.
   */
  async write(
    batchId: string,
    parts: ImportPart[],
    report: WriteCounts,
    holders: Map<string, number>,
    now: number,
  ): Promise<void> {
    for (const run of slices(parts, this.rowsPerCall)) {
      // A turn of the event loop before every transaction, the first one too: write() is called
      // as a chunk arrives from the parse worker (the poll phase), and a transaction run straight
      // from there ran back to back with the next one (setImmediate lands in the check phase of
      // the same turn, before timers and I/O): a block of two transactions, 43–74 ms at 1M rows.
      await yieldToLoop();
      const written = await this.store.writeChunk({
        batchId,
        parts: run,
        now,
        domainRules,
        // Who holds the existing addresses matters only if the file adds nobody (the refusal
        // names them): asked for until the first contact is imported.
        holders: report.imported === 0,
      });
      report.imported += written.imported;
      report.duplicateInFile += written.duplicateInFile;
      report.existing += written.existing;
      report.suppressed += written.suppressed;
      for (const [id, n] of written.holders) holders.set(id, (holders.get(id) ?? 0) + n);
    }
  }
}
