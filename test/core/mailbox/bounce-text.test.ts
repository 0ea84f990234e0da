import { describe, expect, it } from 'vitest';
import { judgeBounce } from '../../../src/core/mailbox/classify/bounce-reason.js';
import { scanBounceText } from '../../../src/core/mailbox/classify/bounce-text.js';

type Row = {
  name: string;
  subject: string;
  from: string;
  headers?: Record<string, string>;
  text: string;
  /** Per recipient: the address, then what judgeBounce makes of the scanned words. */
  want: Array<{ email: string | null; reason: string; permanent: boolean; hard: boolean }>;
  /** `delayed` for a warning the MTA will retry; `failed` when not given. */
  action?: 'failed' | 'delayed';
};

// Short synthetic notices in each MTA's style (not corpus files).
const rows: Row[] = [
  {
    name: 'qmail: <addr>: blocks, two recipients',
    subject: 'failure notice',
    from: 'MAILER-DAEMON@mx.example.net',
    text: `Hi. This is the qmail-send program at mx.example.net.
I'm afraid I wasn't able to deliver your message to the following addresses.
This is a permanent error; I've given up. Sorry it didn't work out.

<ann@example.org>:
192.0.2.10 does not like recipient.
Remote host said: 550 5.1.1 <ann@example.org>... User Unknown
Giving up on 192.0.2.10.

<bob@example.org>:
192.0.2.10 does not like recipient.
Remote host said: 552 5.2.2 Mailbox full
Giving up on 192.0.2.10.

--- Below this line is a copy of the message.

Return-Path: <me@sender.example>
To: ann@example.org, bob@example.org
`,
    want: [
      { email: 'ann@example.org', reason: 'userunknown', permanent: true, hard: true },
      { email: 'bob@example.org', reason: 'mailboxfull', permanent: true, hard: false },
    ],
  },
  {
    name: 'Exim: indented address, X-Failed-Recipients',
    subject: 'Mail delivery failed: returning message to sender',
    from: 'Mail Delivery System <Mailer-Daemon@relay.example.net>',
    headers: { 'x-failed-recipients': 'carol@example.com' },
    text: `This message was created automatically by mail delivery software.

A message that you sent could not be delivered to one or more of its
recipients. This is a permanent error. The following address(es) failed:

  carol@example.com
    host mx.example.com [192.0.2.20]
    SMTP error from remote mail server after RCPT TO:<carol@example.com>:
    550 5.7.1 Service unavailable; client host blocked using zen.spamhaus.org

------ This is a copy of the message, including all the headers. ------

Return-path: <me@sender.example>
`,
    want: [{ email: 'carol@example.com', reason: 'blocked', permanent: true, hard: false }],
  },
  {
    name: 'Gmail: the recipient, then the other server\u2019s words',
    subject: 'Delivery Status Notification (Failure)',
    from: 'Mail Delivery Subsystem <mailer-daemon@googlemail.com>',
    text: `Delivery to the following recipient failed permanently:

     dan@example.jp

Technical details of permanent failure:
Google tried to deliver your message, but it was rejected by the server for the recipient domain example.jp.

The error that the other server returned was:
550 5.1.1 <dan@example.jp>... User Unknown

----- Original message -----

Subject: hello
`,
    want: [{ email: 'dan@example.jp', reason: 'userunknown', permanent: true, hard: true }],
  },
  {
    name: 'Exchange 2003: address on date, the words below',
    subject: 'Undeliverable: hello',
    from: 'System Administrator <postmaster@corp.example>',
    text: `Your message

  To:      erin@corp.example
  Subject: hello

did not reach the following recipient(s):

erin@corp.example on Thu, 29 Apr 2010 00:00:00 -0000
    The recipient name is not recognized
    MSEXCH:IMS:CORP:SITE:MAIL 0 (000C05A6) Unknown Recipient
`,
    want: [{ email: 'erin@corp.example', reason: 'userunknown', permanent: true, hard: true }],
  },
  {
    name: 'Sendmail without a DSN part: the transcript',
    subject: 'Returned mail: see transcript for details',
    from: 'Mail Delivery Subsystem <MAILER-DAEMON@host.example.com>',
    text: `The original message was received at Thu, 29 Apr 2010 23:34:45 +0900
from localhost [127.0.0.1]

   ----- The following addresses had permanent fatal errors -----
<frank@example.net>
    (reason: 550 5.1.2 Host unknown)

   ----- Transcript of session follows -----
550 5.1.2 <frank@example.net>... Host unknown (Name server: example.net: host not found)
`,
    want: [{ email: 'frank@example.net', reason: 'hostunknown', permanent: true, hard: true }],
  },
  {
    name: 'a delay warning: temporary and soft',
    subject: 'Warning: message 1abc delayed 24 hours',
    from: 'Mail Delivery System <Mailer-Daemon@relay.example.net>',
    text: `This message was created automatically by mail delivery software.
A message that you sent has not yet been delivered to one or more of its
recipients after more than 24 hours on the queue on relay.example.net.

The address to which the message has not yet been delivered is:

  gina@example.org
    Delay reason: SMTP error from remote mail server after MAIL FROM:<me@sender.example>:
    451 4.7.1 Client host rejected: cannot find your hostname

No action is required on your part. Delivery attempts will continue for
some time.
`,
    want: [{ email: 'gina@example.org', reason: 'requireptr', permanent: false, hard: false }],
    action: 'delayed',
  },
  {
    name: 'the reason before the address (IMail style)',
    subject: 'Undeliverable Mail',
    from: '"Postmaster" <postmaster@mail.example.co.jp>',
    text: `User mailbox exceeds allowed size: hana@example.co.jp


Original message follows.

Received: from a by b
`,
    want: [{ email: 'hana@example.co.jp', reason: 'mailboxfull', permanent: true, hard: false }],
  },
  {
    name: 'the reason only in the notice, the address in a list (ezweb style)',
    subject: 'Mail System Error - Returned Mail',
    from: 'Postmaster@mobile.example.ne.jp',
    text: `The user(s) account is disabled.

<ivan@mobile.example.ne.jp>
`,
    want: [{ email: 'ivan@mobile.example.ne.jp', reason: 'suspend', permanent: true, hard: false }],
  },
  {
    name: 'Yahoo: <addr>: then Remote host said',
    subject: 'Failure Notice',
    from: 'MAILER-DAEMON@yahoo.example.com',
    text: `Sorry, we were unable to deliver your message to the following address.

<jon@example.org>:
Remote host said: 550 5.7.1 Mail content denied [BODY]

--- Below this line is a copy of the message.
`,
    want: [{ email: 'jon@example.org', reason: 'spamdetected', permanent: true, hard: false }],
  },
  {
    name: 'Postfix folded line: the words go on in the indented lines, the helpdesk is not a recipient',
    subject: 'Undelivered Mail Returned to Sender',
    from: 'MAILER-DAEMON@mx.example.net (Mail Delivery System)',
    text: `This is the mail system at host mx.example.net.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients. It's attached below.

For further assistance, please send mail to <help@example.net>

<kim@example.org>: host mx.example.org[192.0.2.5] said: 550 5.1.1
    <kim@example.org>: Recipient address rejected: User unknown in local
    recipient table (in reply to RCPT TO command)
`,
    want: [{ email: 'kim@example.org', reason: 'userunknown', permanent: true, hard: true }],
  },
  {
    name: 'delivery-status fields written as text (a forwarded bounce)',
    subject: 'Fwd: Undelivered Mail Returned to Sender',
    from: 'Lee <lee@sender.example>',
    text: `This is the mail system at host relay.example.net.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients.

Reporting-MTA: dns; relay.example.net

Final-Recipient: rfc822; max@example.org
Action: failed
Status: 5.1.2
Diagnostic-Code: X-Postfix; Host or domain name not found. Name service error
    for name=example.org type=MX: Host not found
`,
    want: [{ email: 'max@example.org', reason: 'hostunknown', permanent: true, hard: true }],
  },
];

