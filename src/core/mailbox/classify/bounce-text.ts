/**
 * Reads the failed recipients out of a bounce's human-readable text, for the bounces that carry no
 * machine-readable message/delivery-status part (qmail, Exim, Gmail, Yahoo, Exchange 2003, Notes,
 * Courier, DragonFly, …) or whose part lacks the recipient or the diagnostic.
 *
 * One shape covers them: a notice, then the failed addresses, each followed by the remote server's
 * words, then a copy of the original message. So: cut the copy off, find the addresses that are
 * not the sender's, the notice's or the copy's, and give each the lines that follow it up to the
 * next address (the notice's own lines when those say nothing). The phrase lists are our own,
 * learnt from what real MTAs write (Sisimai's corpus, BSD-2).
 */
import { findReplyCode, findStatus, normalizeDiagnostic, reasonOf } from './bounce-reason.js';

export type ScannedRecipient = {
  email: string | null;
  status: string | null;
  replyCode: string | null;
  diagnostic: string;
  /**
   * `delayed` when the notice is only a warning (the MTA keeps trying: a delivery report by
   * PRODUCT.md §7, not a bounce); `failed` otherwise.
   */
  action: 'failed' | 'delayed';
};

/** Senders that write bounces: mail systems, list managers, no-reply robots. */
const BOUNCE_FROM =
  /mailer-daemon|mail[ -]?daemon|post_?master|mail delivery (system|subsystem|service)|mail administrator|system administrator|mdaemon|mmdf|delivery (status )?notification|bounce|no-?reply@|-(admin|owner)@|owner-/i;

/** Subjects bounces carry. */
const BOUNCE_SUBJECT =
  /undeliver|undelivered|not delivered|non[- ]?deliver|delivery (status notification|failure|failed|problem|notification|has failed)|returned (mail|to sender)|failure notice|mail delivery fail|mail system error|could not (be )?deliver|delivery (report|error)|mail failure|nicht zustellbar|unzustellbar|non remis|no se puede entregar|message (not delivered|could not be delivered|delayed|delivery)|warning: .*delayed|delayed mail|rejected|bounced?|error|loop alert|failure/i;

/** The notice's words: a text saying a message could not be delivered. */
const BOUNCE_BODY =
  /could not be delivered|couldn't be delivered|(was|were) not (delivered|received)|has not (yet )?been delivered|delivery (to the following recipient|has failed|failed|of your message|problem)|unable to deliver|undeliverable|did not reach|could not be reached|permanent (fatal )?error|transcript of session|qmail-send program|error delivering your mail|message (was )?(rejected|returned|bounced)|following (address(es)?|recipients?)( \(?es\)?)? (failed|had|was|were|could|did)|rejected by (a|the) remote|delivery attempts will continue|non-delivered|mail delivery failed|not (able|possible) to deliver|failed permanently|cannot be delivered|returned to you|no such (user|mailbox)|giving up|loop alert|duplicated message-id|ha(s|ve) been (blocked|rejected)|delivery (status notification|failure)/i;

/** Notices only mail systems write, whoever forwards them. */
const STRONG_BODY =
  /qmail-send program|created automatically by mail delivery software|transcript of session follows|delivery to the following recipients? failed|delivery has failed to these recipients|the following address(es)? failed|error delivering your mail to|this is the mail system at host|automatically generated delivery status notification|could not be delivered to one or more (of its )?recipients/i;

/** Subjects only mail systems write. */
const STRONG_SUBJECT =
  /delivery status notification \((failure|delay)\)|undelivered mail returned to sender|returned mail: |mail delivery failed|^failure notice$|^undeliverable: /i;

