import { describe, expect, it } from 'vitest';
import { classifyMessage } from '../../../src/core/mailbox/classify/index.js';
import { findCommand, noticeAbout } from '../../../src/core/mailbox/classify/smtp-command.js';

describe('findCommand', () => {
  it.each([
    ['Postfix', 'said: 550 5.1.1 <a@b.example>: User unknown (in reply to RCPT TO command)', 'RCPT'],
    [
      'Postfix after the message',
      'said: 550 5.7.1 Message rejected (in reply to end of DATA command)',
      'DATA',
    ],
    ['Exim', 'SMTP error from remote mail server after RCPT TO:<a@b.example>: 550 No such user', 'RCPT'],
    ['Exim after MAIL FROM', 'SMTP error from remote mail server after MAIL FROM:<s@c.example>: 550', 'MAIL'],
    ['Exim after the message', 'SMTP error from remote mail server after end of data: 550 Spam', 'DATA'],
    [
      'a transcript',
      '... while talking to mx.b.example.:\n>>> RCPT To:<a@b.example>\n<<< 550 User unknown',
      'RCPT',
    ],
    ['qmail', '192.0.2.1 does not like recipient.\nRemote host said: 550 User unknown', 'RCPT'],
    ['a gateway', 'Technical details: SMTP:RCPT host 192.0.2.1: 553 sorry', 'RCPT'],
    [
      'the last command said wins',
      '>>> MAIL From:<s@c.example>\n<<< 250 ok\n>>> RCPT To:<a@b.example>\n<<< 550 no',
      'RCPT',
    ],
  ])('%s', (_name, text, want) => {
    expect(findCommand(text)).toBe(want);
  });

  it('does not take `>>> DATA` for the stage: with PIPELINING the RCPT TO answer follows it', () => {
    const text = '>>> DATA\n<<< 550 5.0.0 <a@b.example>... User unknown\n<<< 503 5.0.0 Need RCPT (recipient)';
    expect(findCommand(text)).toBeNull();
  });

  it('finds nothing in words that name no command', () => {
    expect(findCommand('550 <a@b.example>: Recipient address rejected: User unknown')).toBeNull();
    expect(findCommand('')).toBeNull();
  });
});

describe('noticeAbout', () => {
  it('is the whole notice for one recipient, and the text around each address for several', () => {
    const notice = `${'x'.repeat(400)}\n>>> RCPT To:<a@b.example>\n<<< 550 no\n${'y'.repeat(1000)}\n>>> DATA`;
    expect(noticeAbout(notice, 'a@b.example', 1)).toBe(notice);
    const about = noticeAbout(notice, 'A@B.example', 2);
    expect(about).toContain('>>> RCPT To:<a@b.example>');
    expect(about).not.toContain('>>> DATA');
    expect(noticeAbout(notice, 'c@d.example', 2)).toBe('');
  });
});

describe('the command a notice names, in a whole bounce', () => {
  /** A Postfix DSN whose Diagnostic-Code drops the command its text part gives. */
  const postfix = (said: string) =>
    Buffer.from(
      [
        'From: MAILER-DAEMON@mx.sender.example (Mail Delivery System)',
        'To: s@sender.example',
        'Subject: Undelivered Mail Returned to Sender',
        'Date: Mon, 7 Dec 2026 10:00:00 +0000',
        'Message-ID: <bounce-1@mx.sender.example>',
        'MIME-Version: 1.0',
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B"',
        '',
        '--B',
        'Content-Type: text/plain',
        '',
        'This is the mail system at host mx.sender.example.',
        '',
        '<a@b.example>: host mx.b.example[192.0.2.5] said: 550 5.2.1',
        `    <a@b.example>... User Unknown${said}`,
        '',
        '--B',
        'Content-Type: message/delivery-status',
        '',
        'Reporting-MTA: dns; mx.sender.example',
        '',
        'Final-Recipient: rfc822; a@b.example',
        'Action: failed',
        'Status: 5.2.1',
        'Diagnostic-Code: smtp; 550 5.2.1 <a@b.example>... User Unknown',
        '',
        '--B--',
        '',
      ].join('\r\n'),
    );

  it('a 5.2.1 "User Unknown" given in answer to RCPT TO is a hard bounce', async () => {
    const result = await classifyMessage(postfix(' (in reply to RCPT TO command)'));
    expect(result.kind).toBe('bounce');
    expect(result.bounce?.recipients).toMatchObject([
      { email: 'a@b.example', status: '5.2.1', reason: 'userunknown', permanent: true, hard: true },
    ]);
  });

  it('without the command the 5.2.1 (a mailbox refusing) keeps it soft', async () => {
    const result = await classifyMessage(postfix(''));
    expect(result.bounce?.recipients).toMatchObject([
      { email: 'a@b.example', status: '5.2.1', reason: 'filtered', permanent: true, hard: false },
    ]);
  });
});
