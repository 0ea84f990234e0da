/**
 * The inbox's message classifier: what a read message is (reply, bounce, complaint, auto-reply,
 * delivery report, unknown) and what it says. Pure: bytes in, a ClassifiedMessage out, no I/O,
 * never throwing (a message that cannot be read is `unknown` with a note).
 *
 * The order of the questions matters:
 * 1. complaint — an ARF report (a message/feedback-report part or report-type=feedback-report),
 *    Outlook.com's JMRP report, an Apple Mail unsubscribe (X-Apple-Unsubscribe, an opt-out), an
 *    Amazon SES complaint;
 * 2. the machine-readable bounce — an SES bounce or delivery notification, an RFC 3464
 *    delivery-status part (also one wrapped in another notice): failed recipients make a bounce,
 *    delayed or delivered ones only a delivery report; a read receipt (RFC 8098) is an auto-reply;
 * 3. an autoresponder's own headers or an out-of-office subject → auto-reply (asked before the
 *    text scan, which must not read "I am away until…" as a failure);
 * 4. a bounce in words (bounce-text.ts), for the MTAs that write no delivery-status part (not
 *    asked of a person's answer: In-Reply-To set and nothing machine-like about it);
 * 5. RFC 3834 Auto-Submitted (asked after 4: Postfix and Exim mark their bounces with it too);
 * 6. a delivery notice none of the above could read → unknown, for a person;
 * 7. anything else is a reply from a person — unless its first words say they are away
 *    (auto-reply) or it is bulk or list mail (unknown: a newsletter is nobody's answer).
 */
import { type BounceRecipient, type ClassifiedMessage, unknownMessage } from '../types.js';
import {
  headerSaysAutomatic,
  headerSaysAutoReply,
  headerSaysBulk,
  subjectSaysAutoReply,
  textSaysAway,
} from './auto-reply.js';
import { scanBounceText } from './bounce-text.js';
import { type FoundRecipient, judgeRecipients, reportOutcome } from './bounces.js';
import {
  decodeWords,
  type HeaderList,
  headerValue,
  headerValues,
  type MimePart,
  partText,
  walkMime,
} from './mime.js';
import { looksLikeNotice, noticeText } from './notice.js';
import { addressesIn, messageIdsIn, type QuotedOriginal, readQuotedOriginal } from './original.js';
import { readerText } from './reader-text.js';
import { asksRemoval, newTextOf } from './reply-text.js';
import { addressOf, readFeedbackReport } from './reports.js';
import { readSesNotification } from './ses.js';

const maxText = 2000;
const maxScanned = 20_000;

/** Classifies one raw message (RFC 5322 bytes, as IMAP returns them). Never throws. */
export async function classifyMessage(raw: Buffer): Promise<ClassifiedMessage> {
  try {
    return await classify(raw);
  } catch (error) {
    return {
      ...blank(),
      note: `could not be read: ${error instanceof Error ? error.message : String(error)}`.slice(0, 300),
    };
  }
}

const blank = (): ClassifiedMessage => unknownMessage();

// A message has at least one of these; a blob without any is not an e-mail.
const essentialHeaders = ['from', 'to', 'subject', 'date', 'message-id', 'received', 'return-path', 'sender'];

// What is read of a message: notices, replies and the headers of a quoted original come first;
// the rest of a large message is its attachments, and reading them would only block the event loop.
const maxRead = 2 * 1024 * 1024;

