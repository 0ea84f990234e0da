import type { UnsubscribeEffects } from '../../core/campaigns/unsubscribe-store.js';
import { type PgExec, row } from './client.js';
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
 * without such a row. The ledger row is locked first (FOR UPDATE): two opt-outs of one row at once
 * (a double click on two app instances) run one after the other, and only the first inserts the
 * webhook rows.
 */
export async function unsubscribeSend(
  exec: PgExec,
  sendId: number,
  now: number,
  effects: UnsubscribeEffects,
  actor = 'recipient',
): Promise<boolean> {
  const send = await row<{
    contactId: number | null;
    campaignId: string;
    emailHash: Buffer;
    unsubscribedAt: number | null;
  }>(
    exec,
    `SELECT contact_id AS "contactId", campaign_id AS "campaignId", email_hash AS "emailHash",
            unsubscribed_at AS "unsubscribedAt"
     FROM sends WHERE id = $1 FOR UPDATE`,
    [sendId],
  );
  if (!send) return false;
  if (send.contactId !== null) {
    await changeContactStatus(
      exec,
      send.contactId,
      'unsubscribed',
      actor,
      effects.reason(send.campaignId),
      now,
    );
    await stopSequences(exec, { contactIds: [send.contactId] }, 'unsubscribed', now);
  }
  await suppressAddress(exec, { emailHash: send.emailHash, reason: 'unsubscribed', actor, at: now });
  if (send.unsubscribedAt === null) {
    await exec.query('UPDATE sends SET unsubscribed_at = $1 WHERE id = $2', [now, sendId]);
    // The address (the CRM matches on it) only while the contact still exists.
    const contact =
      send.contactId === null
        ? undefined
        : await row<{ email: string }>(exec, 'SELECT email FROM contacts WHERE id = $1', [send.contactId]);
    const found = {
      email: contact?.email ?? null,
      contactId: send.contactId,
      campaignId: send.campaignId,
    };
    await insertWebhooks(exec, effects.webhooks(found));
  }
  return true;
}
