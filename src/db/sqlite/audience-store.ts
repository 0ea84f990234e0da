import type { ActiveBatch, AudienceStore, Recipient } from '../../core/audience/audience-store.js';
import type { Sqlite } from '../client.js';
import { audienceFrom, notSendableWhens } from './audience-sql.js';

/** The audience over SQLite: statements prepared once, the rule from audience-sql.ts. */
export class SqliteAudienceStore implements AudienceStore {
  private readonly s;
  constructor(sqlite: Sqlite) {
    this.s = {
      count: sqlite.prepare<[], { n: number }>(`SELECT count(*) AS n ${audienceFrom}`),
      page: sqlite.prepare<[number, number], Recipient>(
        `SELECT c.id, c.email, c.name, c.company, c.position ${audienceFrom} AND c.id > ? ORDER BY c.id LIMIT ?`,
      ),
      active: sqlite.prepare<[], ActiveBatch>(
        `SELECT id, name, activated_at AS activatedAt FROM batches WHERE status = 'active'`,
      ),
      // One pass over the active batch's contacts (contacts_batch), grouped by the first reason that applies.
      reasons: sqlite.prepare<{ campaign: string | null; batch: string }, { reason: string; n: number }>(
        `SELECT CASE ${notSendableWhens}
           WHEN @campaign IS NOT NULL
             AND EXISTS (SELECT 1 FROM sends x WHERE x.campaign_id = @campaign AND x.contact_id = c.id)
             THEN 'already_reached'
           ELSE 'sendable' END AS reason, count(*) AS n
         FROM contacts c JOIN batches b ON b.id = c.batch_id
         WHERE c.batch_id = @batch AND b.status = 'active'
         GROUP BY reason`,
      ),
    };
  }

  async count(): Promise<number> {
    return this.s.count.get()?.n ?? 0;
  }

  async page(afterId: number, limit: number): Promise<Recipient[]> {
    return this.s.page.all(afterId, limit);
  }

  async activeBatch(): Promise<ActiveBatch | null> {
    return this.s.active.get() ?? null;
  }

  async reasons(batchId: string, campaignId: string | null): Promise<{ reason: string; n: number }[]> {
    return this.s.reasons.all({ campaign: campaignId, batch: batchId });
  }
}
