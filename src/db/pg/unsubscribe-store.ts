import type {
  UnsubscribeEffects,
  UnsubscribeStore,
  UnsubscribeTarget,
} from '../../core/campaigns/unsubscribe-store.js';
import { inTransaction, type PgDb, row } from './client.js';
import { unsubscribeSend } from './unsubscribe-rows.js';

/** Unsubscribe links over Postgres: the opt-out's rows commit together or not at all. */
export class PgUnsubscribeStore implements UnsubscribeStore {
  constructor(private readonly db: PgDb) {}

  async target(sendId: number): Promise<UnsubscribeTarget | null> {
    const found = await row<{ name: string; unsubscribedAt: number | null }>(
      this.db.$client,
      `SELECT c.name, s.unsubscribed_at AS "unsubscribedAt"
       FROM sends s JOIN campaigns c ON c.id = s.campaign_id WHERE s.id = $1`,
      [sendId],
    );
    return found ? { campaignName: found.name, alreadyUnsubscribed: found.unsubscribedAt !== null } : null;
  }

  async unsubscribe(sendId: number, now: number, effects: UnsubscribeEffects): Promise<boolean> {
    return inTransaction(this.db.$client, (tx) => unsubscribeSend(tx, sendId, now, effects));
  }
}
