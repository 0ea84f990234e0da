import type { Actor, CoreDeps } from '../types.js';
import { toIso } from '../types.js';
import type { BatchService } from './batch-service.js';
import type { RetentionStore } from './retention-store.js';

const dayMs = 86_400_000;

/** An inactive batch older than the retention period, proposed to people for deletion. */
export type RetentionProposal = {
  batchId: string;
  name: string;
  contactCount: number;
  /** When it stopped being active (or was imported, if it never was). */
  since: string;
};

/**
 * RETENTION_DAYS: finds inactive batches kept longer than the period and remembers which were
 * proposed (`retention_proposals`), so each is proposed once per period; has the batch service
 * delete a batch only when asked.
 */
export class RetentionService {
  private readonly log;
  constructor(
    private readonly deps: Pick<CoreDeps, 'log' | 'clock'>,
    private readonly store: RetentionStore,
    private readonly batches: Pick<BatchService, 'delete'>,
  ) {
    this.log = deps.log.child({ module: 'retention' });
  }

  /** Inactive batches idle for more than `days`, not proposed within the last `days`. */
  async due(days: number, now = this.deps.clock.now()): Promise<RetentionProposal[]> {
    const idle = await this.store.listIdle(now - days * dayMs);
    return idle.map((b) => ({
      batchId: b.id,
      name: b.name,
      contactCount: b.contactCount,
      since: toIso(b.since)!,
    }));
  }

  /** Remembers that a batch was proposed now (it is not proposed again for `days`). */
  async markProposed(batchId: string, now = this.deps.clock.now()): Promise<void> {
    await this.store.markProposed(batchId, now);
    this.log.info({ batchId }, 'batch proposed for deletion (retention)');
  }

  /**
   * Deletes an inactive batch and its contacts (the batch service does, `chunk` contacts per
   * transaction); its proposal goes with the batch. Suppressions and the ledger's hashes stay
   * (the ledger's contact_id becomes null).
   */
  async deleteBatch(
    batchId: string,
    actor: Actor,
    chunk = 1000,
  ): Promise<{ batchId: string; name: string; contacts: number }> {
    const done = await this.batches.delete(batchId, { chunk });
    this.log.info({ batchId, contacts: done.contacts, actor }, 'batch deleted (retention)');
    return done;
  }
}