async function classify(raw: Buffer): Promise<ClassifiedMessage> {
  const read = raw.subarray(0, maxRead).toString('latin1');
  // Old Mac mail ends lines with CR alone; read those as line ends too.
  const { headers, parts } = walkMime(read.includes('\n') ? read : read.replace(/\r/g, '\n'));
  if (!headers.some(([name]) => essentialHeaders.includes(name))) {
    return {
      ...blank(),
      note: 'not an e-mail message: it has no From, To, Subject, Date or Received header',
    };
  }
  const subject = decodeWords(headerValue(headers, 'subject') ?? '').trim();
  const from = addressOf(mailboxPart(decodeWords(headerValue(headers, 'from') ?? '')));
  const notice = noticeText(parts);
  const original = readQuotedOriginal(parts, notice);
  const dateValue = headerValue(headers, 'date');
  const date = dateValue ? Date.parse(dateValue.replace(/\s*\([^)]*\)\s*$/, '')) : Number.NaN;
  const message: ClassifiedMessage = {
    ...blank(),
    kind: 'reply',
    from,
    to: recipientsOf(headers),
    subject,
    messageId: messageIdsIn(headerValue(headers, 'message-id'))[0] ?? null,
    inReplyTo: messageIdsIn(headerValue(headers, 'in-reply-to'))[0] ?? null,
    references: messageIdsIn(headerValues(headers, 'references').join(' ')),
    date: Number.isFinite(date) ? date : null,
    originalMessageIds: original.messageIds,
    originalSenders: original.senders,
  };
  const summary = cut(notice.trim());
  return decide({
    headers,
    parts,
    subject,
    from,
    notice,
    original,
    readerText: () => readerText(raw.subarray(0, maxRead), parts),
    message,
    summary,
  });
}

type Context = {
  headers: HeaderList;
  parts: MimePart[];
  subject: string;
  from: string | null;
  notice: string;
  original: QuotedOriginal;
  /** The text a person reads (computed only for replies and auto-replies). */
  readerText: () => Promise<string>;
  message: ClassifiedMessage;
  summary: string;
};

async function decide(c: Context): Promise<ClassifiedMessage> {
  const { headers, parts, message, original } = c;
  const fallbackEmail = original.recipients.length === 1 ? (original.recipients[0] ?? null) : null;
  const topType = (headerValue(headers, 'content-type') ?? '').toLowerCase();
  const isNotice = looksLikeNotice({ from: c.from, subject: c.subject, topType, parts });
  // RFC 5321 §4.5.5: notices go out with a null reverse-path, which arrives as Return-Path: <>
  // (auto-replies too, RFC 3834 §3.3, so this alone does not rule out an out-of-office).
  const nullSender = /^\s*<\s*>\s*$/.test(headerValue(headers, 'return-path') ?? '');

  // 1. Complaints.
  const feedback = parts.find((part) => !part.quoted && part.type === 'message/feedback-report');
  if (feedback || /report-type\s*=\s*"?feedback-report/.test(topType)) {
    const report = feedback ? readFeedbackReport(partText(feedback)) : null;
    const emails = report?.rcptTo.length ? report.rcptTo : original.recipients;
    return complaint(c, report?.feedbackType ?? 'abuse', emails);
  }
  // Outlook.com's JMRP report (not ARF): the complainer in X-HmXmrOriginalRecipient.
  const hotmail = addressOf(headerValue(headers, 'x-hmxmroriginalrecipient'));
  if (hotmail) return complaint(c, 'abuse', [hotmail]);
  if (/^\s*(?:true|yes|1)\b/i.test(headerValue(headers, 'x-apple-unsubscribe') ?? '')) {
    return complaint(c, 'opt-out', c.from ? [c.from] : []);
  }
  const ses = readSesNotification(c.notice);
  if (ses) {
    const merge = (known: string[], more: string[]) => [...new Set([...known, ...more])];
    message.originalMessageIds = merge(message.originalMessageIds, ses.original.messageIds);
    message.originalSenders = merge(message.originalSenders, ses.original.senders);
  }
  if (ses?.type === 'complaint') return complaint(c, ses.feedbackType, ses.emails);

  // 2. Machine-readable bounces and delivery reports.
  const scan = () => scanText(c);
  if (ses?.type === 'delivery') return { ...message, kind: 'delivery_report', text: c.summary };
  if (ses?.type === 'bounce' && ses.recipients.length > 0) {
    const found = ses.recipients.map((entry) => ({ ...entry, action: 'failed' }));
    return bounce(c, judgeRecipients(found, fallbackEmail, c.notice));
  }
  const dsn = reportOutcome(parts, c.notice, isNotice || nullSender, scan);
  if (dsn?.kind === 'bounce') return bounce(c, judgeRecipients(dsn.found, fallbackEmail, c.notice));
  if (dsn?.kind === 'delivery_report') {
    // Its recipients (delayed or delivered) are listed for a person and for matching; no effect.
    return { ...message, kind: 'delivery_report', text: c.summary, bounce: { recipients: dsn.recipients } };
  }
  if (/report-type\s*=\s*"?disposition-notification/.test(topType)) {
    // A read receipt (RFC 8098) is sent by the reader's software, not written by them.
    return { ...message, kind: 'auto_reply', text: c.summary };
  }

  // 3. Autoresponders by their own headers or subject.
  if (headerSaysAutoReply(headers) || (!isNotice && subjectSaysAutoReply(c.subject))) return autoReply(c);

  // 4. A bounce in words. Not asked of a person's answer to a message (In-Reply-To set, neither a
  // notice nor machine-sent): "my colleague said your mail could not be delivered" is a reply.
  const personAnswering = !isNotice && message.inReplyTo !== null && !headerSaysAutomatic(headers);
  const scanned = personAnswering ? null : scan();
  if (scanned && scanned.length > 0) return bounce(c, judgeRecipients(scanned, fallbackEmail, c.notice));

  // 5. Anything else a machine sent.
  if (headerSaysAutomatic(headers)) return autoReply(c);

  // 6. A delivery notice nothing could read.
  if (isNotice || nullSender) {
    return {
      ...message,
      kind: 'unknown',
      text: c.summary,
      note: 'a delivery notice without a readable failed recipient',
    };
  }

  // 7. A person, unless the first words say they are away, or it is a newsletter or list mail.
  const text = newTextOf(await c.readerText());
  if (textSaysAway(text)) return { ...message, kind: 'auto_reply', text };
  if (headerSaysBulk(headers)) {
    return { ...message, kind: 'unknown', text, note: 'bulk or mailing-list mail, not a personal reply' };
  }
  return { ...message, kind: 'reply', text, asksRemoval: asksRemoval(text, c.subject) };
}

