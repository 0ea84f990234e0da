/** An inactive batch idle since `since` (ms): when it stopped being active, or was imported if it never was. */
export type IdleBatchRow = { id: string; name: string; contactCount: number; since: number };

/**
 * RETENTION_DAYS's memory (`retention_proposals`): which idle batches were proposed for deletion,
 * and when. Deleting a batch forgets its proposal with it. Each method is one atomic unit of work.
 */
export interface RetentionStore {
  /**
   * Inactive batches idle since before `cutoff` and not proposed after it (never, or at `cutoff`
   * or earlier), oldest import first.
   */
  listIdle(cutoff: number): Promise<IdleBatchRow[]>;
  /** Remembers that the batch was proposed at `at` (nothing when the batch is gone). */
  markProposed(batchId: string, at: number): Promise<void>;
}