describe('scanBounceText', () => {
  it.each(rows)('$name', ({ subject, from, headers, text, want, action }) => {
    const found = scanBounceText({ subject, from, text, headers: new Map(Object.entries(headers ?? {})) });
    expect(found).not.toBeNull();
    const judged = (found ?? []).map((r) => {
      const j = judgeBounce({ status: r.status, replyCode: r.replyCode, diagnostic: r.diagnostic });
      return { email: r.email, reason: j.reason, permanent: j.permanent, hard: j.hard };
    });
    expect(judged).toEqual(want);
    for (const r of found ?? []) {
      expect(r.diagnostic.length).toBeLessThanOrEqual(500);
      expect(r.action).toBe(action ?? 'failed');
    }
  });

  it.each([
    {
      name: 'an ordinary reply',
      subject: 'Re: our call',
      from: 'Ann <ann@example.org>',
      text: 'Thanks, Tuesday works for me.\n\nOn Mon, Bob <bob@sender.example> wrote:\n> hi',
      headers: {},
    },
    {
      name: 'an out-of-office',
      subject: 'Out of Office: hello',
      from: 'Ann <ann@example.org>',
      text: 'I am away until Monday and will reply when I am back.',
      headers: { 'auto-submitted': 'auto-replied' },
    },
    {
      name: 'a person writing that something could not be delivered',
      subject: 'Re: shipment',
      from: 'Ann <ann@example.org>',
      text: 'Sorry, the parcel could not be delivered on Monday.\nCall my colleague: ned@example.org\n\nAnn',
      headers: {},
    },
    {
      name: 'a success receipt',
      subject: 'Delivery Status Notification (Success)',
      from: 'postmaster@example.org',
      text: 'This is an automatically generated Delivery Status Notification.\n\nYour message has been successfully delivered to the following recipients:\n\nann@example.org',
      headers: {},
    },
  ])('is not a bounce: $name', ({ subject, from, text, headers }) => {
    expect(scanBounceText({ subject, from, text, headers: new Map(Object.entries(headers)) })).toBeNull();
  });
});
