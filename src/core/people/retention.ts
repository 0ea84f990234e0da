import { and, eq, like, lt, sql } from 'drizzle-orm';
import { batches, settings } from '../../db/schema.js';
import { BatchService } from '../batches/batch-service.js';
import type { Actor, CoreDeps } from '../types.js';
import { toIso } from '../types.js';

const dayMs = 86_400_000;
const proposalKey = (batchId: string) => `retention.proposed.${batchId}`;

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
 * proposed (in `settings`), so each is proposed once per period; has the batch service delete a
 * batch only when asked.
 */
export class RetentionService {
  private readonly log;
  constructor(
    private readonly deps: CoreDeps,
    private readonly batches: BatchService = new BatchService(deps),
  ) {
    this.log = deps.log.child({ module: 'retention' });
  }

  /** Inactive batches idle for more than `days`, not proposed within the last `days`. */
  due(days: number, now = this.deps.clock.now()): RetentionProposal[] {
    const cutoff = now - days * dayMs;
    const old = this.deps.db
      .select()
      .from(batches)
      .where(
        and(
          eq(batches.status, 'inactive'),
          lt(sql`coalesce(${batches.deactivatedAt}, ${batches.createdAt})`, cutoff),
        ),
      )
      .orderBy(batches.createdAt, batches.id)
      .all();
    if (old.length === 0) return [];
    const proposed = new Map(
      this.deps.db
        .select()
        .from(settings)
        .where(like(settings.key, 'retention.proposed.%'))
        .all()
        .map((s) => [s.key, Number(s.value)]),
    );
    return old
      .filter((b) => {
        const at = proposed.get(proposalKey(b.id));
        return at === undefined || at <= cutoff;
      })
      .map((b) => ({
        batchId: b.id,
        name: b.name,
        contactCount: b.contactCount,
        since: toIso(b.deactivatedAt ?? b.createdAt)!,
      }));
  }

  /** Remembers that a batch was proposed now (it is not proposed again for `days`). */
  markProposed(batchId: string, now = this.deps.clock.now()): void {
    this.deps.db
      .insert(settings)
      .values({ key: proposalKey(batchId), value: String(now) })
      .onConflictDoUpdate({ target: settings.key, set: { value: String(now) } })
      .run();
    this.log.info({ batchId }, 'batch proposed for deletion (retention)');
  }

  /**
   * Deletes an inactive batch and its contacts (the batch service does, `chunk` contacts per
   * transaction), forgetting its proposal with the batch. Suppressions and the ledger's hashes
   * stay (the ledger's contact_id becomes null).
   */
  deleteBatch(
    batchId: string,
    actor: Actor,
    chunk = 1000,
  ): { batchId: string; name: string; contacts: number } {
    const done = this.batches.delete(batchId, {
      chunk,
      within: (tx) => {
        tx.delete(settings)
          .where(eq(settings.key, proposalKey(batchId)))
          .run();
      },
    });
    this.log.info({ batchId, contacts: done.contacts, actor }, 'batch deleted (retention)');
    return done;
  }
}
