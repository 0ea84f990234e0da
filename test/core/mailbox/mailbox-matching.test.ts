import { afterEach, describe, expect, it } from 'vitest';
import { dsn, type Kit, mailboxKit, message, recipient } from './mailbox-kit.js';

let kit: Kit | undefined;
afterEach(async () => {
  await kit?.close();
  kit = undefined;
});

const day = 86_400_000;

/** The send a processed message was matched to, as the listing shows it. */
async function matchOf(k: Kit, out: Awaited<ReturnType<Kit['read']>>) {
  if (out === 'duplicate') throw new Error('unexpected duplicate');
  const m = await k.s.mailbox.get(out.id);
  return { campaignId: m.campaignId ?? null, contactId: m.contactId ?? null };
}

describe('matching a read message to its send', () => {
  it('by the VERP tag of the address the bounce came back to, whatever the DSN names', async () => {
    kit = await mailboxKit();
    const k = kit;
    const id = await k.sendCampaign('email\nana@acme.test\nbruno@acme.test\n');
    // The DSN names a forwarding target, not the address mailed: the tag still names Ana's send.
    const out = await k.read(dsn([k.sent('ana@acme.test').verp], [recipient('ana.forward@else.test', true)]));
    expect(await matchOf(k, out)).toEqual({ campaignId: id, contactId: k.contact('ana@acme.test').id });
    expect(k.contact('ana@acme.test').status).toBe('bounced');
  });

  it('by the tag in the original Message-ID the bounce quotes (no VERP)', async () => {
    kit = await mailboxKit();
    const k = kit;
    const id = await k.sendCampaign('email\nana@acme.test\nbruno@acme.test\n');
    const { messageId } = k.sent('bruno@acme.test');
    expect(messageId).toMatch(/^<cb\.[0-9a-z]+\.[a-z2-7]{10}@coldbatch\.test>$/);
    const out = await k.read(
      dsn(['sales@coldbatch.test'], [recipient(null, true)], { originalMessageIds: [messageId] }),
    );
    expect(await matchOf(k, out)).toEqual({ campaignId: id, contactId: k.contact('bruno@acme.test').id });
    expect(k.send(id, 'bruno@acme.test').status).toBe('bounced');
    expect(k.contact('ana@acme.test').status).toBe('active');
  });

  it('a tag that does not verify names nothing', async () => {
    kit = await mailboxKit();
    const k = kit;
    await k.sendCampaign('email\nana@acme.test\n');
    const forged = k.sent('ana@acme.test').messageId.replace(/\.([a-z2-7]{10})@/, '.aaaaaaaaaa@');
    const out = await k.read(
      dsn(['sales@coldbatch.test'], [recipient(null, true)], { originalMessageIds: [forged] }),
    );
    expect(await matchOf(k, out)).toEqual({ campaignId: null, contactId: null });
    expect(k.contact('ana@acme.test').status).toBe('active');
  });

  it('by a Message-ID stored on the ledger (a send from before send refs)', async () => {
    kit = await mailboxKit();
    const k = kit;
    const id = await k.sendCampaign('email\nana@acme.test\nbruno@acme.test\n');
    k.sql
      .prepare(`UPDATE sends SET message_id = '<0a1b2c3d-old@coldbatch.test>' WHERE id = ?`)
      .run(k.send(id, 'bruno@acme.test').id);
    const out = await k.read(
      message({
        from: 'someone@else.test',
        inReplyTo: '<0a1b2c3d-old@coldbatch.test>',
        text: 'Forwarding this to Bruno',
      }),
    );
    expect(await matchOf(k, out)).toEqual({ campaignId: id, contactId: k.contact('bruno@acme.test').id });
    expect(k.contact('bruno@acme.test').status).toBe('replied');
  });

  it('by the address among contacts mailed in the last 30 days, and not after', async () => {
    kit = await mailboxKit();
    const k = kit;
    const id = await k.sendCampaign('email\nana@acme.test\nbruno@acme.test\n');
    k.clock.advance(29 * day);
    const first = await k.read(message({ from: 'Ana@Acme.test', text: 'Hi, replying from my phone' }));
    expect(await matchOf(k, first)).toEqual({ campaignId: id, contactId: k.contact('ana@acme.test').id });
    expect(k.contact('ana@acme.test').status).toBe('replied');

    k.clock.advance(2 * day); // 31 days after the send
    const late = await k.read(message({ from: 'bruno@acme.test', text: 'Sorry for the late answer' }));
    expect(await matchOf(k, late)).toEqual({ campaignId: null, contactId: null });
    expect(k.contact('bruno@acme.test').status).toBe('active');
    // A bounce's recipient likewise.
    const bounce = await k.read(dsn(['sales@coldbatch.test'], [recipient('bruno@acme.test', true)]));
    expect(await matchOf(k, bounce)).toEqual({ campaignId: null, contactId: null });
    expect(k.contact('bruno@acme.test').status).toBe('active');
  });

  it("each recipient of a DSN without a tag by its own address, the message's match the first matched", async () => {
    kit = await mailboxKit();
    const k = kit;
    const id = await k.sendCampaign('email\nana@acme.test\nbruno@acme.test\n');
    const out = await k.read(
      dsn(
        ['sales@coldbatch.test'],
        [
          recipient('nobody@else.test', true),
          recipient('ana@acme.test', true),
          recipient('bruno@acme.test', false),
        ],
      ),
    );
    expect(await matchOf(k, out)).toEqual({ campaignId: id, contactId: k.contact('ana@acme.test').id });
    if (out === 'duplicate') throw new Error('unexpected');
    expect((await k.s.mailbox.get(out.id)).bounce?.recipients).toEqual([
      { email: 'nobody@else.test', status: '5.1.1', permanent: true, hard: true, matched: false },
      { email: 'ana@acme.test', status: '5.1.1', permanent: true, hard: true, matched: true },
      { email: 'bruno@acme.test', status: '4.2.2', permanent: false, hard: false, matched: true },
    ]);
    expect(k.contact('ana@acme.test').status).toBe('bounced');
    expect(k.send(id, 'bruno@acme.test').softBouncedAt).toBe(k.clock.now());
  });

  it("a reply's tag wins over its sender's address", async () => {
    kit = await mailboxKit();
    const k = kit;
    const id = await k.sendCampaign('email\nana@acme.test\nbruno@acme.test\n');
    const out = await k.read(
      message({ from: 'bruno@acme.test', references: ['<x@y.test>', k.sent('ana@acme.test').messageId] }),
    );
    expect(await matchOf(k, out)).toEqual({ campaignId: id, contactId: k.contact('ana@acme.test').id });
  });
});
