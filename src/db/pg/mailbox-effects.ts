import { emailHash } from '../../core/keys.js';
import type { MailboxEffects, RecordedBounce, UnsubscribeRequest } from '../../core/mailbox/mailbox-store.js';
import type { BounceRecord } from '../../core/suppression/suppression-store.js';
import { type PgExec, row } from './client.js';
import { changeContactStatus } from './contact-status.js';
import { applyHardBounce } from './hard-bounce-rows.js';
import type { FoundSend, SendMatcher } from './mailbox-match.js';
import { stopSequences } from './sequence-rows.js';
import { suppressAddress } from './suppression-rows.js';
import { unsubscribeSend } from './unsubscribe-rows.js';

/**
 * Transaction-scoped advisory locks (released at commit or rollback) that make a count and the
 * write it decides behave as under SQLite's one writer: two instances recording messages about
 * the same address (or campaign) at once take turns for that step, and the second counts the
 * first's committed rows. Keys are strings hashed to Postgres's 64-bit lock space. `shared`:
 * holders of the shared form never wait for each other, only for the exclusive one.
 */
export async function lockKey(
  exec: PgExec,
  key: string,
  mode: 'exclusive' | 'shared' = 'exclusive',
): Promise<void> {
  const fn = mode === 'shared' ? 'pg_advisory_xact_lock_shared' : 'pg_advisory_xact_lock';
  await exec.query(`SELECT ${fn}(hashtextextended($1, 0))`, [key]);
}

/**
 * Taken shared by every mailbox write that may store an address (a record, the notice's
 * unsubscribe) and exclusively by a forget (people-store.ts): a forget waits for the messages
 * being recorded and they wait for it, so none slips a copy of the address past its erasure, as
 * with SQLite's one writer.
 */
export const forgetLockKey = 'coldbatch:forget';

/**
 * The effects of a read message on contacts, suppressions and the ledger, inside the mailbox
 * store's transaction. The bounce rule and the opt-out are the existing row helpers
 * (hard-bounce-rows.ts, unsubscribe-rows.ts); contact statuses go through contact-status.ts.
 */
export class MailboxEffectRows {
  /** A matched hard bounce: the bounce rule, exactly as for a synchronous 5xx. */
  async hardBounce(
    tx: PgExec,
    send: FoundSend,
    b: RecordedBounce,
    effects: MailboxEffects,
    now: number,
  ): Promise<void> {
    const record: BounceRecord = {
      campaignId: send.campaignId,
      contactId: send.contactId ?? 0,
      email: send.email ?? b.recipient.email ?? '',
      emailHash: send.emailHash,
      response: b.response,
      at: now,
      ledger: { sendId: send.sendId, attempts: send.attempts },
    };
    await applyHardBounce(tx, record, effects.hardBounce(record));
  }

  /**
   * A matched soft bounce: marked on the ledger row; when the address has `limit` soft bounces
   * recorded since `windowStart` (this one included) it is suppressed ('soft_bounced'). True when
   * it was suppressed now.
   */
  async softBounce(
    tx: PgExec,
    send: FoundSend,
    email: string | null,
    limit: number,
    windowStart: number,
    now: number,
  ): Promise<boolean> {
    await tx.query('UPDATE sends SET soft_bounced_at = $1 WHERE id = $2', [now, send.sendId]);
    if (email === null) return false;
    // Two soft bounces of one address recorded at once: the second counts after the first commits
    // (this transaction's own bounce row is written already), so the limit is never missed.
    await lockKey(tx, `coldbatch:soft-bounce:${email}`);
    const count =
      (
        await row<{ n: number }>(
          tx,
          'SELECT count(*) AS n FROM inbox_bounces WHERE email = $1 AND NOT hard AND at > $2',
          [email, windowStart],
        )
      )?.n ?? 0;
    if (count < limit) return false;
    const suppressed = await suppressAddress(tx, {
      emailHash: send.emailHash,
      reason: 'soft_bounced',
      actor: 'system',
      at: now,
    });
    // One soft bounce leaves a sequence alone; a suppressed address has left the audience.
    if (suppressed && send.contactId !== null)
      await stopSequences(tx, { contactIds: [send.contactId] }, 'left_audience', now);
    return suppressed;
  }

