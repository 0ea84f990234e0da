import { emailHash } from '../../core/keys.js';
import type { MailboxEffects, RecordedBounce, UnsubscribeRequest } from '../../core/mailbox/mailbox-store.js';
import type { BounceRecord } from '../../core/suppression/suppression-store.js';
import type { Db, Sqlite } from '../client.js';
import { changeContactStatus } from './contact-status.js';
import { applyHardBounce } from './hard-bounce-rows.js';
import type { FoundSend, SendMatcher } from './mailbox-match.js';
import { stopSequences } from './sequence-rows.js';
import { suppressAddress } from './suppression-rows.js';
import { unsubscribeSend } from './unsubscribe-rows.js';

type Tx = Pick<Db, 'select' | 'insert' | 'update' | 'delete'>;

/**
 * The effects of a read message on contacts, suppressions and the ledger, inside the mailbox
 * store's transaction. The bounce rule and the opt-out are the existing row helpers
 * (hard-bounce-rows.ts, unsubscribe-rows.ts); contact statuses go through contact-status.ts.
 */
export class MailboxEffectRows {
  private readonly s;
  constructor(sqlite: Sqlite) {
    this.s = {
      softBounced: sqlite.prepare<[number, number]>(`UPDATE sends SET soft_bounced_at = ? WHERE id = ?`),
      softCount: sqlite.prepare<[string, number], { n: number }>(
        `SELECT count(*) AS n FROM inbox_bounces WHERE email = ? AND hard = 0 AND at > ?`,
      ),
      complained: sqlite.prepare<[number, number]>(
        `UPDATE sends SET complained_at = coalesce(complained_at, ?) WHERE id = ?`,
      ),
      replied: sqlite.prepare<[number, number]>(
        `UPDATE sends SET replied_at = coalesce(replied_at, ?) WHERE id = ?`,
      ),
      // Messages the server accepted: the complaint rate's denominator (a bounced one reached nobody).
      complaintFigures: sqlite.prepare<[string], { complaints: number; sent: number }>(
        `SELECT count(complained_at) AS complaints, coalesce(sum(status = 'sent'), 0) AS sent
         FROM sends WHERE campaign_id = ?`,
      ),
      contactStatus: sqlite.prepare<[number], { status: string }>(`SELECT status FROM contacts WHERE id = ?`),
    };
  }

  /** A matched hard bounce: the bounce rule, exactly as for a synchronous 5xx. */
  hardBounce(tx: Tx, send: FoundSend, b: RecordedBounce, effects: MailboxEffects, now: number): void {
    const record: BounceRecord = {
      campaignId: send.campaignId,
      contactId: send.contactId ?? 0,
      email: send.email ?? b.recipient.email ?? '',
      emailHash: send.emailHash,
      response: b.response,
      at: now,
      ledger: { sendId: send.sendId, attempts: send.attempts },
    };
    applyHardBounce(tx, record, effects.hardBounce(record));
  }

  /**
   * A matched soft bounce: marked on the ledger row; when the address has `limit` soft bounces
   * recorded since `windowStart` (this one included) it is suppressed ('soft_bounced'). True when
   * it was suppressed now.
   */
  softBounce(
    tx: Tx,
    send: FoundSend,
    email: string | null,
    limit: number,
    windowStart: number,
    now: number,
  ): boolean {
    this.s.softBounced.run(now, send.sendId);
    if (email === null) return false;
    const count = this.s.softCount.get(email, windowStart)?.n ?? 0;
    if (count < limit) return false;
    const suppressed = suppressAddress(tx, {
      emailHash: send.emailHash,
      reason: 'soft_bounced',
      actor: 'system',
      at: now,
    });
    // One soft bounce leaves a sequence alone; a suppressed address has left the audience.
    if (suppressed && send.contactId !== null)
      stopSequences(tx, { contactIds: [send.contactId] }, 'left_audience', now);
    return suppressed;
  }

  /** A matched complaint: contact `complained`, suppressed, marked on the ledger; the campaign's figures after it. */
  complaint(
    tx: Tx,
    send: FoundSend,
    effects: MailboxEffects,
    now: number,
  ): { campaignId: string; complaints: number; sent: number } {
    this.s.complained.run(now, send.sendId);
    const reason = effects.complaintReason(send.campaignId);
    if (send.contactId !== null) {
      changeContactStatus(tx, send.contactId, 'complained', 'system', reason, now);
      stopSequences(tx, { contactIds: [send.contactId] }, 'complained', now);
    }
    suppressAddress(tx, { emailHash: send.emailHash, reason: 'complained', actor: 'system', at: now });
    const f = this.s.complaintFigures.get(send.campaignId) ?? { complaints: 0, sent: 0 };
    return { campaignId: send.campaignId, ...f };
  }

  /**
   * A matched human reply: marked on the ledger; an active (or inactive) contact becomes `replied`
   * (one already bounced, unsubscribed or complained keeps that status); its sequences stop.
   */
  reply(tx: Tx, send: FoundSend, effects: MailboxEffects, now: number): void {
    this.s.replied.run(now, send.sendId);
    if (send.contactId === null) return;
    const status = this.s.contactStatus.get(send.contactId)?.status;
    if (status === 'active' || status === 'inactive') {
      changeContactStatus(tx, send.contactId, 'replied', 'system', effects.replyReason(send.campaignId), now);
    }
    // Whatever the status: a human answered, so nothing more goes to them in any sequence.
    stopSequences(tx, { contactIds: [send.contactId] }, 'replied', now);
  }

  /**
   * A reply asking to be removed, or a message to the unsubscribe mailto: the send a verified token
   * names, else the message's match, else the sender's latest send (any age) is unsubscribed (the
   * unsubscribe link's writes); with no send, a contact held with the sender's address becomes
   * `unsubscribed` and the address is suppressed. The send unsubscribed (or null) and whether
   * anything was.
   */
  unsubscribe(
    tx: Tx,
    matcher: SendMatcher,
    req: UnsubscribeRequest,
    match: FoundSend | null,
    from: string | null,
    effects: MailboxEffects,
    now: number,
  ): { send: FoundSend | null; done: boolean } {
    const send =
      matcher.tagged(req.tokenSendId, 'unsubscribe_token') ??
      match ??
      (from !== null ? matcher.byAddress(from, 0) : null);
    if (send) {
      unsubscribeSend(tx, send.sendId, now, effects.unsubscribe);
      if (req.isReply) this.s.replied.run(now, send.sendId);
      return { send, done: true };
    }
    if (from === null) return { send: null, done: false };
    const contact = matcher.contact(from);
    const actor = 'recipient';
    if (contact) changeContactStatus(tx, contact.id, 'unsubscribed', actor, effects.unsubscribedByEmail, now);
    suppressAddress(tx, {
      emailHash: contact?.emailHash ?? emailHash(from),
      reason: 'unsubscribed',
      actor,
      at: now,
    });
    return { send: null, done: true };
  }
}
