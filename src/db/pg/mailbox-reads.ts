import type { InboxMessageRow, ReplyNotice, StoredBounce } from '../../core/mailbox/mailbox-store.js';
import type { ContactInterest, InboxMessageKind } from '../../core/vocabulary.js';
import { type PgExec, rows } from './client.js';

/** The mailbox's reads: listed messages with their bounce recipients, and reply notices. */

export type MessageRow = {
  id: number;
  kind: InboxMessageKind;
  from_address: string | null;
  subject: string | null;
  message_id: string | null;
  received_at: number;
  send_id: number | null;
  campaign_id: string | null;
  contact_id: number | null;
  snippet: string | null;
  details: string | null;
  unsubscribed: boolean;
};
export type BounceRow = {
  message_id: number;
  email: string | null;
  status: string;
  permanent: boolean;
  hard: boolean;
  reason: string;
  send_id: number | null;
};
export type NoticeRow = {
  id: number;
  campaign_id: string | null;
  campaign_name: string | null;
  progress_ref: string | null;
  contact_id: number | null;
  from_address: string | null;
  name: string | null;
  subject: string | null;
  snippet: string | null;
  unsubscribed: boolean;
  interest: ContactInterest | null;
  received_at: number;
  notice_ref: string | null;
};

export const messageColumns = `id, kind, from_address, subject, message_id, received_at, send_id, campaign_id,
  contact_id, snippet, details, unsubscribed`;
export const noticeSelect = `SELECT m.id, m.campaign_id, k.name AS campaign_name, k.progress_ref, m.contact_id,
    m.from_address, c.name, m.subject, m.snippet, m.unsubscribed, c.interest, m.received_at, m.notice_ref
  FROM inbox_messages m LEFT JOIN campaigns k ON k.id = m.campaign_id LEFT JOIN contacts c ON c.id = m.contact_id`;
const bouncesOfSql = `SELECT message_id, email, status, permanent, hard, reason, send_id FROM inbox_bounces
  WHERE message_id = ANY($1::bigint[]) ORDER BY id`;

/** Rows of inbox_messages with their inbox_bounces rows (one query per page), on the caller's `exec`. */
export async function withBounces(exec: PgExec, messages: MessageRow[]): Promise<InboxMessageRow[]> {
  const bounceIds = messages.filter((m) => m.kind === 'bounce').map((m) => m.id);
  const byMessage = new Map<number, StoredBounce[]>();
  if (bounceIds.length > 0) {
    for (const b of await rows<BounceRow>(exec, bouncesOfSql, [bounceIds])) {
      const list = byMessage.get(b.message_id) ?? [];
      list.push({
        email: b.email,
        status: b.status,
        permanent: b.permanent,
        hard: b.hard,
        reason: b.reason,
        sendId: b.send_id,
      });
      byMessage.set(b.message_id, list);
    }
  }
  return messages.map((m) => ({
    id: m.id,
    kind: m.kind,
    from: m.from_address,
    subject: m.subject,
    messageId: m.message_id,
    receivedAt: m.received_at,
    sendId: m.send_id,
    campaignId: m.campaign_id,
    contactId: m.contact_id,
    snippet: m.snippet,
    details: m.details,
    unsubscribed: m.unsubscribed,
    bounces: byMessage.get(m.id) ?? [],
  }));
}

export const toNotice = (r: NoticeRow): ReplyNotice => ({
  id: r.id,
  campaignId: r.campaign_id,
  campaignName: r.campaign_name,
  progressRef: r.progress_ref,
  contactId: r.contact_id,
  from: r.from_address,
  name: r.name,
  subject: r.subject,
  snippet: r.snippet,
  unsubscribed: r.unsubscribed,
  interest: r.interest,
  receivedAt: r.received_at,
  noticeRef: r.notice_ref,
});
