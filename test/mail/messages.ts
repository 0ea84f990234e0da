/**
 * Raw messages as real senders write them, for tests that feed the mailbox (over IMAP or straight
 * into services.mailbox.process): a human reply, an out-of-office auto-reply, a Postfix-style DSN
 * and an ARF complaint, each built as CRLF text for a message the SMTP sink received.
 *
 * Return types matter: the reply and the auto-reply carry UTF-8 text and are Buffers (the IMAP
 * server of test/mail/imap-server.ts stores a Buffer's bytes as they are); the DSN and the ARF
 * report are strings. Message-IDs are numbered by one counter per test file (vitest loads this
 * module once per file), so every message a test builds has its own.
 */
import type { Received } from '../smtp-sink.js';

/** What the builders need of a message the sink received. */
export type Original = Pick<Received, 'to' | 'from' | 'raw' | 'headers'>;

let n = 0;

/** Joins lines with CRLF, ending with one. */
export const crlf = (lines: string[]) => `${lines.join('\r\n')}\r\n`;
/** The header block of a raw CRLF message (without the blank line). */
export const headerBlock = (raw: string) => raw.slice(0, raw.indexOf('\r\n\r\n'));
/** A header of a received message by name (any case), or ''. */
export const header = (m: Pick<Received, 'headers'>, name: string) => m.headers[name.toLowerCase()] ?? '';

const domainOf = (address: string) => address.slice(address.lastIndexOf('@') + 1);
const localOf = (address: string) => address.split('@')[0];

/** The quoted original under a reply's text; a marker a test can look for once quotes are cut. */
export const defaultQuote = [
  'On Mon, 7 Dec 2026 at 09:00, Sales <sales@coldbatch.test> wrote:',
  '> Hello there',
  '> QUOTED-HISTORY of our first message',
];

/**
 * A reply from the recipient of `original`, threaded to it (In-Reply-To, References): `text` on
 * top, `quote` (an attribution line and quoted lines) below.
 */
export function reply(original: Original, text: string, o: { quote?: string[] } = {}): Buffer {
  const id = header(original, 'message-id');
  return Buffer.from(
    crlf([
      `From: ${localOf(original.to)} <${original.to}>`,
      'To: Sales <sales@coldbatch.test>',
      `Subject: Re: ${header(original, 'subject')}`,
      `Message-ID: <reply-${++n}@${domainOf(original.to)}>`,
      `In-Reply-To: ${id}`,
      `References: ${id}`,
      'MIME-Version: 1.0',
      'Content-Type: text/plain; charset=utf-8',
      'Content-Transfer-Encoding: 8bit',
      '',
      text,
      '',
      ...(o.quote ?? defaultQuote),
      '',
    ]),
    'utf8',
  );
}

/** What an out-of-office answer says, by language: its subject prefix and its text. */
const away = {
  en: {
    subject: 'Automatic reply',
    text: ['I am out of the office until January 20th with limited access to e-mail.'],
  },
  pt: {
    subject: 'Resposta automática',
    text: [
      'Olá! Estou fora do escritório até 20 de janeiro, com acesso limitado ao e-mail.',
      'Em caso de urgência, fale com a recepção.',
    ],
  },
  de: {
    subject: 'Abwesenheitsnotiz',
    text: ['Ich bin bis zum 6. April nicht im Büro und habe keinen Zugriff auf meine E-Mails.'],
  },
} as const;

/** An out-of-office answer (RFC 3834 Auto-Submitted: auto-replied) to `original`, in `language`. */
export function outOfOffice(original: Original, o: { language?: keyof typeof away } = {}): Buffer {
  const { subject, text } = away[o.language ?? 'en'];
  return Buffer.from(
    crlf([
      `From: ${localOf(original.to)} <${original.to}>`,
      'To: Sales <sales@coldbatch.test>',
      `Subject: ${subject}: ${header(original, 'subject')}`,
      `Message-ID: <ooo-${++n}@${domainOf(original.to)}>`,
      `In-Reply-To: ${header(original, 'message-id')}`,
      'Auto-Submitted: auto-replied',
      'MIME-Version: 1.0',
      'Content-Type: text/plain; charset=utf-8',
      'Content-Transfer-Encoding: 8bit',
      '',
      ...text,
      '',
    ]),
    'utf8',
  );
}

