import { afterEach, describe, expect, it } from 'vitest';
import { dsn, type Kit, mailboxKit, message, recipient } from './mailbox-kit.js';

let kit: Kit | undefined;
afterEach(async () => {
  await kit?.close();
  kit = undefined;
});

const day = 86_400_000;

describe('a bounce read from the mailbox', () => {
  it('a hard bounce: contact bounced with a history row, suppressed, the ledger row bounced', async () => {
    kit = await mailboxKit();
    const k = kit;
    const id = await k.sendCampaign('email\nana@acme.test\nbruno@acme.test\n');
    expect(k.send(id, 'ana@acme.test').status).toBe('sent');
    const { verp } = k.sent('ana@acme.test');
    expect(verp).toMatch(/^bounces\+cb\.[0-9a-z]+\.[a-z2-7]{10}@coldbatch\.test$/);

    const out = await k.read(dsn([verp], [recipient('ana@acme.test', true)]));
    expect(out).toMatchObject({ kind: 'bounce' });
    expect(k.contact('ana@acme.test').status).toBe('bounced');
    expect(k.suppression('ana@acme.test')).toEqual({ reason: 'bounced' });
    expect(k.send(id, 'ana@acme.test').status).toBe('bounced');
    const h = k.history('ana@acme.test').at(-1);
    expect(h).toMatchObject({ fromStatus: 'active', toStatus: 'bounced', actor: 'system' });
    expect(h?.reason).toContain('5.1.1');
    expect(h?.reason).toContain(id);
    // The ledger keeps the status code and the server's words, never the address.
    const response = k.sql
      .prepare('SELECT response FROM sends WHERE id = ?')
      .get(k.send(id, 'ana@acme.test').id) as {
      response: string;
    };
    expect(response.response).toContain('5.1.1');
    expect(response.response).not.toContain('ana@acme.test');
    // The other recipient is untouched.
    expect(k.contact('bruno@acme.test').status).toBe('active');
    expect(k.send(id, 'bruno@acme.test').status).toBe('sent');
    expect((await k.s.campaigns.counts(id)).bounced).toBe(1);
  });

  it("counts towards the send engine's auto-pause like a synchronous 5xx", async () => {
    kit = await mailboxKit();
    const k = kit;
    const emails = Array.from({ length: 30 }, (_, i) => `p${i}@acme.test`);
    const id = await k.sendCampaign(`email\n${emails.join('\n')}\n`, { dailyLimit: 20 });
    expect(await k.s.campaigns.counts(id)).toMatchObject({ sent: 20, bounced: 0 });
    expect((await k.s.campaigns.get(id)).status).toBe('sending'); // today's limit reached

    for (const e of ['p0@acme.test', 'p1@acme.test'])
      await k.read(dsn([k.sent(e).verp], [recipient(e, true)]));
    k.clock.advance(day); // tomorrow: the next message goes, and the engine looks at the run's bounce rate
    await k.s.sending.runDue();
    const c = await k.s.campaigns.get(id);
    expect(c.status).toBe('paused');
    expect(c.statusReason).toMatch(/2 of 2\d messages bounced/);
    expect(k.events).toContainEqual(expect.objectContaining({ type: 'paused', campaignId: id }));
  });

  it('three soft bounces of one address within 30 days suppress it (soft_bounced); two do not', async () => {
    kit = await mailboxKit();
    const k = kit;
    const id = await k.sendCampaign('email\nfull@acme.test\nother@acme.test\n');
    const { verp } = k.sent('full@acme.test');
    const soft = () => dsn([verp], [recipient('full@acme.test', false)]);

    await k.read(soft());
    expect(k.send(id, 'full@acme.test').softBouncedAt).toBe(k.clock.now());
    k.clock.advance(10 * day);
    await k.read(soft());
    expect(k.suppression('full@acme.test')).toBeNull();
    expect(k.contact('full@acme.test').status).toBe('active');
    expect(k.send(id, 'full@acme.test').status).toBe('sent'); // a soft bounce never settles the row

    k.clock.advance(10 * day);
    await k.read(soft());
    expect(k.suppression('full@acme.test')).toEqual({ reason: 'soft_bounced' });
    expect(k.count('inbox_bounces')).toBe(3);
  });

  it('soft bounces spread over more than 30 days do not reach the limit', async () => {
    kit = await mailboxKit();
    const k = kit;
    await k.sendCampaign('email\nfull@acme.test\n');
    const { verp } = k.sent('full@acme.test');
    for (let i = 0; i < 3; i++) {
      await k.read(dsn([verp], [recipient('full@acme.test', false)]));
      k.clock.advance(16 * day);
    }
    expect(k.suppression('full@acme.test')).toBeNull();
  });

  it('SOFT_BOUNCE_LIMIT sets the limit', async () => {
    kit = await mailboxKit({ SOFT_BOUNCE_LIMIT: '1' });
    const k = kit;
    await k.sendCampaign('email\nfull@acme.test\n');
    await k.read(dsn([k.sent('full@acme.test').verp], [recipient('full@acme.test', false)]));
    expect(k.suppression('full@acme.test')).toEqual({ reason: 'soft_bounced' });
  });

  it('a bounce that matches no send is recorded, its recipient unmatched, and changes nothing', async () => {
    kit = await mailboxKit();
    const k = kit;
    await k.sendCampaign('email\nana@acme.test\n');
    const out = await k.read(dsn(['sales@coldbatch.test'], [recipient('stranger@elsewhere.test', true)]));
    if (out === 'duplicate') throw new Error('unexpected');
    const listed = await k.s.mailbox.get(out.id);
    expect(listed).toMatchObject({
      kind: 'bounce',
      bounce: { recipients: [{ email: 'stranger@elsewhere.test', hard: true, matched: false }] },
    });
    expect(listed.campaignId).toBeUndefined();
    expect(k.count('suppressions')).toBe(0);
    expect(k.contact('ana@acme.test').status).toBe('active');
  });
});

