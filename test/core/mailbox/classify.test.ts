import { describe, expect, it } from 'vitest';
import { classifyMessage } from '../../../src/core/mailbox/classify/index.js';
import { corpusTarget, corpusVerdict, loadCorpus, scoreCorpus, tallyCases } from './bounce-corpus.js';

/** A message from header lines and a body, CRLF as on the wire. */
function eml(headers: string[], body: string): Buffer {
  return Buffer.from(`${headers.join('\r\n')}\r\n\r\n${body.replace(/\r?\n/g, '\r\n')}`, 'utf8');
}

describe('the bounce corpus (test/fixtures/corpora/bounces, scored by its README)', async () => {
  const corpus = await loadCorpus();
  const outcomes = await scoreCorpus(corpus);
  const failures = (group: string) =>
    outcomes.filter((outcome) => outcome.group === group && !outcome.ok).map((o) => `${o.file}: ${o.why}`);

  // The headline of issue 15 and `npm run corpus:bounces`: the README's rule over all 401 cases,
  // a DSN with Action: delayed counted as a miss (PRODUCT.md §7 makes it a delivery report: a
  // warning, no effect; Sisimai, which wrote the expected results, counts it as a soft bounce).
  it('recognises at least 95 % of all the cases, DSNs with Action: delayed counted as misses', () => {
    const { overall } = tallyCases(outcomes);
    expect(overall.total).toBe(401);
    const { headline } = corpusVerdict(outcomes);
    expect(headline, failures('cases').join('\n')).toBeGreaterThanOrEqual(corpusTarget);
  });

  it('keeps a DSN with Action: delayed a delivery report, its recipients read as transient and soft', () => {
    const delayedCases = outcomes.filter((outcome) => outcome.delayed);
    expect(delayedCases.length).toBeGreaterThan(0);
    expect(delayedCases.map((outcome) => outcome.kind)).toEqual(delayedCases.map(() => 'delivery_report'));
    // Read as Sisimai expects (4.x.x, soft) except where it counts a delay as permanent.
    expect(tallyCases(outcomes).overall.delayedRead).toBeGreaterThanOrEqual(10);
  });

  it('takes none of the ordinary mail, auto-replies or delivery reports for a bounce', () => {
    expect(corpusVerdict(outcomes).falseBounces.map((o) => o.file)).toEqual([]);
    for (const group of ['notBounces', 'autoReplies', 'deliveryReports']) expect(failures(group)).toEqual([]);
    const autoReplies = outcomes.filter((outcome) => outcome.group === 'autoReplies');
    expect(autoReplies.map((outcome) => outcome.kind)).toEqual(autoReplies.map(() => 'auto_reply'));
    const reports = outcomes.filter((outcome) => outcome.group === 'deliveryReports');
    expect(reports.map((outcome) => outcome.kind)).toEqual(reports.map(() => 'delivery_report'));
  });

  it('recognises every complaint as a complaint', () => {
    expect(failures('complaints')).toEqual([]);
  });
});

