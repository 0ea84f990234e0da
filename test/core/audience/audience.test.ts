import { afterEach, describe, expect, it } from 'vitest';
import { audienceFrom, notSendableReasonSql } from '../../../src/db/sqlite/audience-sql.js';
import { importText, refusal, testClock, testCore } from '../../helpers.js';

let core: ReturnType<typeof testCore>;
afterEach(() => core.cleanup());

const input = { name: 'Intro', subject: 'Hi {{first_name|there}}', body: 'Hello', sendAt: 'now' as const };

/** Stands in for a bulk validation's verdict (test/core/validation runs the real one against a DNS server). */
function markNoMailDomain(domain: string) {
  core.db.$client
    .prepare(`UPDATE contacts SET validation = 'no_mail_domain' WHERE email LIKE ?`)
    .run(`%@${domain}`);
}

/**
 * One contact for every reason: ok, bounced, unsubscribed, inactive, suppressed (a domain rule
 * while the status stays active), two whose domain receives no mail.
 */
async function everyReason() {
  const s = core.services;
  const r = await importText(
    s,
    'email\nok@x.com\nbounce@x.com\nunsub@x.com\nidle@x.com\nsomeone@blocked.test\na@nomx.test\nb@nomx.test\n',
  );
  const id = async (email: string) =>
    (await s.batches.contacts(r.batch.id, { q: email })).contacts.find((c) => c.email === email)!.id;
  await s.contacts.setStatus(await id('bounce@x.com'), 'bounced', 'test');
  await s.contacts.setStatus(await id('unsub@x.com'), 'unsubscribed', 'test');
  await s.contacts.setStatus(await id('idle@x.com'), 'inactive', 'test');
  await s.domainSuppressions.add({ pattern: 'blocked.test' }, 'test');
  markNoMailDomain('nomx.test');
  return r.batch;
}

describe('audience summary', () => {
  it('counts who a campaign would reach and why each other contact of the active batch is left out', async () => {
    core = testCore();
    const batch = await everyReason();
    expect(await core.services.audience.summary()).toEqual({
      count: 1,
      excluded: { bounced: 1, unsubscribed: 1, inactive: 1, suppressed: 1, no_mail_domain: 2 },
      batch: { id: batch.id, name: 'contacts.csv' },
    });
    expect(await core.services.audience.count()).toBe(1);
  });

  it('says when no batch is active', async () => {
    core = testCore();
    const r = await importText(core.services, 'email\nok@x.com\n');
    await core.services.batches.deactivate(r.batch.id, 'test');
    expect(await core.services.audience.summary()).toEqual({ count: 0, excluded: {}, batch: null });
  });

  it('for a campaign, leaves out those it already reached', async () => {
    core = testCore();
    await importText(core.services, 'email\na@x.com\nb@x.com\n');
    const c = await core.services.campaigns.create(input, 'U1');
    await core.services.sending.runDue();
    await importText(core.services, 'email\nc@x.com\n', { activate: false });
    expect(await core.services.audience.summary(c.id)).toMatchObject({
      count: 0,
      excluded: { already_reached: 2 },
    });
  });

  it('the reason is NULL exactly for the contacts the audience rule keeps, in any batch', async () => {
    core = testCore();
    await everyReason();
    // A second batch, active, with the same mix of reasons, and one that includes invalid domains.
    const other = await importText(core.services, 'email\nfine@y.com\nc@nomx.test\nd@blocked.test\n');
    markNoMailDomain('nomx.test');
    await core.services.validation.setIncludeInvalidDomains(other.batch.id, true, 'test');
    const sqlite = core.db.$client;
    const byRule = sqlite
      .prepare<[], { id: number }>(`SELECT c.id ${audienceFrom} ORDER BY c.id`)
      .all()
      .map((r) => r.id);
    const byReason = sqlite
      .prepare<[], { id: number }>(
        `SELECT c.id FROM contacts c JOIN batches b ON b.id = c.batch_id WHERE (${notSendableReasonSql}) IS NULL ORDER BY c.id`,
      )
      .all()
      .map((r) => r.id);
    expect(byRule.length).toBe(2); // fine@y.com, c@nomx.test (included)
    expect(byReason).toEqual(byRule);
    // d@blocked.test was refused at import (domain rule), so the second batch has two contacts.
    expect(await core.services.audience.summary()).toMatchObject({ count: 2, excluded: {} });
  });
});

