import { describe, expect, it } from 'vitest';
import { judgeBounce } from '../../../src/core/mailbox/classify/bounce-reason.js';

type Row = {
  name: string;
  status: string | null;
  replyCode: string | null;
  diagnostic: string;
  action?: string;
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
];

describe('judgeBounce', () => {
  it.each(rows)('$name', ({ status, replyCode, diagnostic, action, want }) => {
    expect(judgeBounce({ status, replyCode, diagnostic, action: action ?? null })).toEqual(want);
  });
});
