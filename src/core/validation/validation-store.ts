import type { Actor, ValidationResult } from '../types.js';

/** The batch as validation sees it. */
export type ValidationBatch = {
  id: string;
  status: string;
  contactCount: number;
  includeInvalidDomains: boolean;
};

/** A run under way, as stored: its cursor lets a restart continue it. */
export type RunState = {
  id: string;
  batchId: string;
  actor: Actor;
  startedAt: number;
  /** Every contact of the batch with an id up to this one has been checked by this run. */
  afterId: number;
  checked: number;
};

/**
 * Verdict counts of a batch, updated in each chunk's transaction. `contactCount` is the batch's
 * count they were taken at: deleting a contact lowers the batch's count, and the next read recounts.
 */
export type StoredCounts = Record<ValidationResult, number> & {
  contactCount: number;
  /** When the last complete run finished. */
  finishedAt: number | null;
};

/** The last run of a batch stopped because DNS lookups were failing. */
export type StoredFailure = {
  runId: string;
  status: 'dns_unavailable';
  message: string;
  at: number;
  checked: number;
};

/** A contact to check: its id and address. */
export type ChunkRow = { id: number; email: string };

export type StartOutcome =
  | { kind: 'not_found' }
  | { kind: 'importing'; batch: ValidationBatch }
  | { kind: 'started' | 'running'; run: RunState; batch: ValidationBatch };

/**
 * Where validation keeps its runs, counts and verdicts. Each method is one atomic unit of work
 * that owns its transaction.
 */
export interface ValidationStore {
  /** The batch, or undefined when there is none. */
  getBatch(batchId: string): Promise<ValidationBatch | undefined>;
  /** The batch's run under way, if any. */
  getRun(batchId: string): Promise<RunState | null>;
  /** The batch's counts as stored (null: no contact was ever validated). */
  getCounts(batchId: string): Promise<StoredCounts | null>;
  /** The batch's last run, when it stopped as dns_unavailable (null once a run starts again). */
  getFailure(batchId: string): Promise<StoredFailure | null>;
  /**
   * Batches with a run under way that nobody carries on: all of them on SQLite (one process); on
   * Postgres those whose instance is no longer alive (or none is named).
   */
  listRunning(): Promise<string[]>;

  /** Recounts the verdicts of a batch and stores them (its count changed); null when it is gone. */
  recount(batchId: string): Promise<StoredCounts | null>;

  /** Starts a run unless one is under way (then returns it); refuses a missing or importing batch. */
  startRun(batchId: string, runId: string, actor: Actor, at: number): Promise<StartOutcome>;
  /** The next contacts of a batch after `afterId`, by id. */
  readChunk(batchId: string, afterId: number, limit: number): Promise<ChunkRow[]>;
  /**
   * Writes one chunk's verdicts, the counts and the run's cursor in one transaction; false when
   * the run is no longer the batch's current one (finished, stopped, or the batch deleted).
   */
  commitChunk(run: RunState, rows: ChunkRow[], verdicts: ValidationResult[], at: number): Promise<boolean>;
  /** Ends the run as finished and stamps the counts; false when it is no longer current. */
  finishRun(run: RunState, at: number): Promise<boolean>;
  /**
   * Records that DNS failed: ending `runId`'s run where it got to, or (null) before any run, under
   * `newRunId`. `describe` words the message from the progress. Null when another run is current
   * meanwhile or the batch is gone (nothing recorded).
   */
  recordFailure(
    batchId: string,
    runId: string | null,
    newRunId: string,
    at: number,
    describe: (progress: { checked: number; total: number }) => string,
  ): Promise<StoredFailure | null>;
}
