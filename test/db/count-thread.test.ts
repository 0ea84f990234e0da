import { afterEach, describe, expect, it } from 'vitest';
import { CountReader } from '../../src/db/sqlite/count-reader.js';
import { CountThread } from '../../src/db/sqlite/count-thread.js';
import { importText, testCore } from '../helpers.js';

let core: ReturnType<typeof testCore>;
let thread: CountThread | null = null;
afterEach(async () => {
  await thread?.close();
  thread = null;
  core.cleanup();
});

const input = { name: 'Intro', subject: 'Hi {{first_name|there}}', body: 'Hello', sendAt: 'now' as const };

/**
 * A batch with a contact for most reasons and a campaign that reached three of its people: the
 * fourth was inactive while it sent and is active again, so it is still to go.
 */
async function campaignHalfway() {
  const s = core.services;
  const r = await importText(
    s,
    'email\na@x.com\nb@x.com\nc@x.com\nlater@x.com\nbounce@x.com\nsomeone@blocked.test\nn@nomx.test\n',
  );
  const id = async (email: string) =>
    (await s.batches.contacts(r.batch.id, { q: email })).contacts.find((c) => c.email === email)!.id;
  await s.contacts.setStatus(await id('bounce@x.com'), 'bounced', 'test');
  await s.contacts.setStatus(await id('later@x.com'), 'inactive', 'test');
  await s.domainSuppressions.add({ pattern: 'blocked.test' }, 'test');
  core.db.$client
    .prepare(`UPDATE contacts SET validation = 'no_mail_domain' WHERE email LIKE '%@nomx.test'`)
    .run();
  const c = await s.campaigns.create(input, 'U1');
  await s.sending.runDue();
  await s.contacts.setStatus(await id('later@x.com'), 'active', 'test');
  return { batchId: r.batch.id, campaignId: c.id };
}

describe('CountThread', () => {
  it('counts in its worker thread exactly what the main connection counts', async () => {
    core = testCore();
    const { batchId, campaignId } = await campaignHalfway();
    const inline = new CountReader(core.db.$client);
    thread = CountThread.over(core.db.$client);
    if (!thread) throw new Error('a file database has a counting thread');

    expect(inline.remaining(campaignId)).toBe(1);
    expect(inline.reasons(batchId, campaignId)).toEqual(
      expect.arrayContaining([
        { reason: 'already_reached', n: 3 },
        { reason: 'sendable', n: 1 },
        { reason: 'suppressed', n: 1 },
      ]),
    );
    expect(await thread.count()).toBe(inline.count());
    expect(await thread.remaining(campaignId)).toBe(inline.remaining(campaignId));
    expect(await thread.sends(campaignId)).toEqual(inline.sends(campaignId));
    for (const campaign of [campaignId, null]) {
      expect(await thread.reasons(batchId, campaign)).toEqual(inline.reasons(batchId, campaign));
      expect(await thread.figures(campaign, true)).toEqual(inline.figures(campaign, true));
      expect(await thread.figures(campaign, false)).toEqual(inline.figures(campaign, false));
    }
  });

  it('starts its worker at the first count and ends it on close', async () => {
    core = testCore();
    await importText(core.services, 'email\na@x.com\nb@x.com\n');
    thread = CountThread.over(core.db.$client);
    if (!thread) throw new Error('a file database has a counting thread');
    expect(thread.running).toBe(false);
    expect(await Promise.all([thread.count(), thread.count(), thread.count()])).toEqual([2, 2, 2]);
    expect(thread.running).toBe(true);
    await thread.close();
    expect(thread.running).toBe(false);
    await expect(thread.count()).rejects.toThrow(/closed/);
  });
});