describe('a send to nobody is refused with the reasons', () => {
  it('create with sendAt "now": refused (empty_audience), nothing saved; a draft or a later time is kept', async () => {
    core = testCore();
    const r = await importText(core.services, 'email\na@nomx.test\nb@nomx.test\n');
    markNoMailDomain('nomx.test');
    const e = await refusal(() => core.services.campaigns.create(input, 'U1'));
    expect(e.code).toBe('empty_audience');
    expect(e.message).toContain('2 contacts excluded: 2 no_mail_domain');
    expect(e.message).toContain(`see /batches include-invalid ${r.batch.id} on`);
    expect(e.details).toMatchObject({ audience: { count: 0, excluded: { no_mail_domain: 2 } } });
    expect((await core.services.campaigns.list()).campaigns).toHaveLength(0);

    const draft = await core.services.campaigns.create({ ...input, sendAt: undefined }, 'U1');
    expect(draft.status).toBe('draft');
    const later = new Date(Date.now() + 3_600_000).toISOString();
    expect((await core.services.campaigns.create({ ...input, sendAt: later }, 'U1')).status).toBe(
      'scheduled',
    );
    // Scheduling the draft to send now is refused the same way.
    expect(
      (await refusal(() => core.services.campaigns.schedule(draft.id, { sendAt: 'now' }, 'U1'))).code,
    ).toBe('empty_audience');
    await core.services.validation.setIncludeInvalidDomains(r.batch.id, true, 'U1');
    expect((await core.services.campaigns.schedule(draft.id, { sendAt: 'now' }, 'U1')).status).toBe(
      'scheduled',
    );
  });

  it('no active batch: refused, saying so', async () => {
    core = testCore();
    const r = await importText(core.services, 'email\na@x.com\n');
    await core.services.batches.deactivate(r.batch.id, 'test');
    const e = await refusal(() => core.services.campaigns.create(input, 'U1'));
    expect(e.code).toBe('empty_audience');
    expect(e.message).toContain('no batch is active');
  });

  it('a scheduled campaign whose audience is empty when its time comes waits, says why, and never completes with 0', async () => {
    const clock = testClock();
    core = testCore({ clock });
    const s = core.services;
    const r = await importText(s, 'email\na@x.com\nb@x.com\n');
    const events: unknown[] = [];
    s.events.on((e) => events.push(e));
    const at = new Date(clock.now() + 3_600_000).toISOString();
    const c = await s.campaigns.create({ ...input, sendAt: at }, 'U1');
    await s.batches.deactivate(r.batch.id, 'U1');
    clock.advance(3_600_000);
    await s.sending.runDue();

    const held = await s.campaigns.get(c.id);
    expect(held).toMatchObject({ status: 'scheduled', awaitingConfirmation: true, startedAt: null });
    expect(held.statusReason).toContain('no batch is active');
    expect(held.statusReason).toContain('Nothing was sent');
    expect(events).toContainEqual({ type: 'empty_audience', campaignId: c.id, reason: held.statusReason });
    await s.sending.runDue(); // stays held, no second notice
    expect(events.filter((e) => (e as { type: string }).type === 'empty_audience')).toHaveLength(1);
    expect(await s.campaigns.counts(c.id)).toMatchObject({ total: 0, sent: 0 });

    // Confirming while there is still nobody is refused with the reasons; after a fix it sends.
    expect((await refusal(() => s.campaigns.resume(c.id, 'U1'))).code).toBe('empty_audience');
    await s.batches.activate(r.batch.id, 'U1');
    await s.campaigns.resume(c.id, 'U1');
    await s.sending.runDue();
    expect(await s.campaigns.get(c.id)).toMatchObject({ status: 'completed', statusReason: null });
    expect((await s.campaigns.counts(c.id)).sent).toBe(2);
  });

  it('a drip whose later run finds everyone reached is not held (that is a drip waiting for people)', async () => {
    const clock = testClock();
    core = testCore({ clock });
    const s = core.services;
    await importText(s, 'email\na@x.com\n');
    const c = await s.campaigns.create(
      { ...input, sendAt: undefined, cron: '0 * * * *', dailyLimit: 5 },
      'U1',
    );
    clock.advance(3_600_000);
    await s.sending.runDue();
    await s.sending.runDue();
    expect(await s.campaigns.get(c.id)).toMatchObject({ status: 'scheduled', runCount: 1 });
    clock.advance(3_600_000);
    await s.sending.runDue();
    await s.sending.runDue();
    expect(await s.campaigns.get(c.id)).toMatchObject({
      status: 'scheduled',
      runCount: 2,
      awaitingConfirmation: false,
    });
  });
});