describe('classifyMessage', () => {
  it('reads an ARF report: the feedback type, the complainer and the original it quotes', async () => {
    const raw = eml(
      [
        'From: Feedback Loop <fbl@isp.example>',
        'To: abuse@sender.example',
        'Subject: Abuse report',
        'Date: Mon, 7 Dec 2026 10:00:00 +0000',
        'Message-ID: <fbl-1@isp.example>',
        'MIME-Version: 1.0',
        'Content-Type: multipart/report; report-type=feedback-report; boundary="b1"',
      ],
      [
        '--b1',
        'Content-Type: text/plain',
        '',
        'This is an abuse report for an email message received from IP 192.0.2.1.',
        '--b1',
        'Content-Type: message/feedback-report',
        '',
        'Feedback-Type: abuse',
        'User-Agent: SomeGenerator/1.0',
        'Version: 1',
        'Original-Mail-From: <bounces+cb.1z.abcdefghij@sender.example>',
        'Original-Rcpt-To: <Reader@ISP.example>',
        '',
        '--b1',
        'Content-Type: message/rfc822',
        '',
        'Return-Path: <bounces+cb.1z.abcdefghij@sender.example>',
        'From: Sales <sales@sender.example>',
        'To: reader@isp.example',
        'Subject: Our offer',
        'Message-ID: <cb.1z.abcdefghij@sender.example>',
        '',
        'Hello',
        '--b1--',
      ].join('\n'),
    );
    const result = await classifyMessage(raw);
    expect(result.kind).toBe('complaint');
    expect(result.complaint).toEqual({ feedbackType: 'abuse', emails: ['reader@isp.example'] });
    expect(result.originalMessageIds).toEqual(['<cb.1z.abcdefghij@sender.example>']);
    expect(result.originalSenders).toContain('bounces+cb.1z.abcdefghij@sender.example');
    expect(result.messageId).toBe('<fbl-1@isp.example>');
    expect(result.date).toBe(Date.UTC(2026, 11, 7, 10, 0, 0));
  });

  const dsn = (action: string, status: string, diagnostic: string) =>
    eml(
      [
        'From: Mail Delivery System <MAILER-DAEMON@mx.sender.example>',
        'To: bounces+cb.2a.klmnopqrst@sender.example',
        'Subject: Undelivered Mail Returned to Sender',
        'Auto-Submitted: auto-replied',
        'MIME-Version: 1.0',
        'Content-Type: multipart/report; report-type=delivery-status; boundary="b2"',
      ],
      [
        '--b2',
        'Content-Type: text/plain',
        '',
        'This is the mail system at host mx.sender.example.',
        '--b2',
        'Content-Type: message/delivery-status',
        '',
        'Reporting-MTA: dns; mx.sender.example',
        '',
        'Final-Recipient: rfc822; Ana@Client.example',
        `Action: ${action}`,
        `Status: ${status}`,
        `Diagnostic-Code: smtp; ${diagnostic}`,
        '',
        '--b2',
        'Content-Type: text/rfc822-headers',
        '',
        'From: sales@sender.example',
        'To: ana@client.example',
        'Message-ID: <cb.2a.klmnopqrst@sender.example>',
        '--b2--',
      ].join('\n'),
    );

  it('reads a failed DSN as a hard bounce with its recipient, status and quoted original', async () => {
    const result = await classifyMessage(
      dsn('failed', '5.1.1', '550 5.1.1 <ana@client.example>: User unknown'),
    );
    expect(result.kind).toBe('bounce');
    expect(result.bounce?.recipients).toEqual([
      expect.objectContaining({
        email: 'ana@client.example',
        status: '5.1.1',
        permanent: true,
        hard: true,
        replyCode: '550',
      }),
    ]);
    expect(result.originalMessageIds).toEqual(['<cb.2a.klmnopqrst@sender.example>']);
    expect(result.to).toEqual(['bounces+cb.2a.klmnopqrst@sender.example']);
  });

  it('reads a DSN with Action: delayed as a delivery report (a warning), not a bounce', async () => {
    const result = await classifyMessage(
      dsn('delayed', '4.4.1', 'connect to mx.client.example: Connection timed out'),
    );
    expect(result.kind).toBe('delivery_report');
    // Listed for a person and for matching, never permanent or hard (a delivery report has no effect).
    expect(result.bounce?.recipients).toEqual([
      expect.objectContaining({
        email: 'ana@client.example',
        status: '4.4.1',
        permanent: false,
        hard: false,
        reason: 'delayed',
      }),
    ]);
  });

  it('knows an out-of-office in Portuguese by its subject, and by its first words', async () => {
    const bySubject = await classifyMessage(
      eml(
        [
          'From: Ana <ana@client.example>',
          'To: sales@sender.example',
          'Subject: Resposta automática: Nossa proposta',
        ],
        'Olá! Estou fora do escritório até 15/12, com acesso limitado ao e-mail.',
      ),
    );
    expect(bySubject.kind).toBe('auto_reply');
    const byText = await classifyMessage(
      eml(
        ['From: Ana <ana@client.example>', 'To: sales@sender.example', 'Subject: Re: Nossa proposta'],
        'Olá, estou de férias até dia 10 de janeiro. Em caso de urgência, fale com o Pedro.',
      ),
    );
    expect(byText.kind).toBe('auto_reply');
  });

  it('reads a human reply in Portuguese: the quoted history stripped, a removal request seen', async () => {
    const result = await classifyMessage(
      eml(
        [
          'From: =?UTF-8?Q?Jo=C3=A3o_Silva?= <Joao@Client.example>',
          'To: Sales <sales@sender.example>',
          'Subject: Re: Nossa proposta',
          'Message-ID: <reply-1@client.example>',
          'In-Reply-To: <cb.3b.uvwxyzabcd@sender.example>',
          'References: <cb.3a.aaaaaaaaaa@sender.example> <cb.3b.uvwxyzabcd@sender.example>',
          'Content-Type: text/plain; charset=utf-8',
        ],
        [
          'Boa tarde,',
          '',
          'Não tenho interesse. Por favor, me remova da sua lista.',
          '',
          'Em seg., 7 de dez. de 2026 às 10:00, Sales <sales@sender.example> escreveu:',
          '> Olá João,',
          '> temos uma proposta para você. Para descadastrar, responda "remover".',
        ].join('\n'),
      ),
    );
    expect(result.kind).toBe('reply');
    expect(result.from).toBe('joao@client.example');
    expect(result.text).toBe('Boa tarde,\n\nNão tenho interesse. Por favor, me remova da sua lista.');
    expect(result.asksRemoval).toBe(true);
    expect(result.inReplyTo).toBe('<cb.3b.uvwxyzabcd@sender.example>');
    expect(result.references).toEqual([
      '<cb.3a.aaaaaaaaaa@sender.example>',
      '<cb.3b.uvwxyzabcd@sender.example>',
    ]);
  });

  it('reads a human reply in English: Outlook history and signature stripped, "don\'t remove me" is no removal', async () => {
    const result = await classifyMessage(
      eml(
        ['From: Bob <bob@client.example>', 'To: sales@sender.example', 'Subject: RE: Our offer'],
        [
          "Thanks, sounds interesting. Please don't remove me from the list; let's talk on Friday.",
          '',
          '-- ',
          'Bob Smith | Head of Ops',
          '',
          '________________________________',
          'From: Sales <sales@sender.example>',
          'Sent: Monday, December 7, 2026 10:00 AM',
          'To: Bob <bob@client.example>',
          'Subject: Our offer',
          '',
          'To unsubscribe, reply "remove me".',
        ].join('\n'),
      ),
    );
    expect(result.kind).toBe('reply');
    expect(result.text).toBe(
      "Thanks, sounds interesting. Please don't remove me from the list; let's talk on Friday.",
    );
    expect(result.asksRemoval).toBe(false);

    const gmail = await classifyMessage(
      eml(
        ['From: Bob <bob@client.example>', 'To: sales@sender.example', 'Subject: Re: Our offer'],
        'Not interested, please unsubscribe me.\n\nOn Mon, Dec 7, 2026 at 10:00 AM Sales <sales@sender.example>\nwrote:\n\n> Hello Bob',
      ),
    );
    expect(gmail.text).toBe('Not interested, please unsubscribe me.');
    expect(gmail.asksRemoval).toBe(true);
  });

  it("takes a read receipt for an auto-reply and a newsletter for nobody's reply", async () => {
    const receipt = await classifyMessage(
      eml(
        [
          'From: Bob <bob@client.example>',
          'To: sales@sender.example',
          'Subject: Read: Our offer',
          'Content-Type: multipart/report; report-type=disposition-notification; boundary="r"',
        ],
        '--r\nContent-Type: text/plain\n\nYour message was read.\n--r\nContent-Type: message/disposition-notification\n\nDisposition: manual-action/MDN-sent-manually; displayed\n--r--\n',
      ),
    );
    expect(receipt.kind).toBe('auto_reply');
    const newsletter = await classifyMessage(
      eml(
        [
          'From: News <news@client.example>',
          'To: sales@sender.example',
          'Subject: Our December news',
          'List-Unsubscribe: <mailto:leave@client.example>',
        ],
        'Unsubscribe here if you no longer want our news.',
      ),
    );
    expect(newsletter.kind).toBe('unknown');
    expect(newsletter.asksRemoval).toBe(false);
  });

  it('keeps a blob that is not an e-mail as unknown, with a note, and never throws', async () => {
    for (const raw of [
      Buffer.from([0, 159, 146, 150, 255, 1, 2, 3]),
      Buffer.alloc(0),
      Buffer.from('just some words\nno headers'),
    ]) {
      const result = await classifyMessage(raw);
      expect(result.kind).toBe('unknown');
      expect(result.note).toMatch(/not an e-mail/);
    }
  });
});
