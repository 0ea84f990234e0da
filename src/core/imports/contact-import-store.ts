import type { ContactRow } from './rows.js';

export type { ContactRow } from './rows.js';

/** Bytes of one row's emailHash (SHA-256) in ImportPart.hashes. */
export const hashBytes = 32;

/** Validated rows of a stretch of the file with their hashes (`hashBytes` each, in row order). */
export type ImportPart = { rows: ContactRow[]; hashes: Uint8Array };

/**
 * Which addresses the whole-domain suppression rules cover, built from the rules the store read
 * in the chunk's transaction; null when there are none (nothing to test per row).
 */
export type DomainRules = (patterns: string[]) => ((email: string) => boolean) | null;

/** What writing one chunk adds to an import report. */
export type WriteCounts = { imported: number; duplicateInFile: number; existing: number; suppressed: number };

export type ChunkWritten = WriteCounts & {
  /**
   * Addresses already held by another batch, by that batch's id: only when asked for (`holders`),
   * since finding a holder's batch reads its row; `existing` counts them either way.
   */
  holders: Map<string, number>;
};

/** What a chunk has written before it is counted: nothing yet. */
export const noneWritten = (): ChunkWritten => ({
  imported: 0,
  duplicateInFile: 0,
  existing: 0,
  suppressed: 0,
  holders: new Map(),
});

/**
 * Counts one row that is not suppressed by who holds its address (`holderOf`: by address, the
 * batch's id, another batch's, or '' for another batch not named): nobody (true: the row is to be
 * inserted, and a later row with the address repeats it), this batch (repeated in the file) or
 * another (existing, and named in `out.holders` when known). The same rule in every store.
 */
export function countHeld(
  holderOf: Map<string, string>,
  email: string,
  batchId: string,
  out: ChunkWritten,
): boolean {
  const holder = holderOf.get(email);
  if (holder === undefined) {
    holderOf.set(email, batchId);
    return true;
  }
  if (holder === batchId) {
    out.duplicateInFile++;
  } else {
    out.existing++;
    if (holder) out.holders.set(holder, (out.holders.get(holder) ?? 0) + 1);
  }
  return false;
}

/** One chunk of an import to write: its rows, in one transaction. */
export type ImportChunk = {
  batchId: string;
  parts: ImportPart[];
  now: number;
  domainRules: DomainRules;
  /**
   * Whether to tell which batches hold the existing addresses (ChunkWritten.holders). The import
   * needs them only to refuse a file that adds nobody, so it asks while nothing is imported yet.
   */
  holders: boolean;
};

/**
 * Where an import writes its rows. The import's hot path: one call (one transaction, its rows
 * inserted many to a statement) per chunk of at most ContactWriter's rowsPerTransaction rows,
 * never one per row.
 */
export interface ContactImportStore {
  /**
   * Rows per call this store works best with, when not ContactWriter's rowsPerTransaction: a
   * store whose transaction runs off the event loop (a database server) gains from larger ones.
   */
  readonly rowsPerCall?: number;
  /**
   * Calls of one import this store takes at once (1 when unnamed): a store whose next chunk can
   * be looked up while the last one's rows go in is handed the next call before the last returns.
   * Calls come in file order, and each must count its rows as if every earlier call had finished.
   */
  readonly chunksInFlight?: number;
  /**
   * Writes one chunk into the importing batch in one transaction: suppressed addresses (by hash,
   * or by a domain rule) left out, new addresses inserted, the rest counted as repeated in the
   * file (held by this batch) or existing (held by another). Addresses are looked up a chunk at
   * a time, never one query per row.
   */
  writeChunk(chunk: ImportChunk): Promise<ChunkWritten>;
}
