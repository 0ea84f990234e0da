import type { UnsubscribeEffects } from '../../core/campaigns/unsubscribe-store.js';
import { emailHash } from '../../core/keys.js';
import type {
  InboxMessageRow,
  InboxRecord,
  MailboxRef,
  MailboxStore,
  RecordedBounce,
  RecordOutcome,
  ReplyNotice,
} from '../../core/mailbox/mailbox-store.js';
import type { Actor, ContactInterest, InboxMessageKind } from '../../core/vocabulary.js';
import { inSnapshot, inTransaction, type PgDb, type PgExec, row, rows } from './client.js';
import { forgetLockKey, lockKey, MailboxEffectRows } from './mailbox-effects.js';
import { type FoundSend, SendMatcher } from './mailbox-match.js';
import {
  type MessageRow,
  messageColumns,
  type NoticeRow,
  noticeSelect,
  toNotice,
  withBounces,
} from './mailbox-reads.js';
import { unsubscribeSend } from './unsubscribe-rows.js';

const seenSql = 'SELECT 1 AS one FROM inbox_messages WHERE mailbox = $1 AND uid_validity = $2 AND uid = $3';
// The message's row first: a second instance recording the same ref waits on the unique index
// until this transaction ends, then inserts nothing (a duplicate); if this one rolls back, it records.
const claimSql = `INSERT INTO inbox_messages (mailbox, uid_validity, uid, kind, from_address, subject, message_id,
    received_at, snippet, details, processed_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
  ON CONFLICT (mailbox, uid_validity, uid) DO NOTHING RETURNING id`;
const setMatchSql = `UPDATE inbox_messages SET send_id = $1, campaign_id = $2, contact_id = $3, unsubscribed = $4
  WHERE id = $5`;
const insertBounceSql = `INSERT INTO inbox_bounces (message_id, email, status, permanent, hard, reason, send_id, at)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`;
const getSql = `SELECT ${messageColumns} FROM inbox_messages WHERE id = $1`;
const pendingSql = `${noticeSelect} WHERE m.kind = 'reply' AND m.notified_at IS NULL AND m.send_id IS NOT NULL
  ORDER BY m.id LIMIT $1`;
const noticeSql = `${noticeSelect} WHERE m.id = $1 AND m.kind = 'reply'`;
const noticedSql = `UPDATE inbox_messages SET notice_ref = $1, notified_at = $2 WHERE id = $3 AND kind = 'reply'`;
const interestSql = `UPDATE contacts SET interest = $1, updated_at = $2
  WHERE id = (SELECT contact_id FROM inbox_messages WHERE id = $3 AND kind = 'reply')`;
const replySendSql = `SELECT send_id FROM inbox_messages WHERE id = $1 AND kind = 'reply'`;
const markUnsubscribedSql = 'UPDATE inbox_messages SET unsubscribed = true WHERE id = $1';

/**
 * Errors after which a record is run again from the start: a deadlock between two instances'
 * effects (a bounce naming two addresses in opposite orders), or a row it matched deleted by
 * another instance before it committed (a foreign key then fails; matching again finds the truth).
 */
const retriedCodes = new Set(['40P01', '40001', '23503']);
const recordTries = 3;

/** The mailbox over Postgres: a read message, its bounce rows and all its effects commit together. */
export class PgMailboxStore implements MailboxStore {
  private readonly matcher = new SendMatcher();
  private readonly effects = new MailboxEffectRows();
  constructor(private readonly db: PgDb) {}

  async seen(ref: MailboxRef): Promise<boolean> {
    return (await row(this.db.$client, seenSql, [ref.mailbox, ref.uidValidity, ref.uid])) !== undefined;
  }

