import { afterEach, describe, expect, it } from 'vitest';
import { importText, testClock, testCore, waitFor } from '../../helpers.js';

let core: ReturnType<typeof testCore>;
afterEach(() => core.cleanup());

const input = { name: 'Intro', subject: 'Hi {{first_name|there}}', body: 'Hello' };

/** The app's way of counting: in the worker thread, figures kept per campaign. */
async function appCore() {
  const clock = testClock();
  core = testCore({ clock, countsOffThread: true });
  const r = await importText(core.services, 'email\na@x.com\nb@x.com\nc@x.com\n');
  const id = async (email: string) =>
    (await core.services.batches.contacts(r.batch.id, { q: email })).contacts.find((c) => c.email === email)!
      .id;
  return { clock, s: core.services, id };
}

describe('campaign figures counted off the main thread', () => {
  it("a sending campaign's figures come from the last count and are counted again in the background", async () => {
    const { clock, s, id } = await appCore();
    const c = await s.campaigns.create({ ...input, sendAt: 'now' }, 'U1');
    await s.campaigns.machine.startRun(await s.campaigns.machine.get(c.id), clock.now());
    const first = await s.progress.detail(c.id);
    expect(first).toMatchObject({ campaign: { status: 'sending' }, counts: { total: 3, pending: 3 } });
    expect(first.audience?.count).toBe(3);

    await s.contacts.setStatus(await id('c@x.com'), 'inactive', 'test');
    clock.advance(2000);
    // Two seconds old, same batch: answered at once with the figures counted before the change …
    expect((await s.progress.detail(c.id)).audience?.count).toBe(3);
    // … and the count it started shows the change to the next poll.
    const refreshed = await waitFor(async () => {
      const d = await s.progress.detail(c.id);
      return d.audience?.count === 2 ? d : null;
    });
    expect(refreshed.counts).toMatchObject({ total: 2, pending: 2 });
    expect(refreshed.audience?.excluded).toEqual({ inactive: 1 });
    expect(refreshed.countedAt).toBe(clock.now());

    // Figures older than a minute are never shown: the poll waits for a new count.
    await s.contacts.setStatus(await id('b@x.com'), 'inactive', 'test');
    clock.advance(61_000);
    const late = await s.progress.get(c.id);
    expect(late.counts).toMatchObject({ total: 1, pending: 1 });
    expect(late.countedAt).toBe(clock.now());
  });

  it('the figures of a campaign that is not sending are exact at every call', async () => {
    const { s, id } = await appCore();
    const c = await s.campaigns.create({ ...input, sendAt: '2030-01-01T09:00:00Z' }, 'U1');
    expect((await s.progress.detail(c.id)).audience?.count).toBe(3);
    await s.contacts.setStatus(await id('a@x.com'), 'inactive', 'test');
    expect((await s.progress.detail(c.id)).audience).toMatchObject({ count: 2, excluded: { inactive: 1 } });
    await s.domainSuppressions.add({ pattern: 'x.com' }, 'test');
    expect((await s.progress.detail(c.id)).audience).toMatchObject({
      count: 0,
      excluded: { inactive: 1, suppressed: 2 },
    });
  });

  it('a new campaign shows the count made to create it; sent figures are exact once it completes', async () => {
    const { s } = await appCore();
    const c = await s.campaigns.create({ ...input, sendAt: 'now' }, 'U1');
    expect((await s.progress.detail(c.id)).counts).toMatchObject({ total: 3, pending: 3, sent: 0 });
    await s.sending.runDue();
    const done = await s.progress.detail(c.id);
    expect(done).toMatchObject({
      campaign: { status: 'completed' },
      counts: { total: 3, sent: 3, pending: 0 },
    });
    expect(done.audience).toBeUndefined();
  });

  it('an empty audience is counted again before a campaign is refused', async () => {
    const { s, id } = await appCore();
    for (const e of ['a@x.com', 'b@x.com', 'c@x.com'])
      await s.contacts.setStatus(await id(e), 'inactive', 'test');
    expect((await s.progress.reachNow()).audience.count).toBe(0);
    await s.contacts.setStatus(await id('a@x.com'), 'active', 'test');
    // The 0 just counted is a few ms old, but a refusal is never made on old figures.
    const c = await s.campaigns.create({ ...input, sendAt: 'now' }, 'U1');
    expect((await s.progress.detail(c.id)).audience?.count).toBe(1);
  });
});