/** An SMTP reply in the text: `550 5.1.1`, `<<< 550`, `said: 550`, a line opening with `550 `. */
const SMTP_ERROR =
  /(^|[\s:>(])[45]\d\d[ -]+#?[45]\.\d{1,3}\.\d{1,3}\b|(said|<<<|response( was)?|reply|error)[:\s]+[45]\d\d\b|^\s*[45]\d\d[ -]/im;

/** A notice that is only a warning: the message is still queued and will be tried again. */
const DELAY_NOTICE =
  /warning (message )?only|(has|have) not yet been delivered|not yet (been )?(delivered|received)|(has|have) been delayed|delivery attempts will continue|will be retried|still being retried|only a temporary failure report|delay(ed)? (mail|notification)|\(delay\)|warning: message .{0,40} delayed/i;

/** Success receipts and auto-replies: never bounces. */
const NOT_BOUNCE_SUBJECT =
  /\b(success(ful)?|delivered|relayed|expanded|read:|out of (the )?office|auto(matic)?[- ]?(reply|response)|vacation|abwesenheit|fora do escrit|aus(ser|ß)er haus)\b/i;
const FAILURE_WORDS = /fail|undeliver|not (be )?deliver|error|return|reject|bounce|delay|problem/i;

/** Where the copy of the original message begins (its headers or the MTA's banner before it). */
const ORIGINAL_START = [
  /^\s*-{2,}.{0,20}(original (message|mail|headers)|copy of the (original )?message|below this line|returned (message|mail)|undelivered message|unsent message|header of the original|headers? of (the )?(original|returned|your) message|forwarded message|included message|message headers|rfc ?822)/i,
  /^\s*(original message follows|message headers follow|original mail as follows|the header of the original|below (this line )?is a copy|a copy of the (original )?message (is )?(below|follows|attached)|the original message headers|original message headers)/i,
  /^(return-path|received|dkim-signature|x-received|authentication-results|arc-seal|x-google-dkim-signature|delivered-to):/i,
];

/** An address; it starts only where a local part can start, and its parts are bounded (no backtracking blow-up). */
const ADDRESS =
  /(?<![a-z0-9!#$%&'*+/=?^_`{|}~.-])<?([a-z0-9!#$%&'*+/=?^_`{|}~.-]{1,64}@[a-z0-9-]{1,63}(?:\.[a-z0-9-]{1,63}){1,8})>?/gi;

/**
 * Lines whose addresses are not failed recipients: the notice's summary of the original (From, To,
 * Subject), ids, the sender, and the postmaster to contact for help.
 */
const NOT_RECIPIENT_LINE =
  /^\s*(from|to|sender|reply-to|return-path|[\w-]*-id|in-reply-to|references|envelope-from|x-[\w-]+|reporting-mta|received-from-mta|arrival-date|subject|date|cc|original sender|sender-mta|diagnostic-code)\s*:|message-id|envelope-from|\bmsgid\b|\bfrom:? <?[^\s@]+@|(sent|mail(ed)?|message|posted) by\b|\bcontact\b|please (send|mail|write)|assistance|mail from:?\s*<?[^\s@]+@/i;

/** The notice without the copy of the original that follows it. */
function cutOriginal(lines: string[]): string[] {
  const end = lines.findIndex((line, i) => i > 0 && ORIGINAL_START.some((re) => re.test(line)));
  return end < 0 ? lines : lines.slice(0, end);
}

function addressesIn(line: string | null | undefined): string[] {
  return [...(line ?? '').matchAll(ADDRESS)].map((m) => (m[1] ?? '').toLowerCase().replace(/\.$/, ''));
}

/** The lines that say why, joined: blank lines dropped, space collapsed, at most 500 characters. */
function squeeze(lines: string[]): string {
  return (
    lines
      .map((l) => l.trim())
      // Blank lines, MIME boundaries and part headers (a notice with broken MIME) say nothing.
      .filter((l) => l !== '' && !/^(--\S|content-[\w-]+:)/i.test(l))
      .join(' ')
      .replace(/\s+/g, ' ')
      .slice(0, 500)
      .trim()
  );
}

/** Whether the words give a reason or a code, i.e. are worth keeping as the diagnostic. */
function saysWhy(text: string): boolean {
  return !!findReplyCode(text) || !!findStatus(text) || namesReason(text);
}

/** Whether the words (addresses aside) name a reason, not only a code. */
function namesReason(text: string): boolean {
  const reason = reasonOf(normalizeDiagnostic(text.replace(ADDRESS, ' ')), null);
  return reason !== 'onhold' && reason !== 'undefined';
}

/** A DSN-like "Field: value" in the text (Amazon WorkMail, some gateways write the fields as text). */
function field(lines: string[], name: string): string | null {
  const re = new RegExp(`^\\s*${name}\\s*:\\s*(.+)$`, 'i');
  for (const l of lines) {
    const m = re.exec(l);
    if (m?.[1]) return m[1].trim();
  }
  return null;
}

/**
 * Delivery-status fields written into the text (Amazon WorkMail's "Technical report", a bounce
 * forwarded as plain text): one entry per Final-Recipient that did not succeed or is only delayed.
 */
function fieldsInText(text: string): ScannedRecipient[] {
  const out: ScannedRecipient[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (!/^\s*final-recipient\s*:/i.test(lines[i] ?? '')) continue;
    // The block: this field to the first empty line or the next Final-Recipient, folded lines joined.
    const block: string[] = [];
    for (let j = i; j < lines.length; j++) {
      const line = lines[j] ?? '';
      if (line.trim() === '' || (j > i && /^\s*final-recipient\s*:/i.test(line))) break;
      if (/^\s/.test(line) && block.length > 0) block[block.length - 1] += ` ${line.trim()}`;
      else block.push(line);
    }
    const email = addressesIn(field(block, 'final-recipient') ?? '')[0] ?? null;
    const action = (field(block, 'action') ?? '').toLowerCase();
    const status = /^[245]\.\d{1,3}\.\d{1,3}/.exec(field(block, 'status') ?? '')?.[0] ?? null;
    if (/^(deliver|relay|expand)/.test(action) || status?.startsWith('2')) continue;
    const diagnostic = (field(block, 'diagnostic-code') ?? '').replace(/^[\w-]+\s*;\s*/, '').slice(0, 500);
    if (!email || !(status || diagnostic)) continue;
    const delayed = action.startsWith('delay');
    out.push({
      email,
      status,
      replyCode: findReplyCode(diagnostic),
      diagnostic,
      action: delayed ? 'delayed' : 'failed',
    });
  }
  return out;
}

type Input = { subject: string; from: string | null; text: string; headers: Map<string, string> };

/**
 * Whether the message reads as a bounce at all. From a mail system (or no address at all), one
 * sign is enough: its words, an SMTP reply, a bounce subject. From what looks like a person, it
 * takes a mail system's own notice (a forwarded bounce) or all three signs, so that a reply saying
 * "the parcel could not be delivered" stays a reply.
 */
function readsAsBounce(input: Input, text: string, failedHeader: string[]): boolean {
  if (failedHeader.length > 0) return true;
  const subject = input.subject ?? '';
  if (NOT_BOUNCE_SUBJECT.test(subject) && !FAILURE_WORDS.test(subject)) return false;
  const fromHeader = input.headers.get('from') ?? '';
  const machine =
    BOUNCE_FROM.test(input.from ?? '') ||
    BOUNCE_FROM.test(fromHeader) ||
    !/@/.test(input.from ?? '') ||
    STRONG_SUBJECT.test(subject.trim());
  const signs = [BOUNCE_BODY.test(text), SMTP_ERROR.test(text), BOUNCE_SUBJECT.test(subject)];
  if (machine) return signs.some(Boolean);
  return STRONG_BODY.test(text) || signs.every(Boolean);
}

/** Each candidate address (not the notice's own) and the lines it appears on, in order of first appearance. */
function candidates(lines: string[], own: Set<string>, failedHeader: string[]): Map<string, number[]> {
  const seen = new Map<string, number[]>();
  lines.forEach((line, i) => {
    if (NOT_RECIPIENT_LINE.test(line)) return;
    for (const a of addressesIn(line)) {
      if (own.has(a) && !failedHeader.includes(a)) continue;
      const at = seen.get(a);
      if (!at) seen.set(a, [i]);
      else if (at[at.length - 1] !== i) at.push(i);
    }
  });
  return seen;
}

/**
 * The lines about one address: from each line naming it, that paragraph, then the next ones
 * while they have not yet said why (Gmail puts an empty line between the address and the words),
 * never past a line naming another address; stops at the first occurrence that names a reason.
 */
function blockOf(lines: string[], starts: number[], addressLines: Set<number>): string[] {
  const out: string[] = [];
  // Bounded work: the first occurrences, a few kilobytes of words.
  for (const start of starts.slice(0, 10)) {
    if (out.join(' ').length > 4000) break;
    const first = lines[start] ?? '';
    let paragraph = [first];
    // A line that already says why (`554 <a@b>... Host unknown`, `a@b: Network error`) takes only
    // its continuation lines, indented deeper (Postfix folds its long lines so).
    const complete = !/:\s*$/.test(first) && namesReason(first);
    const indent = indentOf(first);
    for (let i = start + 1; i <= lines.length; i++) {
      const line = lines[i];
      const shallow = complete && line !== undefined && indentOf(line) <= indent;
      const other = line === undefined || addressLines.has(i) || shallow;
      if (!other && line.trim() !== '') {
        paragraph.push(line);
        continue;
      }
      out.push(...paragraph);
      paragraph = [];
      if (other || saysWhy(out.join(' '))) break;
    }
    // The first words that name a reason are the remote server's; later ones the MTA's summary.
    if (namesReason(out.join(' '))) break;
  }
  return out;
}

const indentOf = (line: string) => /^\s*/.exec(line)?.[0].length ?? 0;

/** The words of a block: its Diagnostic-Code field when it has one, else its lines joined. */
function wordsOf(block: string[]): string {
  const diagLine = field(block, 'diagnostic-code');
  return diagLine ? diagLine.replace(/^[\w-]+\s*;\s*/, '') : squeeze(block);
}

/** Scans a bounce's text for its failed recipients; null when it is not a bounce. */
export function scanBounceText(input: Input): ScannedRecipient[] | null {
  const failedHeader = addressesIn(input.headers.get('x-failed-recipients'));
  // A notice is a few kilobytes; a bounce quoting a huge original is read no further than this.
  const text = (input.text ?? '').slice(0, 100_000).replace(/\r\n?/g, '\n');
  if (!readsAsBounce(input, text, failedHeader)) return null;

  const lines = cutOriginal(text.split('\n'));
  const own = new Set(
    [input.from, input.headers.get('to'), input.headers.get('return-path')].flatMap(addressesIn),
  );
  const seen = candidates(lines, own, failedHeader);
  const emails: Array<string | null> = failedHeader.length > 0 ? failedHeader : [...seen.keys()];
  if (emails.length === 0) emails.push(null);
  const firstLine = Math.min(lines.length, ...[...seen.values()].map((at) => at[0] ?? lines.length));
  const preamble = lines.slice(0, firstLine);
  const addressLines = new Set([...seen.values()].flat());
  const blocks = emails.map((email) => ({
    email,
    block: email ? blockOf(lines, seen.get(email) ?? [], addressLines) : [],
  }));

  // When some addresses come with their own words, an address without any is not a failed
  // recipient but one the notice mentions (a helpdesk, a list owner).
  const anySays = blocks.some(({ block }) => saysWhy(wordsOf(block)));
  const action = DELAY_NOTICE.test(`${input.subject ?? ''}\n${lines.join('\n')}`) ? 'delayed' : 'failed';
  const recipients: ScannedRecipient[] = [];
  for (const { email, block } of blocks) {
    let words = wordsOf(block);
    if (!saysWhy(words)) {
      if (anySays && failedHeader.length === 0) continue;
      words = squeeze([...preamble, words]);
    }
    const status = field(block, 'status');
    recipients.push({
      email,
      status: status && /^[245]\.\d{1,3}\.\d{1,3}$/.test(status) ? status : null,
      replyCode: findReplyCode(words),
      diagnostic: words,
      action,
    });
  }

  // Fields written as text name the recipients best; the scan lends them words they lack.
  const fields = fieldsInText(text);
  for (const entry of fields) {
    const twin = recipients.find((r) => r.email === entry.email);
    if (!entry.diagnostic && twin) {
      entry.diagnostic = twin.diagnostic;
      entry.replyCode = twin.replyCode;
    }
  }
  if (fields.length > 0) return fields;
  return recipients.length > 0 ? recipients : null;
}