  /** A matched complaint: contact `complained`, suppressed, marked on the ledger; the campaign's figures after it. */
  async complaint(
    tx: PgExec,
    send: FoundSend,
    effects: MailboxEffects,
    now: number,
  ): Promise<{ campaignId: string; complaints: number; sent: number }> {
    await tx.query('UPDATE sends SET complained_at = coalesce(complained_at, $1) WHERE id = $2', [
      now,
      send.sendId,
    ]);
    const reason = effects.complaintReason(send.campaignId);
    if (send.contactId !== null) {
      await changeContactStatus(tx, send.contactId, 'complained', 'system', reason, now);
      await stopSequences(tx, { contactIds: [send.contactId] }, 'complained', now);
    }
    await suppressAddress(tx, { emailHash: send.emailHash, reason: 'complained', actor: 'system', at: now });
    // Complaints about one campaign recorded at once: the later one's figures count the earlier
    // one, so the complaint-rate pause sees every complaint as it would with one writer.
    await lockKey(tx, `coldbatch:complaints:${send.campaignId}`);
    // Messages the server accepted: the complaint rate's denominator (a bounced one reached nobody).
    const f = await row<{ complaints: number; sent: number }>(
      tx,
      `SELECT count(complained_at) AS complaints, count(*) FILTER (WHERE status = 'sent') AS sent
       FROM sends WHERE campaign_id = $1`,
      [send.campaignId],
    );
    return { campaignId: send.campaignId, complaints: f?.complaints ?? 0, sent: f?.sent ?? 0 };
  }

  /**
   * A matched human reply: marked on the ledger; an active (or inactive) contact becomes `replied`
   * (one already bounced, unsubscribed or complained keeps that status); its sequences stop.
   */
  async reply(tx: PgExec, send: FoundSend, effects: MailboxEffects, now: number): Promise<void> {
    await tx.query('UPDATE sends SET replied_at = coalesce(replied_at, $1) WHERE id = $2', [
      now,
      send.sendId,
    ]);
    if (send.contactId === null) return;
    // Locked: a bounce or an unsubscribe committing between this read and the change would
    // otherwise be overwritten with `replied` (SQLite's one writer never lets that happen).
    const status = (
      await row<{ status: string }>(tx, 'SELECT status FROM contacts WHERE id = $1 FOR UPDATE', [
        send.contactId,
      ])
    )?.status;
    if (status === 'active' || status === 'inactive') {
      await changeContactStatus(
        tx,
        send.contactId,
        'replied',
        'system',
        effects.replyReason(send.campaignId),
        now,
      );
    }
    // Whatever the status: a human answered, so nothing more goes to them in any sequence.
    await stopSequences(tx, { contactIds: [send.contactId] }, 'replied', now);
  }

  /**
   * A reply asking to be removed, or a message to the unsubscribe mailto: the send a verified token
   * names, else the message's match, else the sender's latest send (any age) is unsubscribed (the
   * unsubscribe link's writes); with no send, a contact held with the sender's address becomes
   * `unsubscribed` and the address is suppressed. The send unsubscribed (or null) and whether
   * anything was.
   */
  async unsubscribe(
    tx: PgExec,
    matcher: SendMatcher,
    req: UnsubscribeRequest,
    match: FoundSend | null,
    from: string | null,
    effects: MailboxEffects,
    now: number,
  ): Promise<{ send: FoundSend | null; done: boolean }> {
    const send =
      (await matcher.tagged(tx, req.tokenSendId, 'unsubscribe_token')) ??
      match ??
      (from !== null ? await matcher.byAddress(tx, from, 0) : null);
    if (send) {
      await unsubscribeSend(tx, send.sendId, now, effects.unsubscribe);
      if (req.isReply)
        await tx.query('UPDATE sends SET replied_at = coalesce(replied_at, $1) WHERE id = $2', [
          now,
          send.sendId,
        ]);
      return { send, done: true };
    }
    if (from === null) return { send: null, done: false };
    const contact = await matcher.contact(tx, from);
    const actor = 'recipient';
    if (contact)
      await changeContactStatus(tx, contact.id, 'unsubscribed', actor, effects.unsubscribedByEmail, now);
    await suppressAddress(tx, {
      emailHash: contact?.emailHash ?? emailHash(from),
      reason: 'unsubscribed',
      actor,
      at: now,
    });
    return { send: null, done: true };
  }
}
