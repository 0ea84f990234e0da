/**
 * Judges one failed recipient of a bounce: from the enhanced status (RFC 3463), the SMTP reply
 * code and the remote server's words, why it failed (Sisimai's reason vocabulary,
 * https://libsisimai.org/en/reason/), whether it is permanent (class 5) and whether it is a hard
 * bounce (the address or its domain is gone: userunknown, hostunknown, hasmoved, and notaccept
 * unless temporary; everything else, even a 5.x.x mailbox-full or spam block, is soft).
 *
 * The phrase families are in reason-words.ts; the SMTP command a refusal answered, which decides
 * whether unknown-user words are a hard bounce, in smtp-command.ts.
 */
import { addressRefused, CARRIER_FILTER, WORDS } from './reason-words.js';
import { findCommand, type SmtpCommand } from './smtp-command.js';

export type BounceJudgement = { status: string; permanent: boolean; hard: boolean; reason: string };

const HARD = new Set(['userunknown', 'hostunknown', 'hasmoved']);

/** Reasons tried first, as a status or the words can say them (the specific before the generic). */
const FIRST = (
  'mailboxfull mesgtoobig exceedlimit suspend hasmoved norelaying authfailure userunknown filtered requireptr ' +
  'notcompliantrfc badreputation contenterror rejected hostunknown spamdetected speeding toomanyconn blocked'
).split(' ');
/** The reasons after `userunknown` in FIRST: a status naming one outranks unproven unknown-user words. */
const LATER = new Set(FIRST.slice(FIRST.indexOf('userunknown') + 1));
/** Words that overrule a 5.1.x status (a relay, block, full mailbox… answered with 5.1.1). */
const OVERRULE_5_1_1 =
  'norelaying blocked mailboxfull hasmoved rejected notaccept mailererror filtered'.split(' ');
/** Then the words alone, for reasons a status rarely names. */
const THEN = (
  'mailboxfull authfailure badreputation speeding spamdetected virusdetected policyviolation norelaying ' +
  'systemerror networkerror suspend contenterror systemfull notaccept expired failedstarttls securityerror mailererror'
).split(' ');

/**
 * Per reason: Sisimai's pseudo status code (x.0.9NN, for a bounce that gives no code), then the
 * RFC 3463 / IANA codes (subject.detail) that name the reason on their own.
 */
const REASONS: Record<string, [pseudo: string, codes: string]> = {
  undefined: ['900', ''],
  onhold: ['901', ''],
  syntaxerror: ['902', '5.2 5.6'],
  suppressed: ['903', ''],
  norelaying: ['909', ''],
  filtered: ['910', '1.4 2.0 2.1 2.4'],
  userunknown: ['911', '1.0 1.1 1.3'],
  hostunknown: ['912', '1.2 4.4'],
  hasmoved: ['916', '1.6 7.17 7.18'],
  rejected: ['918', '1.7 1.8'],
  suspend: ['921', '7.13'],
  mailboxfull: ['922', '2.2'],
  exceedlimit: ['923', '2.3'],
  authfailure: ['926', '7.20 7.21 7.22 7.23 7.24 7.26 7.29'],
  systemerror: ['930', '1.9 3.0 3.3 3.5 4.3 5.4 5.5'],
  systemfull: ['931', '3.1 4.5'],
  notaccept: ['932', '1.10 3.2 7.27'],
  mesgtoobig: ['934', '3.4 7.16'],
  mailererror: ['939', ''],
  networkerror: ['944', '4.0 4.2 4.6'],
  toomanyconn: ['945', '5.3'],
  speeding: ['946', ''],
  expired: ['947', '4.1 4.7'],
  contenterror: ['960', ''],
  securityerror: ['970', ''],
  blocked: ['971', ''],
  policyviolation: ['972', ''],
  requireptr: ['973', '7.25'],
  notcompliantrfc: ['974', ''],
  badreputation: ['975', ''],
  failedstarttls: ['976', '7.30'],
  spamdetected: ['980', '7.28'],
  virusdetected: ['981', ''],
};
const BY_CODE = new Map(
  Object.entries(REASONS).flatMap(([reason, [, codes]]) =>
    codes ? codes.split(' ').map((code) => [code, reason] as const) : [],
  ),
);

