import type { BounceChange, BounceRecord } from '../../core/suppression/suppression-store.js';
import type { PgExec } from './client.js';
import { changeContactStatus } from './contact-status.js';
import { markBounced } from './send-store.js';
import { stopSequences } from './sequence-rows.js';
import { suppressAddress } from './suppression-rows.js';
import { insertWebhooks } from './webhook-rows.js';

/**
 * The bounce rule's writes, inside the caller's transaction: the one copy used by the send
 * engine's synchronous 5xx (SuppressionStore.recordHardBounce) and by a bounce read from the
 * mailbox (the mailbox store). The ledger row becomes `bounced`, the contact (if still held)
 * `bounced` with a history row and its waiting sequences stopped ('bounced'), the address is
 * suppressed ('bounced', unless it already is) and the webhook rows are inserted.
 */
export async function applyHardBounce(exec: PgExec, b: BounceRecord, change: BounceChange): Promise<void> {
  await markBounced(exec, { ...b.ledger, response: b.response, at: b.at });
  // A contact deleted since its claim has no status left to change (its hash is suppressed).
  if (b.contactId) {
    await changeContactStatus(exec, b.contactId, 'bounced', 'system', change.reason, b.at);
    // Also when the contact was already `bounced` (no status change): their sequences stop.
    await stopSequences(exec, { contactIds: [b.contactId] }, 'bounced', b.at);
  }
  await suppressAddress(exec, { emailHash: b.emailHash, reason: 'bounced', actor: 'system', at: b.at });
  await insertWebhooks(exec, change.webhooks);
}