describe('a complaint read from the mailbox', () => {
  it('makes the contact complained, suppresses it and marks the ledger row', async () => {
    kit = await mailboxKit();
    const k = kit;
    const id = await k.sendCampaign('email\nangry@acme.test\ncalm@acme.test\n');
    const { messageId, verp } = k.sent('angry@acme.test');
    await k.read(
      message({
        kind: 'complaint',
        from: 'fbl@isp.test',
        to: ['abuse-reports@coldbatch.test'],
        originalMessageIds: [messageId],
        originalSenders: [verp],
        complaint: { feedbackType: 'abuse', emails: ['angry@acme.test'] },
      }),
    );
    expect(k.contact('angry@acme.test').status).toBe('complained');
    expect(k.suppression('angry@acme.test')).toEqual({ reason: 'complained' });
    expect(k.send(id, 'angry@acme.test').complainedAt).toBe(k.clock.now());
    expect(k.history('angry@acme.test').at(-1)).toMatchObject({ toStatus: 'complained', actor: 'system' });
    expect(k.contact('calm@acme.test').status).toBe('active');
    const [listed] = (await k.s.mailbox.list({ kind: 'complaint' })).messages;
    expect(listed).toMatchObject({
      complaint: { feedbackType: 'abuse', emails: ['angry@acme.test'] },
      campaignId: id,
    });
  });

  it('pauses the campaign once complaints pass 0.1 % of at least 1,000 delivered messages, saying why', async () => {
    kit = await mailboxKit();
    const k = kit;
    const emails = Array.from({ length: 1005 }, (_, i) => `r${i}@acme.test`);
    const id = await k.sendCampaign(`email\n${emails.join('\n')}\n`, { dailyLimit: 1000 });
    expect((await k.s.campaigns.counts(id)).sent).toBe(1000);
    const complain = (email: string) =>
      k.read(
        message({
          kind: 'complaint',
          from: 'fbl@isp.test',
          originalMessageIds: [k.sent(email).messageId],
          complaint: { feedbackType: 'abuse', emails: [] },
        }),
      );
    await complain('r1@acme.test'); // 1 of 1,000: 0.1 %, not over it
    expect((await k.s.campaigns.get(id)).status).toBe('sending');
    await complain('r2@acme.test'); // 2 of 1,000: 0.2 %, over it
    const c = await k.s.campaigns.get(id);
    expect(c.status).toBe('paused');
    expect(c.statusReason).toMatch(/2 spam complaints for 1000 messages delivered \(0\.2%, over 0\.1%\)/);
    expect(k.events).toContainEqual({ type: 'paused', campaignId: id, reason: c.statusReason });
  }, 60_000);
});

