import { verifyUnsubscribeToken } from '../../mail/unsubscribe-token.js';
import { normalizeEmail } from '../keys.js';
import type { InboxMessageKind } from '../vocabulary.js';
import type {
  InboxRecord,
  MailboxEffects,
  RecordedBounce,
  SendMatchQuery,
  UnsubscribeRequest,
} from './mailbox-store.js';
import { findSendId } from './send-ref.js';
import type { BounceRecipient, ClassifiedMessage, MailboxRef } from './types.js';

const day = 86_400_000;
/** A message is matched by its sender's (or failed recipient's) address among sends of the last 30 days. */
export const matchWindowMs = 30 * day;
/** SOFT_BOUNCE_LIMIT counts the soft bounces of one address within 30 days. */
export const softBounceWindowMs = 30 * day;
/** A Date header further back than this (or in the future) is not believed: the time of reading is used. */
const maxAgeMs = 5 * 365 * day;
const snippetChars = 500;

/** What planning needs besides the message: the send ref keys and the unsubscribe mailto. */
export type PlanSettings = {
  /** Every key that verifies send refs and unsubscribe tokens (UnsubscribeKeys.all). */
  keys: string[];
  /** MAIL_UNSUBSCRIBE_MAILTO (or the MAIL_FROM address), lowercased; undefined: none. */
  unsubscribeMailto: string | undefined;
  /**
   * The mailto address receives nothing else (it is not a sending From): any message to it asks to
   * be unsubscribed. When it is the From address, only a subject `unsubscribe …` does.
   */
  dedicatedMailto: boolean;
  softBounceLimit: number;
};

/** An `unsubscribe <token>` subject, as the List-Unsubscribe mailto writes it (compose.ts). */
const tokenInSubject = /\bunsubscribe\s+([1-9a-z][0-9a-z]{0,10}\.[A-Za-z0-9_-]{24})(?![A-Za-z0-9_-])/i;
/** Anything shaped like an address (diagnostics quote the recipient): kept off the ledger row. */
const addressLike = /[^\s<>"'()[\];,:]+@[^\s<>"'()[\];,:]+/g;

/** When the message was received: its Date, unless absent or unbelievable; else now. */
export function receivedAt(date: number | null, now: number): number {
  if (date === null || !Number.isFinite(date) || date > now || date < now - maxAgeMs) return now;
  return Math.trunc(date);
}

/** The ledger row's text of a bounce read from the mailbox: status, reason, the server's words, no address. */
export function bounceResponse(r: BounceRecipient): string {
  const code = r.replyCode ? ` ${r.replyCode}` : '';
  const words = r.diagnostic.replace(addressLike, '<address>').replace(/\s+/g, ' ').trim();
  return `${r.status}${code} ${r.reason} (bounce read from the mailbox)${words ? `: ${words}` : ''}`.slice(
    0,
    500,
  );
}

/** How to match the message: every text that may carry a tag, the quoted Message-IDs, the addresses by kind. */
function matchQuery(c: ClassifiedMessage, keys: string[], at: number): SendMatchQuery {
  const quoted = [...c.originalMessageIds, ...(c.inReplyTo ? [c.inReplyTo] : []), ...c.references];
  const taggedSendId = findSendId([...c.to, ...c.originalSenders, ...quoted], keys);
  const addresses =
    c.kind === 'bounce'
      ? [] // each failed recipient is matched on its own
      : c.kind === 'complaint'
        ? (c.complaint?.emails ?? [])
        : c.kind === 'delivery_report'
          ? (c.bounce?.recipients.flatMap((r) => (r.email ? [r.email] : [])) ?? [])
          : c.from
            ? [c.from]
            : [];
  return {
    taggedSendId,
    messageIds: [...new Set(quoted)],
    addresses: [...new Set(addresses.map(normalizeEmail))],
    since: at - matchWindowMs,
  };
}

/**
 * Whether the message asks to be unsubscribed: a reply asking to be removed, or a message to the
 * List-Unsubscribe mailto address (with a verified `unsubscribe <token>` subject, an `unsubscribe`
 * subject, or any message when that address receives nothing else).
 */
function unsubscribeRequest(c: ClassifiedMessage, s: PlanSettings): UnsubscribeRequest | null {
  const mailto = s.unsubscribeMailto;
  const toMailto = mailto !== undefined && c.to.some((a) => normalizeEmail(a) === mailto);
  const token = tokenInSubject.exec(c.subject)?.[1];
  const tokenSendId = token ? verifyUnsubscribeToken(token, s.keys) : null;
  const mailtoRequest =
    toMailto && (tokenSendId !== null || s.dedicatedMailto || /^\s*unsubscribe\b/i.test(c.subject));
  if (mailtoRequest) return { tokenSendId, isReply: false };
  if (c.kind === 'reply' && (c.asksRemoval || tokenSendId !== null)) return { tokenSendId, isReply: true };
  return null;
}

/** JSON for a person: why it is unknown, a complaint's report, each bounce recipient's own words. */
function details(c: ClassifiedMessage): string | null {
  const out: Record<string, unknown> = {};
  if (c.note) out.note = c.note;
  if (c.complaint) out.complaint = { feedbackType: c.complaint.feedbackType, emails: c.complaint.emails };
  if (c.kind === 'bounce' && c.bounce) {
    out.bounces = c.bounce.recipients.map((r) => ({
      email: r.email,
      status: r.status,
      replyCode: r.replyCode,
      diagnostic: r.diagnostic,
    }));
  }
  return Object.keys(out).length > 0 ? JSON.stringify(out) : null;
}

/** Kinds a message to the unsubscribe mailto may have been taken for (Gmail's one-click mail is automatic). */
const mailtoKinds: readonly InboxMessageKind[] = ['reply', 'auto_reply', 'unknown'];

/** The store's record of one classified message: what it is, how to match it, what it may do. */
export function planRecord(
  ref: MailboxRef,
  c: ClassifiedMessage,
  s: PlanSettings,
  effects: MailboxEffects,
  now: number,
): InboxRecord {
  const at = receivedAt(c.date, now);
  const unsubscribe = mailtoKinds.includes(c.kind) ? unsubscribeRequest(c, s) : null;
  // A message to the mailto asking to be unsubscribed is the person's own answer, recorded as a reply.
  const kind: InboxMessageKind = unsubscribe ? 'reply' : c.kind;
  const text = c.text.trim();
  const bounces: RecordedBounce[] =
    kind === 'bounce'
      ? (c.bounce?.recipients ?? []).map((r) => ({ recipient: r, response: bounceResponse(r) }))
      : [];
  return {
    ref,
    kind,
    from: c.from ? normalizeEmail(c.from) : null,
    subject: c.subject,
    messageId: c.messageId,
    receivedAt: at,
    snippet: text ? text.slice(0, snippetChars) : null,
    details: details(c),
    match: matchQuery(c, s.keys, at),
    bounces,
    unsubscribe,
    softBounce: { limit: s.softBounceLimit, windowMs: softBounceWindowMs },
    effects,
    now,
  };
}
