import { describe, expect, it } from 'vitest';
import { judgeBounce } from '../../../src/core/mailbox/classify/bounce-reason.js';
import type { SmtpCommand } from '../../../src/core/mailbox/classify/smtp-command.js';

type Row = {
  name: string;
  status: string | null;
  replyCode: string | null;
  diagnostic: string;
  action?: string;
  /** The SMTP command and the notice's words, when the bounce gives them outside the diagnostic. */
  command?: SmtpCommand;
  context?: string;
  want: { status: string; reason: string; permanent: boolean; hard: boolean };
};

// Short synthetic diagnostics in the style of each MTA or remote site.
const rows: Row[] = [
  {
    name: 'Postfix: user unknown in the local recipient table',
    status: '5.1.1',
    replyCode: '550',
    diagnostic: '550 5.1.1 <a@b.example>: Recipient address rejected: User unknown in local recipient table',
    want: { status: '5.1.1', reason: 'userunknown', permanent: true, hard: true },
  },
  {
    name: 'user unknown wording overrides a generic 5.0.0',
    status: '5.0.0',
    replyCode: null,
    diagnostic: '550 5.1.1 <a@b.example>... User unknown',
    want: { status: '5.1.1', reason: 'userunknown', permanent: true, hard: true },
  },
  {
    name: 'a mailbox-full with 5.2.2 is permanent but soft',
    status: '5.2.2',
    replyCode: '552',
    diagnostic: '552 5.2.2 Mailbox full',
    want: { status: '5.2.2', reason: 'mailboxfull', permanent: true, hard: false },
  },
  {
    name: 'over quota with a misleading 5.1.1 is still a full mailbox',
    status: null,
    replyCode: null,
    diagnostic: '552 sorry, mailbox a@b.example is over quota temporarily (#5.1.1)',
    want: { status: '5.1.1', reason: 'mailboxfull', permanent: true, hard: false },
  },
  {
    name: 'qmail: no mailbox here, the code only in the words',
    status: null,
    replyCode: null,
    diagnostic: 'Sorry, no mailbox here by that name. (#5.1.1)',
    want: { status: '5.1.1', reason: 'userunknown', permanent: true, hard: true },
  },
  {
    name: 'no code at all: a pseudo status for the reason',
    status: null,
    replyCode: null,
    diagnostic: 'The recipient name is not recognized',
    want: { status: '5.0.911', reason: 'userunknown', permanent: true, hard: true },
  },
  {
    name: 'DNS: the domain does not exist',
    status: null,
    replyCode: null,
    diagnostic: 'DNS lookup failure: host example.invalid not found',
    want: { status: '5.0.912', reason: 'hostunknown', permanent: true, hard: true },
  },
  {
    name: 'has moved (5.1.6) is hard',
    status: '5.1.6',
    replyCode: '550',
    diagnostic: '550 5.1.6 Destination mailbox has moved, no forwarding address',
    want: { status: '5.1.6', reason: 'hasmoved', permanent: true, hard: true },
  },
  {
    name: 'null MX: not accepting mail, permanent, so hard',
    status: '5.1.10',
    replyCode: '556',
    diagnostic: '556 5.1.10 Recipient address has null MX',
    want: { status: '5.1.10', reason: 'notaccept', permanent: true, hard: true },
  },
  {
    name: 'not accepting network messages, temporary: soft',
    status: '4.3.2',
    replyCode: '453',
    diagnostic: '453 4.3.2 System not accepting network messages',
    want: { status: '4.3.2', reason: 'notaccept', permanent: false, hard: false },
  },
  {
    name: 'Gmail spam block is soft even with 5.7.1',
    status: '5.7.1',
    replyCode: '550',
    diagnostic:
      '550-5.7.1 Our system has detected that this message is likely unsolicited mail. To reduce the amount of spam',
    want: { status: '5.7.1', reason: 'spamdetected', permanent: true, hard: false },
  },
  {
    name: 'Spamhaus listing: blocked',
    status: null,
    replyCode: '554',
    diagnostic: '554 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org',
    want: { status: '5.0.971', reason: 'blocked', permanent: true, hard: false },
  },
  {
    name: 'a delay: expired, the class follows the 4xx reply',
    status: null,
    replyCode: null,
    diagnostic: '421 Connection timed out; delivery attempts will continue',
    want: { status: '4.0.947', reason: 'expired', permanent: false, hard: false },
  },
  {
    name: 'an action of delayed with nothing else: expired',
    status: '4.4.7',
    replyCode: null,
    diagnostic: '',
    action: 'delayed',
    want: { status: '4.4.7', reason: 'expired', permanent: false, hard: false },
  },
  {
    name: 'a status class 4 the reply code disagrees with: the text code the reply matches wins',
    status: '4.0.0',
    replyCode: '550',
    diagnostic: '550 5.1.1 No such user',
    want: { status: '5.1.1', reason: 'userunknown', permanent: true, hard: true },
  },
  {
    name: 'DMARC rejection',
    status: '5.7.509',
    replyCode: '550',
    diagnostic: '550 5.7.509 Access denied, sending domain does not pass DMARC verification',
    want: { status: '5.7.509', reason: 'authfailure', permanent: true, hard: false },
  },
  {
    name: 'disabled account: suspend, soft',
    status: null,
    replyCode: null,
    diagnostic: 'The user(s) account is disabled.',
    want: { status: '5.0.921', reason: 'suspend', permanent: true, hard: false },
  },
  {
    name: 'relay denied',
    status: '5.7.1',
    replyCode: '554',
    diagnostic: '554 5.7.1 <a@b.example>: Relay access denied',
    want: { status: '5.7.1', reason: 'norelaying', permanent: true, hard: false },
  },
  {
    name: 'message too big',
    status: null,
    replyCode: null,
    diagnostic: 'Mail size limit exceeded',
    want: { status: '5.0.934', reason: 'mesgtoobig', permanent: true, hard: false },
  },
  {
    name: 'the address in the words never counts as words (a local part "userunknown")',
    status: '5.7.1',
    replyCode: '550',
    diagnostic: '550 5.7.1 <userunknown@b.example>: Relay access denied',
    want: { status: '5.7.1', reason: 'norelaying', permanent: true, hard: false },
  },
  // Unknown-user words prove the address is gone (a hard bounce) only with an x.1.x status, an
  // answer to RCPT TO, or words that say the account was looked up and not found.
  {
    name: 'bare "User unknown", no status, nothing saying when: a filter may say so too, soft',
    status: null,
    replyCode: null,
    diagnostic: '550 <a@b.example>: User unknown',
    want: { status: '5.0.910', reason: 'filtered', permanent: true, hard: false },
  },
  {
    name: 'the same words in answer to RCPT TO: the address is gone',
    status: null,
    replyCode: null,
    diagnostic: 'host mx.b.example said: 550 <a@b.example>: User unknown (in reply to RCPT TO command)',
    want: { status: '5.0.911', reason: 'userunknown', permanent: true, hard: true },
  },
  {
    name: 'RCPT TO named elsewhere in the notice (a transcript) outranks a policy code',
    status: '5.7.1',
    replyCode: '553',
    diagnostic: '553 Invalid recipient a@b.example (Mode: normal)',
    command: 'RCPT',
    want: { status: '5.7.1', reason: 'userunknown', permanent: true, hard: true },
  },
  {
    name: 'user unknown after end of data: the address had been accepted, a filter refused',
    status: null,
    replyCode: null,
    diagnostic: 'SMTP error from remote mail server after end of data: 550 5.0.0 User unknown',
    want: { status: '5.0.0', reason: 'filtered', permanent: true, hard: false },
  },
  {
    name: '"No such user here", RFC 5321\'s own words for the RCPT TO refusal',
    status: null,
    replyCode: null,
    diagnostic: '550 - Requested action not taken: no such user here',
    want: { status: '5.0.911', reason: 'userunknown', permanent: true, hard: true },
  },
  {
    name: 'the notice says the address could not be found (Gmail) while the remote only said user unknown',
    status: '5.0.0',
    replyCode: '550',
    diagnostic: '550 <a@b.example>: User unknown',
    context: "Your message wasn't delivered to a@b.example because the address couldn't be found.",
    want: { status: '5.0.0', reason: 'userunknown', permanent: true, hard: true },
  },
  {
    name: 'RFC 5321\'s "mailbox unavailable" proves nothing on its own (mailbox, access or policy)',
    status: '5.5.0',
    replyCode: '550',
    diagnostic: '550 Requested action not taken: mailbox unavailable',
    want: { status: '5.5.0', reason: 'filtered', permanent: true, hard: false },
  },
  {
    name: 'but from Outlook.com (a hotmail.com host) it is the answer for an address that does not exist',
    status: '5.5.0',
    replyCode: '550',
    diagnostic: '550 Requested action not taken: mailbox unavailable',
    context: 'Reporting-MTA: dns;BAY004-MC1F22.hotmail.com\nAction: failed\nStatus: 5.5.0',
    want: { status: '5.5.0', reason: 'userunknown', permanent: true, hard: true },
  },
  {
    name: 'a gateway asking to check the address: the address, not the content, was refused',
    status: null,
    replyCode: null,
    diagnostic: 'Unable to deliver message to <a@b.example>. Please check if address is correct.',
    want: { status: '5.0.911', reason: 'userunknown', permanent: true, hard: true },
  },
  {
    name: "a refusal of MAIL FROM is the sender's problem",
    status: null,
    replyCode: null,
    diagnostic: 'SMTP error from remote mail server after MAIL FROM:<s@c.example>: 554 Transaction failed',
    want: { status: '5.0.918', reason: 'rejected', permanent: true, hard: false },
  },
];

describe('judgeBounce', () => {
  it.each(rows)('$name', ({ status, replyCode, diagnostic, action, command, context, want }) => {
    expect(judgeBounce({ status, replyCode, diagnostic, action: action ?? null, command, context })).toEqual(
      want,
    );
  });
});