/** What an enhanced status code says on its own. */
function statusReason(status: string): string | null {
  const [cls, subject, detail] = status.split('.');
  // A few codes mean something else, or nothing definite, in their temporary form.
  if (cls === '4' && subject === '2' && detail === '1') return 'blocked';
  if (cls === '4' && subject === '4' && detail === '4') return 'networkerror';
  if (cls === '4' && subject === '1' && (detail === '1' || detail === '2' || detail === '0')) return null;
  const found = BY_CODE.get(`${subject}.${detail}`);
  if (found) return found;
  if (subject === '6') return 'contenterror';
  if (subject === '7') return cls === '4' && detail === '1' ? 'blocked' : 'securityerror';
  return null;
}

/** Words of a notice that is only a delay: the MTA keeps trying. */
const TEMPORARY =
  / temporar| persistent|try again later|will be retried|will (continue to )?retry|delivery attempts will continue|(has|have) been delayed|delay in (the )?delivery|warning message only|not yet (been )?delivered|still being retried/;
/** Exim's words when it stops retrying a host: Sisimai counts such an expiry as transient. */
const EXPIRED_RETRYING = /retry timeout exceeded|failing for a long time/;

const STATUS_IN_TEXT = /(?<![\d.v])([45])\.([0-7])\.(\d{1,3})(?![\d]|\.\d)/gi;
const REPLY_IN_TEXT = /(?:^|[\s:;(<"'[#=])([45][0-5]\d)(?=[\s,;-]|$)/;

/** Lowercased, addresses as `<a>`, IPv4 addresses as `ip`, whitespace collapsed. */
export function normalizeDiagnostic(text: string): string {
  return text
    .toLowerCase()
    .replace(
      /(?<![^\s<>()[\]"',;:@])<?[^\s<>()[\]"',;:@]{1,64}@[a-z0-9][a-z0-9.-]{0,252}[a-z0-9]>?/g,
      ' <a> ',
    )
    .replace(/\b\d{1,3}(?:\.\d{1,3}){3}\b/g, ' ip ')
    .replace(/\s+/g, ' ')
    .trim();
}

/** The first enhanced status code the text gives, preferring a specific one to x.0.0 and 4.4.7. */
export function findStatus(text: string): string | null {
  let vague: string | null = null;
  for (const m of text.replace(/\b\d{1,3}(?:\.\d{1,3}){3}\b/g, ' ').matchAll(STATUS_IN_TEXT)) {
    const code = `${m[1]}.${m[2]}.${m[3]}`;
    if (code.endsWith('.0.0') || code === '4.4.7') vague ??= code;
    else return code;
  }
  return vague;
}

/** The SMTP reply code the text opens a reply with (`550 5.1.1 …`, `said: 550 …`). */
export function findReplyCode(text: string): string | null {
  return REPLY_IN_TEXT.exec(text.replace(/\b\d{1,3}(?:\.\d{1,3}){3}\b/g, ' '))?.[1] ?? null;
}

const validStatus = (s: string | null | undefined): s is string => !!s && /^[245]\.\d{1,3}\.\d{1,3}$/.test(s);

/** Between the DSN's Status field and the code in the words, the one the reply code agrees with, else the specific one. */
function preferStatus(field: string | null, inText: string | null, reply: string | null): string | null {
  if (!field) return inText;
  if (!inText || field === inText) return field;
  if (reply && field[0] !== inText[0]) return reply[0] === inText[0] ? inText : field;
  if (field.endsWith('.0.0') || field === '4.4.7' || field === '4.7.0') return inText;
  if (/^5\.3\.|^.\.5\.[1245]$/.test(field)) return inText;
  if (field.endsWith('.0') && !inText.endsWith('.0')) return inText;
  return field;
}

/** What else a bounce says about one recipient, asked only when the words leave it open. */
export type Evidence = {
  /** The SMTP command the refusal answered (smtp-command.ts), null when the bounce names none. */
  command: () => SmtpCommand | null;
  /** The notice's own words about the recipient, lowercased (empty when it has none). */
  context: () => string;
};

/**
 * The reason the words name. An address refused in answer to MAIL FROM is the sender's problem;
 * "user unknown" given after DATA, once the address had been accepted at RCPT TO, is a filter's
 * answer. Without `evidence` the command is looked for in the words alone.
 */
export function reasonOf(
  words: string,
  status: string | null,
  action?: string | null,
  evidence?: Evidence,
): string {
  const ask = evidence ?? { command: () => findCommand(words), context: () => '' };
  const reason = reasonByLists(words, status, action, ask);
  if (['userunknown', 'hostunknown', 'onhold'].includes(reason) && ask.command() === 'MAIL')
    return 'rejected';
  const afterData = reason === 'userunknown' && !/^5\.1\./.test(status ?? '') && ask.command() === 'DATA';
  return afterData ? 'filtered' : reason;
}

/** The reason by the first list (status- or text-led), then the second (text only), then the status. */
function reasonByLists(
  words: string,
  status: string | null,
  action: string | null | undefined,
  evidence: Evidence,
): string {
  const fromStatus = status ? statusReason(status) : null;
  const says = (r: string) => WORDS[r]?.test(words) ?? false;
  for (const r of FIRST) {
    if (r === 'userunknown') {
      if (CARRIER_FILTER.test(words)) return 'filtered';
      if (fromStatus === 'userunknown') {
        // 5.1.1 unless the words clearly say another thing.
        if (!OVERRULE_5_1_1.some(says)) return r;
        continue;
      }
      // A sender problem (5.1.7, 5.1.8) or a refusal of MAIL FROM is the sender's, not the recipient's.
      if (fromStatus === 'suspend' || fromStatus === 'rejected') continue;
      if (!says(r)) continue;
      // A mailbox (5.2.x) or policy (5.7.x) code outranks "user unknown" words unless they answer RCPT TO.
      const rcpt = evidence.command() === 'RCPT';
      if ((fromStatus === 'filtered' || fromStatus === 'securityerror') && !rcpt) continue;
      if (rcpt || addressRefused(words, evidence.context)) return r;
      // Unproven: a code naming another reason (a host unknown, a block…) goes on to that reason;
      // otherwise a filter's refusal in an unknown user's words, soft (Sisimai's `filtered`).
      if (fromStatus && LATER.has(fromStatus)) continue;
      return 'filtered';
    }
    if (r === 'hostunknown' && fromStatus === r) {
      if (!says('networkerror')) return r;
      continue;
    }
    // x.2.3 names a per-mailbox size limit, not the system's.
    if (r === 'mesgtoobig' && fromStatus === 'exceedlimit') continue;
    if (fromStatus === r || says(r)) return r;
  }
  for (const r of THEN) if (says(r)) return r;
  if (fromStatus) return fromStatus;
  if (action === 'delayed' || action === 'expired') return 'expired';
  return words ? 'onhold' : 'undefined';
}

/** Judges one failed recipient: the reason, the status (a pseudo code when none is given), permanent and hard. */
export function judgeBounce(input: {
  status: string | null;
  replyCode: string | null;
  diagnostic: string;
  action?: string | null;
  /** The SMTP command the refusal answered, when known already (else looked for in `diagnostic`, then `context`). */
  command?: SmtpCommand | null;
  /** The notice's own words about this recipient (noticeAbout), read for the command and for proof of an unknown user. */
  context?: string;
}): BounceJudgement {
  const text = (input.diagnostic ?? '').slice(0, 4000);
  const words = normalizeDiagnostic(text);
  const reply =
    input.replyCode && /^[245]\d\d$/.test(input.replyCode) ? input.replyCode : findReplyCode(text);
  const given = /^\s*([45]\.\d{1,3}\.\d{1,3})\b/.exec(input.status ?? '')?.[1] ?? null;
  const field = validStatus(given) ? given : null;
  const inText = findStatus(text);
  let status = preferStatus(field, inText, reply);
  // Looked for only when the reason depends on them; the command in the words before the notice's.
  let command = input.command;
  let context: string | null = null;
  const evidence: Evidence = {
    command: () => {
      if (command === undefined) command = findCommand(text) ?? findCommand(input.context ?? '');
      return command;
    },
    context: () => {
      // Lowercased, spaces collapsed; addresses kept (normalising them would cost more than it gives).
      context ??= (input.context ?? '').slice(0, 6000).toLowerCase().replace(/\s+/g, ' ');
      return context;
    },
  };
  const reason = reasonOf(words, status, input.action, evidence);
  if (!status) {
    // A temporary pseudo code when a 4xx reply, the action or the words say so (never for a hard reason).
    const temporary =
      reply?.startsWith('4') ||
      TEMPORARY.test(` ${words}`) ||
      (reason === 'expired' && EXPIRED_RETRYING.test(words)) ||
      input.action === 'delayed';
    status = `${temporary && !HARD.has(reason) ? '4' : '5'}.0.${REASONS[reason]?.[0] ?? '900'}`;
  }
  const permanent = status.startsWith('5');
  const hard = HARD.has(reason) || (reason === 'notaccept' && permanent);
  return { status, permanent, hard, reason };
}