describe('a reply read from the mailbox', () => {
  it('makes the contact replied, marks the ledger row, leaves them out of the next campaign, and tells Slack', async () => {
    kit = await mailboxKit();
    const k = kit;
    const id = await k.sendCampaign('email,name\nana@acme.test,Ana Souza\nbruno@acme.test,Bruno\n');
    const out = await k.read(
      message({
        from: 'ana@acme.test',
        inReplyTo: k.sent('ana@acme.test').messageId,
        text: 'Sounds good, call me.',
      }),
    );
    if (out === 'duplicate') throw new Error('unexpected');
    expect(k.contact('ana@acme.test').status).toBe('replied');
    expect(k.history('ana@acme.test').at(-1)).toMatchObject({ fromStatus: 'active', toStatus: 'replied' });
    expect(k.send(id, 'ana@acme.test').repliedAt).toBe(k.clock.now());
    expect(k.events).toContainEqual({ type: 'reply_received', messageId: out.id });

    // The notice is stored state: pending until marked.
    const [notice] = await k.s.mailbox.pendingNotices(10);
    expect(notice).toMatchObject({
      id: out.id,
      campaignId: id,
      campaignName: 'Intro',
      from: 'ana@acme.test',
      name: 'Ana Souza',
      snippet: 'Sounds good, call me.',
      unsubscribed: false,
      interest: null,
    });
    expect(await k.s.mailbox.markNoticed(out.id, '{"ts":"1.2"}')).toBe(true);
    expect(await k.s.mailbox.pendingNotices(10)).toEqual([]);
    const after = await k.s.mailbox.setInterest(out.id, 'interested', 'U1');
    expect(after).toMatchObject({ interest: 'interested', noticeRef: '{"ts":"1.2"}' });
    expect(k.contact('ana@acme.test').interest).toBe('interested');

    const next = await k.s.campaigns.create(
      { name: 'Follow-up', subject: 'Hi', body: 'Hello', sendAt: 'now' },
      'U1',
    );
    await k.s.sending.runDue();
    expect(await k.s.campaigns.counts(next.id)).toMatchObject({ sent: 1 });
    expect(k.send(next.id, 'ana@acme.test')).toBeUndefined();
  });

  it('a reply asking to be removed unsubscribes them instead (suppressed, ledger, the row says so)', async () => {
    kit = await mailboxKit();
    const k = kit;
    const id = await k.sendCampaign('email\nana@acme.test\n');
    const out = await k.read(
      message({
        from: 'ana@acme.test',
        references: [k.sent('ana@acme.test').messageId],
        text: 'Please remove me from your list.',
        asksRemoval: true,
      }),
    );
    if (out === 'duplicate') throw new Error('unexpected');
    expect(k.contact('ana@acme.test').status).toBe('unsubscribed');
    expect(k.suppression('ana@acme.test')).toEqual({ reason: 'unsubscribed' });
    expect(k.send(id, 'ana@acme.test').unsubscribedAt).toBe(k.clock.now());
    expect(k.history('ana@acme.test').at(-1)).toMatchObject({ toStatus: 'unsubscribed', actor: 'recipient' });
    expect((await k.s.mailbox.pendingNotices(10))[0]).toMatchObject({ id: out.id, unsubscribed: true });
  });

  it('a message to the List-Unsubscribe mailto with its "unsubscribe <token>" subject unsubscribes that send', async () => {
    kit = await mailboxKit();
    const k = kit;
    const id = await k.sendCampaign('email\nana@acme.test\n');
    const header = k.sink.received[0]?.headers['list-unsubscribe'] ?? '';
    const subject = decodeURIComponent(/subject=([^>]+)>/.exec(header)?.[1] ?? '');
    expect(subject).toMatch(/^unsubscribe \S+$/);
    // Sent by the mail client on the person's behalf, from an address coldbatch never mailed.
    await k.read(message({ kind: 'auto_reply', from: 'ana.alias@other.test', subject }));
    expect(k.contact('ana@acme.test').status).toBe('unsubscribed');
    expect(k.send(id, 'ana@acme.test')).toMatchObject({ unsubscribedAt: k.clock.now(), repliedAt: null });
  });

  it('any message to a dedicated mailto address (not the From) unsubscribes its sender, matched by address', async () => {
    kit = await mailboxKit({}, 'optout@coldbatch.test');
    const k = kit;
    const id = await k.sendCampaign('email\nana@acme.test\nbruno@acme.test\n');
    await k.read(message({ from: 'ana@acme.test', to: ['optout@coldbatch.test'], subject: 'please stop' }));
    expect(k.contact('ana@acme.test').status).toBe('unsubscribed');
    expect(k.send(id, 'ana@acme.test')).toMatchObject({ unsubscribedAt: k.clock.now(), repliedAt: null });
    // The same words to the sales address are an ordinary reply.
    await k.read(message({ from: 'bruno@acme.test', subject: 'please stop' }));
    expect(k.contact('bruno@acme.test').status).toBe('replied');
  });

  it('a forged token in the subject unsubscribes nobody but the sender', async () => {
    kit = await mailboxKit();
    const k = kit;
    await k.sendCampaign('email\nana@acme.test\nbruno@acme.test\n');
    await k.read(message({ from: 'bruno@acme.test', subject: `unsubscribe 1.${'A'.repeat(24)}` }));
    expect(k.contact('ana@acme.test').status).toBe('active');
    expect(k.contact('bruno@acme.test').status).toBe('unsubscribed');
  });

  it('an auto-reply changes nothing', async () => {
    kit = await mailboxKit();
    const k = kit;
    const id = await k.sendCampaign('email\nana@acme.test\n');
    await k.read(
      message({
        kind: 'auto_reply',
        from: 'ana@acme.test',
        inReplyTo: k.sent('ana@acme.test').messageId,
        subject: 'Out of office',
      }),
    );
    expect(k.contact('ana@acme.test').status).toBe('active');
    expect(k.send(id, 'ana@acme.test')).toMatchObject({ repliedAt: null, status: 'sent' });
    expect(k.count('suppressions')).toBe(0);
    expect(await k.s.mailbox.pendingNotices(10)).toEqual([]);
    const [row] = (await k.s.mailbox.list({ kind: 'auto_reply' })).messages;
    expect(row).toMatchObject({ campaignId: id, contactId: k.contact('ana@acme.test').id });
  });

  it('the same ref twice is processed once', async () => {
    kit = await mailboxKit();
    const k = kit;
    await k.sendCampaign('email\nana@acme.test\n');
    const ref = { mailbox: 'imap://bounces@mx.test:143/INBOX', uidValidity: '9', uid: 42 };
    const m = dsn([k.sent('ana@acme.test').verp], [recipient('ana@acme.test', false)]);
    const first = await k.read(m, ref);
    expect(first).toMatchObject({ kind: 'bounce' });
    expect(await k.mailbox.seen(ref)).toBe(true);
    expect(await k.read(m, ref)).toBe('duplicate');
    expect(await k.read(m, { ...ref, uidValidity: '10' })).not.toBe('duplicate'); // a new UIDVALIDITY is a new message
    expect(k.count('inbox_messages')).toBe(2);
    expect(k.count('inbox_bounces')).toBe(2);
  });
});

