/**
 * A person's sequence stops in the commit of the event that takes them out (PRODUCT.md §8): a human
 * reply, a hard bounce (DSN or a synchronous 5xx), a complaint, an unsubscribe (link or a reply
 * asking to be removed), a status change, a domain rule, the campaign cancelled; a forget takes
 * their rows away. Auto-replies and single soft bounces leave it alone. Everything goes through
 * the real writers (services.mailbox.process with raw messages and the real classifier, the
 * unsubscribe service, contact status, the send engine against the SMTP sink).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { sqliteStores } from '../../../src/db/sqlite/stores.js';
import {
  arf,
  day,
  dsn,
  outOfOffice,
  reply,
  type SeqKit,
  sequenceKit,
  unsubscribeToken,
} from './sequence-stop-kit.js';

let kit: SeqKit | undefined;
afterEach(async () => {
  await kit?.close();
  kit = undefined;
});

const people = 'email,name\nana@acme.test,Ana\nbia@acme.test,Bia\ncai@acme.test,Cai\n';

async function waiting(): Promise<{ k: SeqKit; id: string }> {
  kit = await sequenceKit();
  const id = await kit.sendCampaign(people);
  expect(kit.wait(id)).toBe(3);
  return { k: kit, id };
}

describe('stops read from the mailbox', () => {
  it('a human reply stops that person only (replied), in the commit that records it', async () => {
    const { k, id } = await waiting();
    k.clock.advance(3_600_000);
    const out = await k.read(reply(k.sent('ana@acme.test'), 'Sounds interesting, can we talk on Friday?'));
    expect(out).toMatchObject({ kind: 'reply' });
    expect(k.person(id, 'ana@acme.test')).toEqual({
      step: 1,
      nextDueAt: null,
      stopReason: 'replied',
      stoppedAt: k.clock.now(),
    });
    expect(k.reasons(id)).toEqual({
      'ana@acme.test': 'replied',
      'bia@acme.test': 'waiting',
      'cai@acme.test': 'waiting',
    });
  });

  it('an out-of-office does not stop a sequence', async () => {
    const { k, id } = await waiting();
    const out = await k.read(outOfOffice(k.sent('bia@acme.test')));
    expect(out).toMatchObject({ kind: 'auto_reply' });
    expect(k.reasons(id)['bia@acme.test']).toBe('waiting');
  });

  it('a hard-bounce DSN stops it (bounced); a soft one does not', async () => {
    const { k, id } = await waiting();
    expect(await k.read(dsn(k.sent('cai@acme.test'), false))).toMatchObject({ kind: 'bounce' });
    expect(k.reasons(id)['cai@acme.test']).toBe('waiting');
    expect(await k.read(dsn(k.sent('bia@acme.test'), true))).toMatchObject({ kind: 'bounce' });
    expect(k.reasons(id)).toEqual({
      'ana@acme.test': 'waiting',
      'bia@acme.test': 'bounced',
      'cai@acme.test': 'waiting',
    });
  });

  it('soft bounces up to SOFT_BOUNCE_LIMIT suppress the address: it has left the audience', async () => {
    kit = await sequenceKit({ SOFT_BOUNCE_LIMIT: '2' });
    const k = kit;
    const id = await k.sendCampaign(people);
    k.wait(id);
    await k.read(dsn(k.sent('cai@acme.test'), false));
    expect(k.reasons(id)['cai@acme.test']).toBe('waiting');
    await k.read(dsn(k.sent('cai@acme.test'), false));
    expect(k.reasons(id)['cai@acme.test']).toBe('left_audience');
  });

  it('a spam complaint stops it (complained)', async () => {
    const { k, id } = await waiting();
    expect(await k.read(arf(k.sent('cai@acme.test')))).toMatchObject({ kind: 'complaint' });
    expect(k.reasons(id)).toEqual({
      'ana@acme.test': 'waiting',
      'bia@acme.test': 'waiting',
      'cai@acme.test': 'complained',
    });
  });

  it('a reply asking to be removed stops it as unsubscribed (not replied)', async () => {
    const { k, id } = await waiting();
    await k.read(reply(k.sent('ana@acme.test'), 'Please remove me from your list.'));
    expect(
      (k.sql.prepare("SELECT status FROM contacts WHERE email = 'ana@acme.test'").get() as { status: string })
        .status,
    ).toBe('unsubscribed');
    expect(k.reasons(id)['ana@acme.test']).toBe('unsubscribed');
  });
});

describe('stops from the other writers', () => {
  it('the unsubscribe link stops it (unsubscribed); the first reason stays', async () => {
    const { k, id } = await waiting();
    await k.read(reply(k.sent('bia@acme.test'), 'Thanks, I will think about it.'));
    const stoppedAt = k.person(id, 'bia@acme.test')?.stoppedAt;
    k.clock.advance(60_000);
    expect(await k.s.unsubscribe.unsubscribe(unsubscribeToken(k.sent('ana@acme.test')))).toBe(true);
    expect(await k.s.unsubscribe.unsubscribe(unsubscribeToken(k.sent('bia@acme.test')))).toBe(true);
    expect(k.reasons(id)).toEqual({
      'ana@acme.test': 'unsubscribed',
      'bia@acme.test': 'replied',
      'cai@acme.test': 'waiting',
    });
    expect(k.person(id, 'bia@acme.test')?.stoppedAt).toBe(stoppedAt);
  });

  it('a contact set inactive leaves the audience (left_audience); set to active again it stays stopped', async () => {
    const { k, id } = await waiting();
    const cai = k.contactId('cai@acme.test');
    await k.s.contacts.setStatus(cai, 'inactive', 'U1', 'asked by phone');
    expect(k.reasons(id)['cai@acme.test']).toBe('left_audience');
    await k.s.contacts.setStatus(cai, 'active', 'U1');
    expect(k.reasons(id)['cai@acme.test']).toBe('left_audience');
  });

  it('a domain rule stops everyone it covers (left_audience)', async () => {
    kit = await sequenceKit();
    const k = kit;
    const id = await k.sendCampaign('email\nana@acme.test\nbob@sub.other.test\ncid@other.test\n');
    k.wait(id);
    await k.s.domainSuppressions.add({ pattern: '*.other.test' }, 'U1');
    expect(k.reasons(id)).toEqual({
      'ana@acme.test': 'waiting',
      'bob@sub.other.test': 'left_audience',
      'cid@other.test': 'left_audience',
    });
  });

  it('a hard bounce during another campaign’s send (a synchronous 550) stops the person’s sequence', async () => {
    const { k, id } = await waiting();
    k.rejected.add('bia@acme.test');
    k.clock.advance(3_600_000);
    const second = await k.sendCampaign(null, { name: 'Second' });
    expect(
      (
        k.sql
          .prepare("SELECT status FROM sends WHERE campaign_id = ? AND status = 'bounced'")
          .all(second) as unknown[]
      ).length,
    ).toBe(1);
    expect(k.reasons(id)).toEqual({
      'ana@acme.test': 'waiting',
      'bia@acme.test': 'bounced',
      'cai@acme.test': 'waiting',
    });
    expect(k.person(id, 'bia@acme.test')?.stoppedAt).toBe(k.clock.now());
  });

  it('a campaign cancelled stops everyone still waiting (cancelled); those stopped keep their reason', async () => {
    kit = await sequenceKit();
    const k = kit;
    // dailyLimit 2: the run stays `sending` with one person left for tomorrow.
    const id = await k.sendCampaign(`${people}dan@acme.test,Dan\n`, { dailyLimit: 2 });
    expect((await k.s.campaigns.get(id)).status).toBe('sending');
    k.wait(id);
    await k.read(reply(k.sent('ana@acme.test'), 'Yes, call me.'));
    await k.s.campaigns.cancel(id, 'U1');
    expect(k.reasons(id)).toEqual({ 'ana@acme.test': 'replied', 'bia@acme.test': 'cancelled' });
  });

  it('a forget takes the person’s rows away with the contact', async () => {
    const { k, id } = await waiting();
    await k.s.people.forgetPerson('ana@acme.test', 'U1');
    expect(Object.keys(k.reasons(id))).toEqual(['bia@acme.test', 'cai@acme.test']);
  });

  it('the stops of one person reach every campaign they wait in', async () => {
    const { k, id } = await waiting();
    k.clock.advance(3_600_000);
    const second = await k.sendCampaign(null, { name: 'Second' });
    k.wait(second);
    await k.read(reply(k.sent('cai@acme.test', id), 'Not now, thanks.'));
    expect(k.reasons(id)['cai@acme.test']).toBe('replied');
    expect(k.reasons(second)['cai@acme.test']).toBe('replied');
    expect(k.reasons(second)['ana@acme.test']).toBe('waiting');
  });
});

describe('with the send engine', () => {
  it('a two-step sequence: a reply after step 1 stops step 2 for that person only', async () => {
    kit = await sequenceKit();
    const k = kit;
    const id = await k.sendCampaign(people, {
      steps: [
        { subject: 'Quick question', body: 'Hello {{unsubscribe_url}}' },
        { body: 'Just following up. {{unsubscribe_url}}', delayDays: 1 },
      ],
    });
    // The engine recorded everyone at step 1 with step 2 due.
    expect(k.reasons(id)).toEqual({
      'ana@acme.test': 'waiting',
      'bia@acme.test': 'waiting',
      'cai@acme.test': 'waiting',
    });
    await k.read(reply(k.sent('ana@acme.test'), 'Sure, send me the details.'));
    expect(k.reasons(id)['ana@acme.test']).toBe('replied');
    k.clock.advance(3 * day);
    for (let i = 0; i < 10 && (await k.s.campaigns.get(id)).status === 'sending'; i++)
      await k.s.sending.runDue();
    const step2 = k.sink.received
      .filter((m) => m.body.includes('Just following up'))
      .map((m) => m.to)
      .sort();
    expect(step2).toEqual(['bia@acme.test', 'cai@acme.test']);
    expect(k.reasons(id)).toEqual({
      'ana@acme.test': 'replied',
      'bia@acme.test': 'finished',
      'cai@acme.test': 'finished',
    });
  });

  it('a person stopped while a follow-up is being sent gets that step and nothing after it', async () => {
    const { k, id } = await waiting();
    const bia = k.contactId('bia@acme.test');
    // Step 2 claimed for bia (the engine's rows for a follow-up claim), then "Stop sequence".
    const { step2 } = k.sql
      .prepare(
        `INSERT INTO sends (campaign_id, contact_id, email_hash, run, step, status, attempts, claimed_at, updated_at)
         SELECT campaign_id, contact_id, email_hash, run, 2, 'claimed', 0, ?, ? FROM sends WHERE campaign_id = ? AND contact_id = ?
         RETURNING id AS step2`,
      )
      .get(k.clock.now(), k.clock.now(), id, bia) as { step2: number };
    k.sql
      .prepare(
        'UPDATE sequence_people SET step = 2, next_due_at = NULL, last_send_id = ? WHERE campaign_id = ? AND contact_id = ?',
      )
      .run(step2, id, bia);
    expect(await k.s.sequences.stop(id, bia, 'U1')).toMatchObject({
      state: 'stopped',
      stopReason: 'stopped',
      step: 1,
    });
    // The server takes step 2; the engine's sent mark (with step 3 due) leaves her stopped.
    const stores = sqliteStores(k.core.db);
    await stores.sends.settleSent(
      [
        {
          sendId: step2,
          messageId: '<step2@coldbatch.test>',
          response: '250 ok',
          sequence: { campaignId: id, contactId: bia, step: 2, nextDueAt: k.clock.now() + day },
        },
      ],
      k.clock.now(),
    );
    expect(k.person(id, 'bia@acme.test')).toMatchObject({ stopReason: 'stopped', nextDueAt: null });
    expect(await k.s.sequences.person(id, bia)).toMatchObject({ state: 'stopped', step: 2 });
  });
});
