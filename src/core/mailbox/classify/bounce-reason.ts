/**
 * Judges one failed recipient of a bounce: from the enhanced status (RFC 3463), the SMTP reply
 * code and the remote server's words, why it failed (Sisimai's reason vocabulary,
 * https://libsisimai.org/en/reason/), whether it is permanent (class 5) and whether it is a hard
 * bounce (the address or its domain is gone: userunknown, hostunknown, hasmoved, and notaccept
 * unless temporary; everything else, even a 5.x.x mailbox-full or spam block, is soft).
 *
 * The phrase families below are our own, learnt from what real MTAs write (Sisimai's corpus, BSD-2).
 */

export type BounceJudgement = { status: string; permanent: boolean; hard: boolean; reason: string };

const HARD = new Set(['userunknown', 'hostunknown', 'hasmoved']);

/** The words each reason is recognised by, on lowercased text with addresses as `<a>`, IPs as `ip`. */
const WORDS: Record<string, RegExp> = {
  mailboxfull:
    /mailbox (is |was )?full|mailbox (size )?(has )?exceed(s|ed)|full mailbox|mail ?box (size limit|quota)|mailbox (has )?exceeded|over ?(the )?(allowed )?(disk )?quota|quota (exceeded|violation|usage exceeded)|exceed(ed|ing|s)? (the |their |its )?(mailbox |disk |storage )?quota|(not enough|insufficient|no) (disk |storage )?space|disk ?space limit|exceeded storage allocation|(mailfolder|maildir|inbox|box) (is )?(full|over quota)|too (much mail data|many messages)|space has been used up|boite du destinataire pleine|disk ?space|(user|domain)?disk quota|enough (disk )?space|mail file size exceeds|exceed maximum allowed storage|number of messages in recipient's mailbox exceeded/,
  mesgtoobig:
    /message (file |size )?(is )?too (big|large)|(message|mail) (size|length) (limit )?exceeds|(max(imum)?|mail) (inbound |incoming )?(message )?size (limit )?(exceeded|exceeds)|exceeded (the )?max(imum)? (inbound |incoming )?message size|size limit exceeded|line limit exceeded|taille limite du message/,
  exceedlimit:
    /message (length )?exceeds administrative limit|exceeds (the )?(per-mailbox|administrative) limit/,
  suspend:
    /(is |been |currently |temporarily )suspended|temporar(il)?y locked|tried to reach is (disabled|inactive)|user suspended|suspend the service|(mailbox|account|user|address)( is| has been)? (disabled|deactivated|frozen|locked|terminated|archived)|account( is| has been)? inactive|unavailable or access denied|inactive (account|user)|archived recipient|disabled or discontinued|recipient rejected: temporarily inactive|boite du destinataire archivee|account (is )?disabled/,
  hasmoved: /has been replaced by|mailbox has moved|has moved[,;.]? no forwarding/,
  norelaying:
    /relay(ing)? (access )?(denied|not permitted|prohibited)|no relaying|unable to relay|not (permitted|allowed) to relay|not an open relay|we don't handle mail for|relaying mail to <a> is not allowed|not configured to relay|insecure mail relay|as a relay|relaying mail to|not a gateway|not local host|specified domain is not allowed|domain isn't in my list of allowed rcpthost|authentication when attempting to send to a non-local|email address is not verified/,
  authfailure:
    /\bspf\b.{0,40}\b(fail|violation|check)|sender policy framework|dmarc (policy|verification)|does not pass dmarc|\bdkim\b.{0,30}\bfail|authentication checks? failed|not (pass|passing) (spf|dkim)/,
  userunknown:
    /\b(user|userid|recipient|addressee|mailbox|account|e-?mail address|address|destination|local[- ]?part)s?( name| account)? (is |was )?(unknown|not (found|known|recognized|exist|present|listed|local|valid|a valid)|does ?n[o']?t exist|non-?existent|invalid)|(unknown|invalid|bad|non-?existent|illegal) (or illegal )?(final delivery )?(user|userid|recipient|mailbox|addressee|e-?mail address|address|local[- ]?part|destination mailbox)|no such (user|mailbox|recipient|address|person|account)|(mailbox|address|user|account|recipient)( <a>)? (does not|doesn't|did not|no longer) exist|not a (valid|known) (mailbox|recipient|user)|(no|invalid) mailbox (here|by that name|found|available|path)|no mail ?box available|no account by that name|(bad|invalid|unknown) destination|recipient (address )?rejected: (invalid|unknown|user ?unknown|access denied)|bad ?rcpt ?to|not in my validrcptto|recipient not ok|there is no one at this address|resolver\.adr\.(ex)?recip(ient)? ?not ?found|address (not present in directory|does not exist|unknown|not found)|address couldn't be found|addresses were unknown|(mailbox|user|recipient|address|account) (is )?unavailable|(e-?mail )?address (you entered |that you entered )?(could not|couldn't|can't|cannot) be found|email name is not found|(not an )?active address|user not active|(mailbox is|inactive e-?mail) (inactive|address)|no valid recipients(?! from)|not a local address|recipients? (is not accepted|has been denied)|destination server rejected recipients|bad ?recipient ?to|user isn't in my list|wrong or no longer valid|no longer accepts mail|missing home directory|unknown virtual user|can't accept user|utilisateur inconnu|nessun utente|no existe (dicha persona|ese usuario)|recipient name is not recognized|(not listed in|no such .{0,20} in) (the )?(name|domino)? ?(& address book|directory)|<a> (not found|does not exist)|user doesn't have a .{1,30} account|the email account that you tried to reach does not exist/,
  filtered:
    /message filtered|(rejected|refused) due to (user rules|recipient preferences)|refuses? to receive|only accepting mail from specific|not accepting any mail|user reject|blocked by the recipient|this account is protected by|resolver\.rst\.notauthorized|bounced address/,
  requireptr:
    /\bptr\b|reverse dns|rdns|reverse (lookup|dns lookup)|cannot find your hostname|cannot resolve your address|ip name lookup failed|unresolvable relay host|generic dns|forward dns entry does not point/,
  notcompliantrfc: /not rfc ?5322 compliant|rfc ?5322|multiple .{1,20} headers?\b/,
  badreputation: /reputation/,
  contenterror:
    /media error|duplicate header|header size exceeds|8-bit data in message header|mime (complexity|headers)|improperly-formatted|unnecessary base64/,
  rejected:
    /sender (address |email address |domain |ip address )?(rejected|not pre-approved|verify failed|is in my black ?list|was rejected|is spammer)|invalid sender|domain of sender address|(from|sender|envelope)[: ].{0,40}(blacklisted|not allowed|not accepted|rejected)|administrative prohibition|batv|null sender|empty envelope sender|bogus mail from|mail from not owned|not allowed to post to this|address has been blacklisted|unroutable sender|no third-party dsns|fully qualified email address required|envelope blocked|denied \[bouncedeny\]|rule imposed mailbox access|not a registered gateway user|purported responsible address|valid sender domain|valid-address-filter|e2110|senderfilterconfig|emetteur invalide|from: domain is invalid|returned mail not accepted|empty email address|unsigned dsn|different address or alias|submit messages to this e-mail system has been rejected/,
  hostunknown:
    /host (or domain name not found|unknown)|unknown host|(no such|unknown) domain|domain (does not|doesn't|must) exist|domain is not reachable|name or service not known|unrout(e)?able address|host unreachable|host \S+ not found|couldn't find any host|mail domain mentioned in email address is unknown|the account or domain may not exist|domain <a>? ?does not exist|\b553 [a-z0-9-]+(\.[a-z0-9-]+)+ does not exist/,
  spamdetected:
    /\bspam\b|unsolicited|bulk (e-?mail|mail|advertising)|content filter|message content rejected|unacceptable content|junk mail|spamassassin|spam-like|antispam|uribl|greylisted|spamming|help_spam|reject, id=|content denied|spamprofiler|bulk\.advertising|banned content|rejecting mail content|recurrent pattern/,
  speeding: /rate limit|try again slower|sending (too fast|at a rate)/,
  toomanyconn:
    /too many (connections|concurrent|smtp sessions|errors|recipients)|connection (rate )?limit|maximum connection|exceeded the max emails|throttl|trop de connexions/,
  blocked:
    /\bblock(ed|list)\b|black ?list|\brbl\b|dnsbl|spamhaus|spamcop|barracudacentral|dynamic ip|client host (<a> |ip )?rejected|helo command rejected|my name was rejected|refused to talk to me|closing transmission channel|not allowed to connect|connection (refused|dropped|reset)|go away|access denied|not accepting (connections|mail from your ip)|banned sending ip|poor reputation|listed (at|in|on|as)\b|bad sender ip|bad ip profile|(from|for|by) your ip|open proxy|block list|looks suspiciously like|too many (spams|unwanted messages)|connection was dropped|after initial connection|network not allowed|smtp server of your isp|confirm(ation)? (this mail server|required)|requires confirmation|refused - see|no access from mail server|not passed validation|unexpected volume or user complaints|not allowed to send mail from|nameserver query/,
  virusdetected: /virus|malware|executable attachment|malicious/,
  policyviolation:
    /polic(y|ies)|illegal attachment|members-only list|closed mailing list|not accepting mail with|header are not accepted|header error|low priority|multiple addresses|images or other attachments|protocol violation|mass mailer|organi[sz]ational settings|not subscribed to this group/,
  systemerror:
    /system (config(uration)? )?error|configuration error|local (error|problem)|internal (server )?error|loop (was found|broken)|mail loop|loops back to myself|interrupted system call|queue file write error|service (currently )?unavailable|duplicated message-id|misconfigured|timeout waiting for input|could not load|temporary failure/,
  networkerror:
    /no route to host|network error|host is unreachable|(name|host name) (server|lookup) (failure|reply)|hop count exceeded|too many hops|forwarding loop|routing loop|message looping|dns (error|lookup failure|records for the destination)|could not connect and send|unable to resolve route|host not found, try again/,
  systemfull: /mail system full|system (disk )?full|exceeded storage allocation/,
  notaccept:
    /couldn't find a mail exchanger|null ?mx|does not accept mail(?! from)|name server: \.: host not found|mail receiving disabled|no mx record|no route for current request|not accepting network messages|smtp protocol returned a permanent error/,
  expired:
    /expired|timed? ?out|giving up|gave up|delivery attempts will continue|has been delayed|not yet been delivered|too long|could not be delivered for|failing for a long time|not (collected|reachable) within|unable to deliver .{0,30}after|retry time not reached|server did not respond|for more than \d+|not delivered within|in queue for|is not responding/,
  failedstarttls: /starttls|tls required|requiretls/,
  securityerror:
    /authentication (required|failure|failed|credentials)|not authori[sz]ed|unauthenticated|verification failure|executable files|delivery not authorized/,
  mailererror: /mailer error|procmail|command (died|failed|output)|pipe to \||x-unix|\|\| exit/,
  syntaxerror: /syntax error|command unrecognized|bad sequence of commands/,
};

/**
 * Japanese mobile carriers answer "user unknown" for an address that exists but whose owner's
 * filter refused the message: docomo writes `550 Unknown user <address>`, au `550 : User unknown`
 * (the address left out). A real unknown address reads `550 <address>: User unknown` there.
 */
const CARRIER_FILTER = /unknown user <a>|(^|\s)\d{3}:? : user unknown/;

/** Reasons tried first, as a status or the words can say them (the specific before the generic). */
const FIRST = (
  'mailboxfull mesgtoobig exceedlimit suspend hasmoved norelaying authfailure userunknown filtered requireptr ' +
  'notcompliantrfc badreputation contenterror rejected hostunknown spamdetected speeding toomanyconn blocked'
).split(' ');
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

/** The reason the words name; an address refused in answer to MAIL FROM is the sender's problem. */
export function reasonOf(words: string, status: string | null, action?: string | null): string {
  const reason = reasonByLists(words, status, action);
  const answersMailFrom = /(after|in reply to) mail from/.test(words);
  if (answersMailFrom && ['userunknown', 'hostunknown', 'onhold'].includes(reason)) return 'rejected';
  // "User unknown" after the message was sent (the address was accepted at RCPT TO) is a filter's answer.
  const answersData =
    /(after|in reply to) (end of )?data\b|>>> data\b/.test(words) && !/\brcpt\b/.test(words);
  return answersData && reason === 'userunknown' && !/^5\.1\./.test(status ?? '') ? 'filtered' : reason;
}

/** The reason by the first list (status- or text-led), then the second (text only), then the status. */
function reasonByLists(words: string, status: string | null, action?: string | null): string {
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
      // A mailbox (5.2.x) or policy (5.7.x) code outranks "user unknown" words unless they answer RCPT TO.
      const policyCode = fromStatus === 'filtered' || fromStatus === 'securityerror';
      if (policyCode && !/\brcpt\b|does not like recipient/.test(words)) continue;
      if (says(r)) return r;
      continue;
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
}): BounceJudgement {
  const text = (input.diagnostic ?? '').slice(0, 4000);
  const words = normalizeDiagnostic(text);
  const reply =
    input.replyCode && /^[245]\d\d$/.test(input.replyCode) ? input.replyCode : findReplyCode(text);
  const given = /^\s*([45]\.\d{1,3}\.\d{1,3})\b/.exec(input.status ?? '')?.[1] ?? null;
  const field = validStatus(given) ? given : null;
  const inText = findStatus(text);
  let status = preferStatus(field, inText, reply);
  const reason = reasonOf(words, status, input.action);
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
