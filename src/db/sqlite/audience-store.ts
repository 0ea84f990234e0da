import type {
  ActiveBatch,
  AudienceStore,
  FigureRequest,
  FigureRows,
  Recipient,
} from '../../core/audience/audience-store.js';
import type { Sqlite } from '../client.js';
import { audienceFrom } from './audience-sql.js';
import { CountReader } from './count-reader.js';
import type { CountThread } from './count-thread.js';
import { FigureCache } from './figure-cache.js';

/**
 * The audience over SQLite: statements prepared once, the rule from audience-sql.ts. With a
 * CountThread (the app), the counts run in its worker thread and a campaign's figures are kept in
 * a FigureCache; without one (tests, the command line) they are counted here, now.
 */
export class SqliteAudienceStore implements AudienceStore {
  private readonly s;
  private readonly reader: CountReader;
  private readonly cache: FigureCache | null;
  constructor(
    sqlite: Sqlite,
    private readonly thread: CountThread | null = null,
  ) {
    this.reader = new CountReader(sqlite);
    this.cache = thread
      ? new FigureCache(sqlite, (id, audience, sequence) => thread.figures(id, audience, sequence))
      : null;
    this.s = {
      page: sqlite.prepare<[number, number], Recipient>(
        `SELECT c.id, c.email, c.name, c.company, c.position ${audienceFrom} AND c.id > ? ORDER BY c.id LIMIT ?`,
      ),
    };
  }

  async count(): Promise<number> {
    return this.thread ? this.thread.count() : this.reader.count();
  }

  async page(afterId: number, limit: number): Promise<Recipient[]> {
    return this.s.page.all(afterId, limit);
  }

  async activeBatch(): Promise<ActiveBatch | null> {
    return this.reader.activeBatch();
  }

  async reasons(batchId: string, campaignId: string | null): Promise<{ reason: string; n: number }[]> {
    return this.thread ? this.thread.reasons(batchId, campaignId) : this.reader.reasons(batchId, campaignId);
  }

  async figures(campaignId: string | null, request: FigureRequest): Promise<FigureRows> {
    if (this.cache) return this.cache.get(campaignId, request);
    const counted = this.reader.figures(campaignId, request.audience, request.sequence === true);
    return { ...counted, countedAt: request.now };
  }

  async seed(campaignId: string, reach: FigureRows): Promise<void> {
    this.cache?.seed(campaignId, reach);
  }
}
