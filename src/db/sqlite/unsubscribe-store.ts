import { eq } from 'drizzle-orm';
import type {
  UnsubscribeEffects,
  UnsubscribeStore,
  UnsubscribeTarget,
} from '../../core/campaigns/unsubscribe-store.js';
import type { Db } from '../client.js';
import { campaigns, sends } from '../schema.js';
import { unsubscribeSend } from './unsubscribe-rows.js';

/** Unsubscribe links over SQLite: the opt-out's rows commit together or not at all. */
export class SqliteUnsubscribeStore implements UnsubscribeStore {
  constructor(private readonly db: Db) {}

  async target(sendId: number): Promise<UnsubscribeTarget | null> {
    const row = this.db
      .select({ name: campaigns.name, unsubscribedAt: sends.unsubscribedAt })
      .from(sends)
      .innerJoin(campaigns, eq(campaigns.id, sends.campaignId))
      .where(eq(sends.id, sendId))
      .get();
    return row ? { campaignName: row.name, alreadyUnsubscribed: row.unsubscribedAt !== null } : null;
  }

  async unsubscribe(sendId: number, now: number, effects: UnsubscribeEffects): Promise<boolean> {
    return this.db.transaction((tx) => unsubscribeSend(tx, sendId, now, effects));
  }
}