  async record(r: InboxRecord): Promise<RecordOutcome> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await inTransaction(this.db.$client, (tx) => this.recordIn(tx, r));
      } catch (e) {
        if (attempt >= recordTries || !retriedCodes.has(errorCode(e))) throw e;
      }
    }
  }

  async list(q: {
    kind?: InboxMessageKind;
    campaignId?: string;
    beforeId?: number;
    limit: number;
  }): Promise<InboxMessageRow[]> {
    const where: string[] = [];
    const args: (string | number)[] = [];
    const add = (column: string, operator: string, value: string | number) => {
      args.push(value);
      where.push(`${column} ${operator} $${args.length}`);
    };
    if (q.kind) add('kind', '=', q.kind);
    if (q.campaignId) add('campaign_id', '=', q.campaignId);
    if (q.beforeId !== undefined) add('id', '<', q.beforeId);
    args.push(q.limit);
    const sql = `SELECT ${messageColumns} FROM inbox_messages ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY id DESC LIMIT $${args.length}`;
    return inSnapshot(this.db.$client, async (tx) => withBounces(tx, await rows<MessageRow>(tx, sql, args)));
  }

  async get(id: number): Promise<InboxMessageRow | null> {
    return inSnapshot(this.db.$client, async (tx) => {
      const found = await row<MessageRow>(tx, getSql, [id]);
      return found ? ((await withBounces(tx, [found]))[0] ?? null) : null;
    });
  }

  async pendingNotices(limit: number): Promise<ReplyNotice[]> {
    return (await rows<NoticeRow>(this.db.$client, pendingSql, [limit])).map(toNotice);
  }

  async notice(id: number): Promise<ReplyNotice | null> {
    return noticeOf(this.db.$client, id);
  }

  async markNoticed(id: number, noticeRef: string, at: number): Promise<boolean> {
    return ((await this.db.$client.query(noticedSql, [noticeRef, at, id])).rowCount ?? 0) > 0;
  }

  async setInterest(id: number, interest: ContactInterest, at: number): Promise<ReplyNotice | null> {
    return inTransaction(this.db.$client, async (tx) => {
      if (((await tx.query(interestSql, [interest, at, id])).rowCount ?? 0) === 0) return null;
      return noticeOf(tx, id);
    });
  }

  async unsubscribeSender(
    id: number,
    actor: Actor,
    at: number,
    effects: UnsubscribeEffects,
  ): Promise<ReplyNotice | null> {
    return inTransaction(this.db.$client, async (tx) => {
      // Its webhook rows quote the address: never past a forget under way.
      await lockKey(tx, forgetLockKey, 'shared');
      const sendId = (await row<{ send_id: number | null }>(tx, replySendSql, [id]))?.send_id;
      if (sendId == null || !(await unsubscribeSend(tx, sendId, at, effects, actor))) return null;
      await tx.query(markUnsubscribedSql, [id]);
      return noticeOf(tx, id);
    });
  }

  private async recordIn(tx: PgExec, r: InboxRecord): Promise<RecordOutcome> {
    await lockKey(tx, forgetLockKey, 'shared');
    const claimed = await row<{ id: number }>(tx, claimSql, [
      r.ref.mailbox,
      r.ref.uidValidity,
      r.ref.uid,
      r.kind,
      r.from,
      r.subject,
      r.messageId,
      r.receivedAt,
      r.snippet,
      r.details,
      r.now,
    ]);
    if (!claimed) return { kind: 'duplicate' };
    const { id } = claimed;
    let match = await this.matcher.find(tx, r.match);
    // Only a bounce's recipients are rows (a delayed-delivery report's are no soft bounce).
    const bounces = r.kind === 'bounce' ? r.bounces : [];
    const recipients: { b: RecordedBounce; send: FoundSend | null }[] = [];
    for (const b of bounces) recipients.push({ b, send: await this.recipientSend(tx, b, match, r) });
    match ??= recipients.find((x) => x.send)?.send ?? null;
    const out = {
      kind: 'recorded' as const,
      id,
      hardBounced: 0,
      softBounced: 0,
      softSuppressed: 0,
      complained: false,
      replied: false,
      unsubscribed: false,
      complaintFigures: null as { campaignId: string; complaints: number; sent: number } | null,
    };
    const windowStart = r.receivedAt - r.softBounce.windowMs;
    for (const { b, send } of recipients) {
      const email = b.recipient.email ?? send?.email ?? null;
      const x = b.recipient;
      await tx.query(insertBounceSql, [
        id,
        email,
        x.status,
        x.permanent,
        x.hard,
        x.reason,
        send?.sendId ?? null,
        r.receivedAt,
      ]);
      if (!send) continue;
      if (x.hard) {
        await this.effects.hardBounce(tx, send, b, r.effects, r.now);
        out.hardBounced++;
      } else {
        out.softBounced++;
        if (await this.effects.softBounce(tx, send, email, r.softBounce.limit, windowStart, r.now))
          out.softSuppressed++;
      }
    }
    if (r.kind === 'complaint' && match) {
      out.complaintFigures = await this.effects.complaint(tx, match, r.effects, r.now);
      out.complained = true;
    }
    if (r.kind === 'reply' && r.unsubscribe) {
      const u = await this.effects.unsubscribe(
        tx,
        this.matcher,
        r.unsubscribe,
        match,
        r.from,
        r.effects,
        r.now,
      );
      match = u.send ?? match;
      out.unsubscribed = u.done;
    } else if (r.kind === 'reply' && match) {
      await this.effects.reply(tx, match, r.effects, r.now);
      out.replied = true;
    }
    await tx.query(setMatchSql, [
      match?.sendId ?? null,
      match?.campaignId ?? null,
      match?.contactId ?? null,
      out.unsubscribed,
      id,
    ]);
    return { ...out, match: match && publicMatch(match) };
  }

  /**
   * A bounce recipient's send: the message's own match when the recipient is that send's address,
   * names none, or is the only one (a forwarding address bounced); else its address among
   * contacts mailed in the window.
   */
  private async recipientSend(
    tx: PgExec,
    b: RecordedBounce,
    match: FoundSend | null,
    r: InboxRecord,
  ): Promise<FoundSend | null> {
    const email = b.recipient.email;
    if (match && (email === null || r.bounces.length === 1 || emailHash(email).equals(match.emailHash)))
      return match;
    return email !== null ? this.matcher.byAddress(tx, email, r.match.since) : null;
  }
}

async function noticeOf(exec: PgExec, id: number): Promise<ReplyNotice | null> {
  const found = await row<NoticeRow>(exec, noticeSql, [id]);
  return found ? toNotice(found) : null;
}

const errorCode = (e: unknown): string =>
  e instanceof Error && 'code' in e && typeof e.code === 'string' ? e.code : '';

const publicMatch = (m: FoundSend) => ({
  sendId: m.sendId,
  campaignId: m.campaignId,
  contactId: m.contactId,
  by: m.by,
});
