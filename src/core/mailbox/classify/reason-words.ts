/**
 * The words that name a bounce's reason (Sisimai's reason vocabulary,
 * https://libsisimai.org/en/reason/), used by bounce-reason.ts. The phrase families are our own,
 * learnt from what real MTAs write (Sisimai's corpus, BSD-2); none is a copy of Sisimai's lists.
 */

/** The words each reason is recognised by, on lowercased text with addresses as `<a>`, IPs as `ip`. */
export const WORDS: Record<string, RegExp> = {
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
    /\b(user|userid|recipient|addressee|mailbox|account|e-?mail address|address|destination|local[- ]?part)s?( name| account)? (is |was )?(unknown|not (found|known|recognized|exist|present|listed|local|valid|a valid)|does ?n[o']?t exist|non-?existent|invalid)|(unknown|invalid|bad|non-?existent|illegal) (or illegal )?(final delivery )?(user|userid|recipient|mailbox|addressee|e-?mail address|address|local[- ]?part|destination mailbox)|no such (user|mailbox|recipient|address|person|account)|(mailbox|address|user|account|recipient)( <a>)? (does not|doesn't|did not|no longer) exist|not a (valid|known) (mailbox|recipient|user)|(no|invalid) mailbox (here|by that name|found|available|path)|no mail ?box available|no account by that name|(bad|invalid|unknown) destination|recipient (address )?rejected: (invalid|unknown|user ?unknown|access denied)|bad ?rcpt ?to|not in my validrcptto|recipient not ok|there is no one at this address|resolver\.adr\.(ex)?recip(ient)? ?not ?found|address (not present in directory|does not exist|unknown|not found)|address couldn't be found|addresses were unknown|(mailbox|user|recipient|address|account) (is )?unavailable|(e-?mail )?address (you entered |that you entered )?(could not|couldn't|can't|cannot) be found|email name is not found|(not an )?active address|user not active|(mailbox is|inactive e-?mail) (inactive|address)|no valid recipients(?! from)|not a local address|recipients? (is not accepted|has been denied)|destination server rejected recipients|bad ?recipient ?to|user isn't in my list|wrong or no longer valid|no longer accepts mail|missing home directory|unknown virtual user|can't accept user|utilisateur inconnu|nessun utente|no existe (dicha persona|ese usuario)|recipient name is not recognized|(not listed in|no such .{0,20} in) (the )?(name|domino)? ?(& address book|directory)|<a> (not found|does not exist)|user doesn't have a .{1,30} account|the email account that you tried to reach does not exist|check (if|that|whether) (the )?(e-?mail )?address is (correct|valid)/,
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
export const CARRIER_FILTER = /unknown user <a>|(^|\s)\d{3}:? : user unknown/;

/**
 * Proof that the receiving system refused the address itself, not only words a filter might use:
 * - it says it looked the account up and found none: Exchange 2003's "recipient name is not
 *   recognized", Notes' "not listed in … Name & Address Book / Domino Directory", IMail's
 *   "invalid final delivery userid", a local delivery agent's `unknown user: name` (mail.local,
 *   Postfix local), Exchange Online's RESOLVER.ADR.RecipientNotFound, Gmail's "address couldn't
 *   be found" / "Address not found" (its words for a recipient the remote refused), Yahoo's
 *   "554 delivery error: dd This user doesn't have a … account", Orange/La Poste's "adresse
 *   destinataire invalide", a gateway asking to "check if (the) address is correct" (InterScan:
 *   the address, not the content, was the problem);
 * - "No such user (here)" / "no such mailbox", RFC 5321's own wording of the RCPT TO refusal;
 * - the refusal is the recipient stage's: Postfix's "Recipient address rejected", Oracle
 *   Messaging Server's "Remote SMTP server has rejected address".
 * Bare "user unknown", "unknown user", "user not exist", "invalid address", "recipient not found"
 * or "mailbox unavailable" (RFC 5321: "mailbox not found, no access, or … policy reasons") prove
 * nothing on their own (but see SITE_SAYS_GONE): with no x.1.x status and no RCPT TO they are a
 * soft `filtered`.
 */
const ADDRESS_REFUSED =
  /recipient name is not recognized|not listed in (the )?(public )?(name & address book|domino directory)|invalid final delivery userid|unknown user: "?[a-z0-9._+-]+"?(\s|$)|resolver\.adr\.recip(ient)? ?not ?found|address (couldn't|could not) be found|\baddress not found\b|delivery error: dd this user doesn't have an? \S+ account|adresse destinataire invalide|check (if|that|whether) (the )?(e-?mail )?address is (correct|valid)|no such (user|mailbox)\b|recipient address rejected|server has rejected (the )?(recipient )?address/;

/**
 * Remote sites whose own reply means the address does not exist, told by their host names in the
 * notice (Remote-MTA, Reporting-MTA, "host … said"): Outlook.com (Hotmail) answers an unknown
 * address with 550 "Requested action not taken: mailbox unavailable".
 */
const SITE_SAYS_GONE: Array<[host: RegExp, words: RegExp]> = [
  // A host name (`bay004-mc1f22.hotmail.com`), not an address at the domain.
  [/[a-z0-9-]\.hotmail\.com\b/, /requested action not taken: mailbox unavailable/],
];

/** Whether the words, or the notice's words about the recipient (`context`, lowercased), prove the address was refused. */
export function addressRefused(words: string, context: () => string): boolean {
  if (ADDRESS_REFUSED.test(words) || ADDRESS_REFUSED.test(context())) return true;
  return SITE_SAYS_GONE.some(([host, said]) => said.test(words) && host.test(context()));
}