describe('forgetting a person', () => {
  it('leaves nothing of their address in what the mailbox read, and the messages stay read', async () => {
    kit = await mailboxKit();
    const k = kit;
    await k.sendCampaign('email\nana@acme.test\nbruno@acme.test\n');
    const ref = { mailbox: 'imap://bounces@mx.test:143/INBOX', uidValidity: '3', uid: 1 };
    await k.read(
      message({
        from: 'ana@acme.test',
        text: 'Reach me at ana@acme.test',
        inReplyTo: k.sent('ana@acme.test').messageId,
      }),
      ref,
    );
    await k.read(dsn(['sales@coldbatch.test'], [recipient('ana@acme.test', false)]));
    await k.read(
      message({
        kind: 'complaint',
        from: 'fbl@isp.test',
        complaint: { feedbackType: 'abuse', emails: ['ana@acme.test'] },
      }),
    );
    await k.read(message({ from: 'bruno@acme.test', text: 'Bruno here' }));

    await k.s.people.forgetPerson('ana@acme.test', 'U1');
    const rows = JSON.stringify([
      k.sql.prepare('SELECT * FROM inbox_messages').all(),
      k.sql.prepare('SELECT * FROM inbox_bounces').all(),
    ]);
    expect(rows).not.toContain('ana@acme.test');
    expect(rows).toContain('bruno@acme.test'); // only hers
    // The mailbox does not take her message for a new one.
    expect(await k.read(message({ from: 'ana@acme.test' }), ref)).toBe('duplicate');
  });
});

describe('the log', () => {
  it('one line per processed message: kind, how it matched, its effect; no address', async () => {
    kit = await mailboxKit();
    const k = kit;
    const id = await k.sendCampaign('email\nana.log@acme.test\n');
    await k.read(dsn([k.sent('ana.log@acme.test').verp], [recipient('ana.log@acme.test', true)]));
    await k.read(message({ from: 'stranger.log@else.test', text: 'Who is this? ana.log@acme.test' }));
    const lines = k.logs().filter((l) => l.msg === 'inbox message processed');
    expect(lines).toEqual([
      expect.objectContaining({
        kind: 'bounce',
        matched: 'tag',
        campaignId: id,
        effect: 'hard_bounce',
        recipients: 1,
      }),
      expect.objectContaining({ kind: 'reply', matched: false, campaignId: null, effect: 'none' }),
    ]);
    expect(JSON.stringify(k.logs())).not.toMatch(/\.log@/);
  });
});
