import type {
  ActiveBatch,
  AudienceStore,
  FigureRequest,
  FigureRows,
  Recipient,
} from '../../core/audience/audience-store.js';
import { audienceFrom } from './audience-sql.js';
import { type PgDb, rows } from './client.js';
import { CountReader, countFigures } from './count-reader.js';

/**
 * The audience over Postgres, the rule from audience-sql.ts. Every count is made here, now, and
 * exact: a Postgres query runs in the server's process, so there is no counting thread to move it
 * to and no figure cache to keep (`maxStaleMs` never applies; `seed` keeps nothing).
 */
export class PgAudienceStore implements AudienceStore {
  private readonly reader: CountReader;
  constructor(private readonly db: PgDb) {
    this.reader = new CountReader(db.$client);
  }

  async count(): Promise<number> {
    return this.reader.count();
  }

  async page(afterId: number, limit: number): Promise<Recipient[]> {
    return rows<Recipient>(
      this.db.$client,
      `SELECT c.id, c.email, c.name, c.company, c.position ${audienceFrom} AND c.id > $1 ORDER BY c.id LIMIT $2`,
      [afterId, limit],
    );
  }

  async activeBatch(): Promise<ActiveBatch | null> {
    return this.reader.activeBatch();
  }

  async reasons(batchId: string, campaignId: string | null): Promise<{ reason: string; n: number }[]> {
    return this.reader.reasons(batchId, campaignId);
  }

  async figures(campaignId: string | null, request: FigureRequest): Promise<FigureRows> {
    const counted = await countFigures(
      this.db.$client,
      campaignId,
      request.audience,
      request.sequence === true,
    );
    return { ...counted, countedAt: request.now };
  }

  async seed(_campaignId: string, _reach: FigureRows): Promise<void> {}
}
