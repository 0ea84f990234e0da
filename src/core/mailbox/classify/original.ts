/**
 * The original message a bounce or a complaint returns: its Message-IDs and senders (for matching
 * it to a send: our Message-ID and VERP envelope sender carry the send's tag) and its recipients
 * (a complaint's complainer when the report does not name them). Read from message/rfc822,
 * message/global, text/rfc822-headers and message/global-headers parts, and from header lines a
 * plain-text bounce quotes in its body.
 */

import {
  type HeaderList,
  headerValue,
  headerValues,
  type MimePart,
  parseHeaders,
  splitMessage,
} from './mime.js';
import { addressOf } from './reports.js';

export type QuotedOriginal = {
  messageIds: string[];
  senders: string[];
  recipients: string[];
};

const headerPartTypes = new Set(['text/rfc822-headers', 'text/rfc822-header', 'message/global-headers']);
const messagePartTypes = new Set(['message/rfc822', 'message/global']);
const reportPartTypes = new Set([
  'message/feedback-report',
  'message/delivery-status',
  'message/global-delivery-status',
]);

/** The quoted original's ids, senders and recipients, each list without repeats. */
export function readQuotedOriginal(parts: MimePart[], noticeText: string): QuotedOriginal {
  const blocks: HeaderList[] = [];
  for (const part of parts) {
    if (headerPartTypes.has(part.type))
      blocks.push(parseHeaders(part.body.replace(/\r?\n\r?\n[\s\S]*$/, '')));
    else if (messagePartTypes.has(part.type)) blocks.push(parseHeaders(splitMessage(part.body).head));
    // The report's own record of the envelope sender (our VERP address): ARF's Original-Mail-From,
    // Postfix's X-Postfix-Sender in its delivery-status part.
    else if (!part.quoted && reportPartTypes.has(part.type)) {
      const fields = parseHeaders(part.body.replace(/\r?\n[ \t]*\r?\n/g, '\n'));
      blocks.push(
        fields
          .filter(([name]) => name === 'original-mail-from' || name === 'x-postfix-sender')
          .map(([, value]): [string, string] => ['x-envelope-from', value]),
      );
    }
  }
  const ids = new Set<string>();
  const senders = new Set<string>();
  const recipients = new Set<string>();
  for (const block of blocks) {
    for (const value of headerValues(block, 'message-id'))
      for (const id of messageIdsIn(value).slice(0, 1)) ids.add(id);
    for (const name of ['return-path', 'from', 'sender', 'x-envelope-from']) {
      const email = addressOf(headerValue(block, name));
      if (email) senders.add(email);
    }
    for (const name of ['to', 'cc'])
      for (const value of headerValues(block, name))
        for (const email of addressesIn(value)) recipients.add(email);
  }
  // Header lines quoted in a plain-text body ("Message-ID: <…>", "Return-Path: <…>"), possibly after "> ".
  for (const match of noticeText.matchAll(/^[>\s]*message-id:\s*(<[^>\s]+>)/gim))
    if (match[1]) ids.add(match[1]);
  for (const match of noticeText.matchAll(/^[>\s]*(?:return-path|x-envelope-from):\s*(.+)$/gim)) {
    const email = addressOf(match[1] ?? null);
    if (email) senders.add(email);
  }
  return { messageIds: [...ids], senders: [...senders], recipients: [...recipients] };
}

/** The `<…>` ids in a header value (Message-ID, In-Reply-To, References), in order. */
export function messageIdsIn(value: string | null): string[] {
  if (!value) return [];
  const ids = [...value.matchAll(/<[^<>\s]+>/g)].map((match) => match[0]);
  if (ids.length > 0) return ids;
  // A bare id without brackets (some mailers): one token with an @.
  const bare = value.trim();
  return /^[^\s<>]+@[^\s<>]+$/.test(bare) ? [`<${bare}>`] : [];
}

/** Every address in an address-list header value, lowercased. */
export function addressesIn(value: string | null): string[] {
  if (!value) return [];
  const found = value.match(/[^\s<>;:"'(),[\]]+@[^\s<>;:"'(),[\]]+\.[^\s<>;:"'(),[\]]+/g) ?? [];
  return found.map((email) => email.replace(/\.$/, '').toLowerCase());
}
