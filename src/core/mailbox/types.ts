/**
 * What the inbox (INBOX_URL) reads, in core's words: where a message was read, and what the
 * classifier (classify.ts) made of it. The reader (src/mail/imap/) hands raw messages to
 * MailboxService, which classifies, matches them to sends and applies their effects.
 */
import type { InboxMessageKind } from '../vocabulary.js';

/** Where a message was read: (mailbox, UIDVALIDITY, UID) names it across restarts and reconnects. */
export type MailboxRef = {
  /** The mailbox without its password: `imap://user@host:port/INBOX`. */
  mailbox: string;
  uidValidity: string;
  uid: number;
};

/** One failed recipient of a bounce, judged. */
export type BounceRecipient = {
  /** The failed address (lowercased), or null when the bounce does not name it. */
  email: string | null;
  /** RFC 3463 enhanced status (`5.1.1`); a pseudo `5.0.9xx`/`4.0.9xx` when the text gives none. */
  status: string;
  /** The status class is 5 (permanent) rather than 4 (transient). */
  permanent: boolean;
  /**
   * A hard bounce: the address or its domain does not exist or has moved (userunknown,
   * hostunknown, hasmoved; notaccept unless temporary). Everything else is soft, even a 5.x.x
   * mailbox-full, filtered or spam block.
   */
  hard: boolean;
  /** Why, in a small vocabulary (userunknown, mailboxfull, hostunknown, expired, filtered, spamdetected, …). */
  reason: string;
  /** The SMTP reply code (`550`), null when the bounce gives none. */
  replyCode: string | null;
  /** The remote server's words, cut to 500 characters. */
  diagnostic: string;
};

/** A feedback-loop report (ARF, RFC 5965). */
export type ComplaintInfo = {
  /** `abuse`, `opt-out`, `auth-failure`, `fraud`, `virus`, `not-spam`, `other`. */
  feedbackType: string;
  /** The complaining recipients' addresses (Original-Rcpt-To, the original's To), lowercased. */
  emails: string[];
};

/** What a read message is and what it says; built by classifyMessage, never throwing. */
export type ClassifiedMessage = {
  kind: InboxMessageKind;
  /** The sender's address (From, lowercased), null when it has none. */
  from: string | null;
  /** Addresses it was delivered to (To, Cc, Delivered-To, X-Original-To, Envelope-To), lowercased. */
  to: string[];
  subject: string;
  /** The message's own first Message-ID (with its angle brackets), null when it has none. */
  messageId: string | null;
  inReplyTo: string | null;
  references: string[];
  /** The Date header in ms, null when absent or unreadable. */
  date: number | null;
  /**
   * Message-IDs of the original message a bounce or complaint quotes (message/rfc822,
   * text/rfc822-headers, or quoted header lines), for matching it to a send.
   */
  originalMessageIds: string[];
  /** Addresses the quoted original was sent from (its Return-Path/From), e.g. a VERP address. */
  originalSenders: string[];
  /** Replies: the new text, quoted history and signature removed, at most 2,000 characters. */
  text: string;
  /** A reply asking to be removed (unsubscribe, remove me, descadastrar, remover…). */
  asksRemoval: boolean;
  bounce?: { recipients: BounceRecipient[] };
  complaint?: ComplaintInfo;
  /** Why it is `unknown` (could not be parsed, …), for a person. */
  note?: string;
};

/** A message of kind `unknown` that says nothing yet (the classifier fills in what it reads). */
export function unknownMessage(note?: string): ClassifiedMessage {
  return {
    kind: 'unknown',
    from: null,
    to: [],
    subject: '',
    messageId: null,
    inReplyTo: null,
    references: [],
    date: null,
    originalMessageIds: [],
    originalSenders: [],
    text: '',
    asksRemoval: false,
    ...(note !== undefined ? { note } : {}),
  };
}
