import { eq } from 'drizzle-orm';
import type { UnsubscribeEffects } from '../../core/campaigns/unsubscribe-store.js';
import type { Db } from '../client.js';
import { contacts, sends } from '../schema.js';
import { changeContactStatus } from './contact-status.js';
import { stopSequences } from './sequence-rows.js';
import { suppressAddress } from './suppression-rows.js';
import { insertWebhooks } from './webhook-rows.js';

/**
 * An opt-out's writes, inside the caller's transaction: the one copy used by the unsubscribe
 * link (UnsubscribeStore) and by an unsubscribe read from the mailbox (a removal reply, the
 * List-Unsubscribe mailto, the reply notice's button). The contact of ledger row `sendId` becomes
 * `unsubscribed` (with a history row) and its waiting sequences stop, the address is suppressed,
 * and the first time the row's unsubscribed_at is set and the webhook rows are inserted. False
 * without such a row.
 */
export function unsubscribeSend(
  tx: Pick<Db, 'select' | 'insert' | 'update' | 'delete'>,
  sendId: number,
  now: number,
  effects: UnsubscribeEffects,
  actor = 'recipient',
): boolean {
  const send = tx.select().from(sends).where(eq(sends.id, sendId)).get();
  if (!send) return false;
  if (send.contactId !== null) {
    changeContactStatus(tx, send.contactId, 'unsubscribed', actor, effects.reason(send.campaignId), now);
    stopSequences(tx, { contactIds: [send.contactId] }, 'unsubscribed', now);
  }
  suppressAddress(tx, { emailHash: send.emailHash, reason: 'unsubscribed', actor, at: now });
  if (send.unsubscribedAt === null) {
    tx.update(sends).set({ unsubscribedAt: now }).where(eq(sends.id, sendId)).run();
    // The address (the CRM matches on it) only while the contact still exists.
    const contact =
      send.contactId === null
        ? undefined
        : tx.select({ email: contacts.email }).from(contacts).where(eq(contacts.id, send.contactId)).get();
    const found = {
      email: contact?.email ?? null,
      contactId: send.contactId,
      campaignId: send.campaignId,
    };
    insertWebhooks(tx, effects.webhooks(found));
  }
  return true;
}
