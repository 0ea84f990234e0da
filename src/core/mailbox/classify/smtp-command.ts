/**
 * Which SMTP command a remote server's refusal answered, as far as the bounce says. It matters
 * for the reason: "user unknown" in answer to RCPT TO means the address is not there (a hard
 * bounce), while the same words after DATA, or with nothing saying when they were given, are
 * often a filter's refusal dressed up as an unknown user (Japanese carriers, some gateways).
 * Sisimai (BSD-2) weighs the command the same way; the phrases below are our own, from what real
 * MTAs write:
 * - Postfix: `(in reply to RCPT TO command)`, `(in reply to end of DATA command)`;
 * - Exim: `SMTP error from remote mail server after RCPT TO:<…>`, `… after end of data`;
 * - Sendmail and its kin: the session transcript, `>>> RCPT To:<…>` then `<<< 550 …`;
 * - qmail: `… does not like recipient.` / `… does not like sender.`;
 * - gateways that name it: `SMTP:RCPT`, `after RCPT command`.
 * Words that only name a stage's usual refusal (`Recipient address rejected`, `rejected address`)
 * are not taken for the command: gateways repeat them after DATA.
 */

export type SmtpCommand = 'CONN' | 'HELO' | 'MAIL' | 'RCPT' | 'DATA';

/** Each way of naming the command, with the command it names (group 1 when it varies). */
const NAMED: Array<[RegExp, SmtpCommand | null]> = [
  [/in reply to (?:the )?(rcpt to|mail from|end of data|data|helo|ehlo|starttls)\b/g, null],
  [/\bafter (rcpt to|rcpt|mail from|end of data|data|helo|ehlo|initial connection)\b/g, null],
  // DATA is left out: with PIPELINING, Sendmail sends RCPT TO and DATA together and writes the
  // answer to RCPT TO after `>>> DATA`.
  [/^\s*>>> ?(rcpt|mail|helo|ehlo)\b/gm, null],
  [/\bsmtp:(rcpt|mail|data)\b/g, null],
  [/\b(rcpt|mail from|data)(?: to)? command\b/g, null],
  [/does not like recipient/g, 'RCPT'],
  [/does not like sender/g, 'MAIL'],
];

function commandOf(word: string): SmtpCommand {
  if (word.startsWith('rcpt')) return 'RCPT';
  if (word.startsWith('mail')) return 'MAIL';
  if (word.startsWith('helo') || word.startsWith('ehlo') || word === 'starttls') return 'HELO';
  if (word === 'initial connection') return 'CONN';
  return 'DATA';
}

/** Any word NAMED looks for: most texts have none, and one scan then settles it. */
const MENTIONS = /rcpt|mail from|data|>>>|helo|ehlo|starttls|initial connection|does not like/i;

/** The command the text last says a refusal answered; null when it names none. */
export function findCommand(text: string): SmtpCommand | null {
  if (!text || !MENTIONS.test(text)) return null;
  const lower = text.toLowerCase();
  let best: { at: number; command: SmtpCommand } | null = null;
  for (const [re, fixed] of NAMED) {
    re.lastIndex = 0;
    for (const m of lower.matchAll(re)) {
      const command = fixed ?? commandOf(m[1] ?? '');
      if (!best || m.index >= best.at) best = { at: m.index, command };
    }
  }
  return best?.command ?? null;
}

/**
 * The part of a notice about one recipient, where a transcript or a summary line names the
 * command: the whole notice when it reports one recipient, else the text around the recipient's
 * first mention (a transcript names the command just before the address, a summary just after).
 */
export function noticeAbout(notice: string, email: string | null, recipients: number): string {
  const text = notice.slice(0, 10_000);
  if (recipients <= 1) return text;
  if (!email) return '';
  const at = text.toLowerCase().indexOf(email.toLowerCase());
  return at < 0 ? '' : text.slice(Math.max(0, at - 300), at + email.length + 600);
}
