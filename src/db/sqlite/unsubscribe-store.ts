import { eq } from 'drizzle-orm';
import type {
  UnsubscribeEffects,
  UnsubscribeStore,
  UnsubscribeTarget,
} from '../../core/campaigns/unsubscribe-store.js';
import type { Db } from '../client.js';
import { campaigns, contacts, sends } from '../schema.js';
import { changeContactStatus } from './contact-status.js';
import { suppressAddress } from './suppression-rows.js';
import { insertWebhooks } from './webhook-rows.js';

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
    return this.db.transaction((tx) => {
      const send = tx.select().from(sends).where(eq(sends.id, sendId)).get();
      if (!send) return false;
      const actor = 'recipient';
      if (send.contactId !== null) {
        changeContactStatus(tx, send.contactId, 'unsubscribed', actor, effects.reason(send.campaignId), now);
      }
      suppressAddress(tx, { emailHash: send.emailHash, reason: 'unsubscribed', actor, at: now });
      if (send.unsubscribedAt === null) {
        tx.update(sends).set({ unsubscribedAt: now }).where(eq(sends.id, sendId)).run();
        // The address (the CRM matches on it) only while the contact still exists.
        const contact =
          send.contactId === null
            ? undefined
            : tx
                .select({ email: contacts.email })
                .from(contacts)
                .where(eq(contacts.id, send.contactId))
                .get();
        const found = {
          email: contact?.email ?? null,
          contactId: send.contactId,
          campaignId: send.campaignId,
        };
        insertWebhooks(tx, effects.webhooks(found));
      }
      return true;
    });
  }
}
