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
import type { Db } from '../client.js';
import { MailboxEffectRows } from './mailbox-effects.js';
import { type FoundSend, SendMatcher } from './mailbox-match.js';
import {
  type BounceRow,
  type MessageRow,
  messageColumns,
  type NoticeRow,
  noticeSelect,
  toNotice,
  withBounces,
} from './mailbox-reads.js';
import { unsubscribeSend } from './unsubscribe-rows.js';

/** The mailbox over SQLite: a read message, its bounce rows and all its effects commit together. */
export class SqliteMailboxStore implements MailboxStore {
  private readonly s;
  private readonly matcher: SendMatcher;
  private readonly effects: MailboxEffectRows;
  constructor(private readonly db: Db) {
    const c = db.$client;
    this.matcher = new SendMatcher(c);
    this.effects = new MailboxEffectRows(c);
    this.s = {
      seen: c.prepare<[string, string, number], { one: number }>(
        `SELECT 1 AS one FROM inbox_messages WHERE mailbox = ? AND uid_validity = ? AND uid = ?`,
      ),
      insert: c.prepare<
        [
          string,
          string,
          number,
          string,
          string | null,
          string,
          string | null,
          number,
          string | null,
          string | null,
          number,
        ],
        { id: number }
      >(
        `INSERT INTO inbox_messages (mailbox, uid_validity, uid, kind, from_address, subject, message_id,
           received_at, snippet, details, processed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
      ),
      setMatch: c.prepare<[number | null, string | null, number | null, number, number]>(
        `UPDATE inbox_messages SET send_id = ?, campaign_id = ?, contact_id = ?, unsubscribed = ? WHERE id = ?`,
      ),
      insertBounce: c.prepare<[number, string | null, string, number, number, string, number | null, number]>(
        `INSERT INTO inbox_bounces (message_id, email, status, permanent, hard, reason, send_id, at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      get: c.prepare<[number], MessageRow>(`SELECT ${messageColumns} FROM inbox_messages WHERE id = ?`),
      bouncesOf: c.prepare<[string], BounceRow>(
        `SELECT message_id, email, status, permanent, hard, reason, send_id FROM inbox_bounces
         WHERE message_id IN (SELECT value FROM json_each(?)) ORDER BY id`,
      ),
      pending: c.prepare<[number], NoticeRow>(
        `${noticeSelect} WHERE m.kind = 'reply' AND m.notified_at IS NULL AND m.send_id IS NOT NULL
         ORDER BY m.id LIMIT ?`,
      ),
      notice: c.prepare<[number], NoticeRow>(`${noticeSelect} WHERE m.id = ? AND m.kind = 'reply'`),
      noticed: c.prepare<[string, number, number]>(
        `UPDATE inbox_messages SET notice_ref = ?, notified_at = ? WHERE id = ? AND kind = 'reply'`,
      ),
      interest: c.prepare<[ContactInterest, number, number]>(
        `UPDATE contacts SET interest = ?, updated_at = ?
         WHERE id = (SELECT contact_id FROM inbox_messages WHERE id = ? AND kind = 'reply')`,
      ),
      replySend: c.prepare<[number], { send_id: number | null }>(
        `SELECT send_id FROM inbox_messages WHERE id = ? AND kind = 'reply'`,
      ),
      markUnsubscribed: c.prepare<[number]>(`UPDATE inbox_messages SET unsubscribed = 1 WHERE id = ?`),
    };
  }

  async seen(ref: MailboxRef): Promise<boolean> {
    return this.s.seen.get(ref.mailbox, ref.uidValidity, ref.uid) !== undefined;
  }

  async record(r: InboxRecord): Promise<RecordOutcome> {
    return this.db.transaction((tx): RecordOutcome => {
      // Checked inside the transaction: nothing can record the same ref between this and the insert.
      if (this.s.seen.get(r.ref.mailbox, r.ref.uidValidity, r.ref.uid)) return { kind: 'duplicate' };
      let match = this.matcher.find(r.match);
      // Only a bounce's recipients are rows (a delayed-delivery report's are no soft bounce).
      const bounces = r.kind === 'bounce' ? r.bounces : [];
      const recipients = bounces.map((b) => ({ b, send: this.recipientSend(b, match, r) }));
      match ??= recipients.find((x) => x.send)?.send ?? null;
      const { id } = this.s.insert.get(
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
      )!;
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
        this.s.insertBounce.run(
          id,
          email,
          x.status,
          x.permanent ? 1 : 0,
          x.hard ? 1 : 0,
          x.reason,
          send?.sendId ?? null,
          r.receivedAt,
        );
        if (!send) continue;
        if (x.hard) {
          this.effects.hardBounce(tx, send, b, r.effects, r.now);
          out.hardBounced++;
        } else {
          out.softBounced++;
          if (this.effects.softBounce(tx, send, email, r.softBounce.limit, windowStart, r.now))
            out.softSuppressed++;
        }
      }
      if (r.kind === 'complaint' && match) {
        out.complaintFigures = this.effects.complaint(tx, match, r.effects, r.now);
        out.complained = true;
      }
      if (r.kind === 'reply' && r.unsubscribe) {
        const u = this.effects.unsubscribe(tx, this.matcher, r.unsubscribe, match, r.from, r.effects, r.now);
        match = u.send ?? match;
        out.unsubscribed = u.done;
      } else if (r.kind === 'reply' && match) {
        this.effects.reply(tx, match, r.effects, r.now);
        out.replied = true;
      }
      this.s.setMatch.run(
        match?.sendId ?? null,
        match?.campaignId ?? null,
        match?.contactId ?? null,
        out.unsubscribed ? 1 : 0,
        id,
      );
      return { ...out, match: match && publicMatch(match) };
    });
  }

  async list(q: {
    kind?: InboxMessageKind;
    campaignId?: string;
    beforeId?: number;
    limit: number;
  }): Promise<InboxMessageRow[]> {
    const where: string[] = [];
    const args: (string | number)[] = [];
    const add = (condition: string, value: string | number) => {
      where.push(condition);
      args.push(value);
    };
    if (q.kind) add('kind = ?', q.kind);
    if (q.campaignId) add('campaign_id = ?', q.campaignId);
    if (q.beforeId !== undefined) add('id < ?', q.beforeId);
    const sql = `SELECT ${messageColumns} FROM inbox_messages ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY id DESC LIMIT ?`;
    return this.db.$client.transaction(() => {
      const rows = this.db.$client.prepare<(string | number)[], MessageRow>(sql).all(...args, q.limit);
      return withBounces(this.s.bouncesOf, rows);
    })();
  }

  async get(id: number): Promise<InboxMessageRow | null> {
    return this.db.$client.transaction(() => {
      const row = this.s.get.get(id);
      return row ? (withBounces(this.s.bouncesOf, [row])[0] ?? null) : null;
    })();
  }

  async pendingNotices(limit: number): Promise<ReplyNotice[]> {
    return this.s.pending.all(limit).map(toNotice);
  }

  async notice(id: number): Promise<ReplyNotice | null> {
    const row = this.s.notice.get(id);
    return row ? toNotice(row) : null;
  }

  async markNoticed(id: number, noticeRef: string, at: number): Promise<boolean> {
    return this.s.noticed.run(noticeRef, at, id).changes > 0;
  }

  async setInterest(id: number, interest: ContactInterest, at: number): Promise<ReplyNotice | null> {
    return this.db.$client.transaction(() => {
      if (this.s.interest.run(interest, at, id).changes === 0) return null;
      const row = this.s.notice.get(id);
      return row ? toNotice(row) : null;
    })();
  }

  async unsubscribeSender(
    id: number,
    actor: Actor,
    at: number,
    effects: UnsubscribeEffects,
  ): Promise<ReplyNotice | null> {
    return this.db.transaction((tx) => {
      const sendId = this.s.replySend.get(id)?.send_id;
      if (sendId == null || !unsubscribeSend(tx, sendId, at, effects, actor)) return null;
      this.s.markUnsubscribed.run(id);
      const row = this.s.notice.get(id);
      return row ? toNotice(row) : null;
    });
  }

  /**
   * A bounce recipient's send: the message's own match when the recipient is that send's address,
   * names none, or is the only one (a forwarding address bounced); else its address among
   * contacts mailed in the window.
   */
  private recipientSend(b: RecordedBounce, match: FoundSend | null, r: InboxRecord): FoundSend | null {
    const email = b.recipient.email;
    if (match && (email === null || r.bounces.length === 1 || emailHash(email).equals(match.emailHash)))
      return match;
    return email !== null ? this.matcher.byAddress(email, r.match.since) : null;
  }
}

const publicMatch = (m: FoundSend) => ({
  sendId: m.sendId,
  campaignId: m.campaignId,
  contactId: m.contactId,
  by: m.by,
});