/**
 * A Postfix-style DSN (RFC 3464) to `to` for one failed `recipient`: the human part, the
 * message/delivery-status part (`status` such as 5.1.1, the SMTP `code` and `words` of the remote
 * answer) and, with `quote`, the original's headers as text/rfc822-headers. Without a quote only
 * the envelope (a VERP `to`) can say which send bounced.
 */
export function dsn(o: {
  to: string;
  recipient: string;
  status: string;
  code: string;
  words: string;
  quote?: Original;
}): string {
  const b = `dsn-boundary-${++n}`;
  const diag = `${o.code} ${o.status} <${o.recipient}>: ${o.words}`;
  return crlf([
    'From: Mail Delivery System <MAILER-DAEMON@mx.relay.example>',
    `To: ${o.to}`,
    'Subject: Undelivered Mail Returned to Sender',
    `Message-ID: <dsn-${n}@mx.relay.example>`,
    'Auto-Submitted: auto-replied',
    'MIME-Version: 1.0',
    `Content-Type: multipart/report; report-type=delivery-status; boundary="${b}"`,
    '',
    `--${b}`,
    'Content-Type: text/plain; charset=us-ascii',
    '',
    'This is the mail system at host mx.relay.example.',
    '',
    "I'm sorry to have to inform you that your message could not",
    'be delivered to one or more recipients.',
    '',
    `<${o.recipient}>: host mx.x.com[192.0.2.10] said: ${diag}`,
    '',
    `--${b}`,
    'Content-Type: message/delivery-status',
    '',
    'Reporting-MTA: dns; mx.relay.example',
    '',
    `Final-Recipient: rfc822; ${o.recipient}`,
    `Original-Recipient: rfc822;${o.recipient}`,
    'Action: failed',
    `Status: ${o.status}`,
    'Remote-MTA: dns; mx.x.com',
    `Diagnostic-Code: smtp; ${diag}`,
    '',
    ...(o.quote ? [`--${b}`, 'Content-Type: text/rfc822-headers', '', headerBlock(o.quote.raw), ''] : []),
    `--${b}--`,
  ]);
}

/** A hard bounce (5.1.1, user unknown) of `original`, to its (VERP) envelope sender; `quote`: with its headers. */
export const hardBounce = (original: Original, o: { quote?: boolean } = {}): string =>
  dsn({
    to: original.from,
    recipient: original.to,
    status: '5.1.1',
    code: '550',
    words: 'Recipient address rejected: User unknown',
    ...(o.quote ? { quote: original } : {}),
  });

/** A soft bounce (4.2.2, mailbox full) of `original`, to its (VERP) envelope sender; `quote`: with its headers. */
export const softBounce = (original: Original, o: { quote?: boolean } = {}): string =>
  dsn({
    to: original.from,
    recipient: original.to,
    status: '4.2.2',
    code: '452',
    words: 'Mailbox full',
    ...(o.quote ? { quote: original } : {}),
  });

/**
 * An ARF feedback report (RFC 5965) about `original`, quoted whole, sent by a mailbox provider's
 * feedback loop to `to` (the test apps' bounce address unless told).
 */
export function arf(original: Original, o: { to?: string } = {}): string {
  const b = `arf-boundary-${++n}`;
  return crlf([
    'From: Feedback Loop <fbl@feedback.mailbox.example>',
    `To: ${o.to ?? 'bounces@coldbatch.test'}`,
    'Subject: FW: Quick question',
    `Message-ID: <arf-${n}@feedback.mailbox.example>`,
    'MIME-Version: 1.0',
    `Content-Type: multipart/report; report-type=feedback-report; boundary="${b}"`,
    '',
    `--${b}`,
    'Content-Type: text/plain; charset=us-ascii',
    '',
    'This is an email abuse report for an email message received from IP 192.0.2.20.',
    '',
    `--${b}`,
    'Content-Type: message/feedback-report',
    '',
    'Feedback-Type: abuse',
    'User-Agent: ExampleFBL/1.0',
    'Version: 1',
    `Original-Mail-From: <${original.from}>`,
    `Original-Rcpt-To: <${original.to}>`,
    'Source-IP: 192.0.2.20',
    '',
    `--${b}`,
    'Content-Type: message/rfc822',
    '',
    original.raw.replace(/\r\n$/, ''),
    '',
    `--${b}--`,
  ]);
}
