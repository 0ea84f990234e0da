/**
 * Delivery notices: whether a message is one (a mail system's sender, a delivery subject, a
 * report structure), and the text it says things in — its own text and delivery-status parts,
 * not the quoted original's.
 */
import { type MimePart, partText } from './mime.js';
import { htmlToText } from './reader-text.js';

const noticeSenders =
  /^(?:mailer-daemon|postmaster|post_master|mail-daemon|maildaemon|mail-delivery-subsystem|mdaemon|mmdf|smtp|bounces?|mail\.?delivery)@/i;
const noticeSubjects =
  /\b(?:undeliver|undelivered|delivery (?:status|failure|failed|notification|report)|returned mail|failure notice|non[- ]?delivery|mail delivery|nicht zustellbar|unzustellbar|non remis|no entregado|n[aã]o (?:foi )?entregue)/i;

/** A message from a mail system about delivery: its sender, its subject or its report structure say so. */
export function looksLikeNotice(m: {
  from: string | null;
  subject: string;
  topType: string;
  parts: MimePart[];
}): boolean {
  return (
    (m.from !== null && noticeSenders.test(m.from)) ||
    m.topType.startsWith('multipart/report') ||
    noticeSubjects.test(m.subject) ||
    m.parts.some((part) => !part.quoted && part.type.endsWith('delivery-status'))
  );
}

/** The notice's own text: its text parts and delivery-status parts, not the quoted original's. */
export function noticeText(parts: MimePart[]): string {
  const own = parts.filter((part) => !part.quoted);
  const plain = own.filter((part) => part.type === 'text/plain' || part.type.endsWith('delivery-status'));
  const chosen = plain.some((part) => part.type === 'text/plain')
    ? plain
    : [...plain, ...own.filter((part) => part.type === 'text/html')];
  return chosen
    .map((part) => (part.type === 'text/html' ? htmlToText(partText(part)) : partText(part)))
    .join('\n')
    .replace(/\r\n?/g, '\n');
}