function complaint(c: Context, feedbackType: string, emails: string[]): ClassifiedMessage {
  return {
    ...c.message,
    kind: 'complaint',
    text: c.summary,
    complaint: { feedbackType, emails: [...new Set(emails.map((email) => email.toLowerCase()))] },
  };
}

function bounce(c: Context, recipients: BounceRecipient[]): ClassifiedMessage {
  return { ...c.message, kind: 'bounce', text: c.summary, bounce: { recipients } };
}

async function autoReply(c: Context): Promise<ClassifiedMessage> {
  return { ...c.message, kind: 'auto_reply', text: newTextOf(await c.readerText()) };
}

function scanText(c: Context): FoundRecipient[] | null {
  const headerMap = new Map<string, string>();
  for (const [name, value] of c.headers) if (!headerMap.has(name)) headerMap.set(name, decodeWords(value));
  // A notice says what failed near its start; the rest of a long text would only cost time.
  return scanBounceText({
    subject: c.subject,
    from: c.from,
    text: c.notice.slice(0, maxScanned),
    headers: headerMap,
  });
}

function recipientsOf(headers: HeaderList): string[] {
  const found = new Set<string>();
  for (const name of ['to', 'cc', 'delivered-to', 'x-original-to', 'envelope-to']) {
    for (const value of headerValues(headers, name))
      for (const email of addressesIn(decodeWords(value))) found.add(email);
  }
  return [...found];
}

/** The `<addr>` of a mailbox when it has one (a display name may hold an @ too). */
function mailboxPart(value: string): string {
  return /<([^<>\s]+@[^<>\s]+)>/.exec(value)?.[1] ?? value;
}

function cut(text: string): string {
  return text.length > maxText ? `${text.slice(0, maxText - 1)}…` : text;
}
