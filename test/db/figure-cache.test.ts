import { afterEach, describe, expect, it } from 'vitest';
import { CountReader } from '../../src/db/sqlite/count-reader.js';
import { FigureCache } from '../../src/db/sqlite/figure-cache.js';
import { importText, testClock, testCore, waitFor } from '../helpers.js';

let core: ReturnType<typeof testCore> | undefined;
afterEach(() => core?.cleanup());

const sumOf = (reasons: { reason: string; n: number }[] | undefined, reason: string) =>
  (reasons ?? []).filter((r) => r.reason === reason).reduce((s, r) => s + r.n, 0);

/**
 * A FigureCache over the test database whose counts run inline (CountReader) and are recorded,
 * as the app's run in the counting thread: which figures were counted, in order.
 */
function cacheOver(c: ReturnType<typeof testCore>) {
  const reader = new CountReader(c.db.$client);
  const counted: (string | null)[] = [];
  const cache = new FigureCache(c.db.$client, async (id, audience) => {
    const f = reader.figures(id, audience);
    counted.push(id);
    return f;
  });
  return { cache, counted };
}

describe('FigureCache', () => {
  it('counts the new audience when a batch is activated, so the next view after it is answered without a count', async () => {
    const clock = testClock(Date.UTC(2026, 0, 14, 12));
    core = testCore({ clock });
    const s = core.services;
    const { cache, counted } = cacheOver(core);

    await importText(s, 'email\na@x.com\nb@x.com\n', { fileName: 'a.csv' });
    await waitFor(() => counted.length >= 1); // the first activation warms the reach too
    const campaign = await s.campaigns.create({ name: 'Later', subject: 'Hi', body: 'Hello' }, 'U1');
    const seen = await cache.get(campaign.id, { audience: true, maxStaleMs: 0, now: clock.now() });
    expect(sumOf(seen.audience?.reasons, 'sendable')).toBe(2);

    // Another batch becomes the active one: every kept audience is of the old batch.
    clock.advance(60_000);
    const activatedAt = clock.now();
    const b = await importText(s, 'email\nc@y.com\nd@y.com\ne@y.com\n', { fileName: 'b.csv' });
    await waitFor(() => counted.includes(null) && counted.at(-1) === campaign.id && counted.length >= 3);
    const before = counted.length;

    // The audience a new campaign would reach (POST /campaigns) and the campaign viewed before
    // are answered from the counts made at the activation: exact, no new count.
    clock.advance(2_000);
    const reach = await cache.get(null, { audience: true, maxStaleMs: 60_000, now: clock.now() });
    expect(reach.audience?.batch?.id).toBe(b.batch.id);
    expect(sumOf(reach.audience?.reasons, 'sendable')).toBe(3);
    const view = await cache.get(campaign.id, { audience: true, maxStaleMs: 0, now: clock.now() });
    expect(view.audience?.batch?.id).toBe(b.batch.id);
    expect(sumOf(view.audience?.reasons, 'sendable')).toBe(3);
    expect(counted.length).toBe(before);

    // After another write the warmed reach is the latest count, dated at the activation.
    await s.contacts.setStatus(
      (await s.batches.contacts(b.batch.id, { q: 'c@y.com' })).contacts[0]!.id,
      'inactive',
      'test',
    );
    const stale = await cache.get(null, { audience: true, maxStaleMs: 60_000, now: clock.now() });
    expect(stale.countedAt).toBe(activatedAt);
    expect(stale.audience?.batch?.id).toBe(b.batch.id);
  });

  it('an activation with nothing kept warms only the reach', async () => {
    core = testCore();
    const { counted } = cacheOver(core);
    await importText(core.services, 'email\na@x.com\n');
    await waitFor(() => counted.length >= 1);
    expect(counted).toEqual([null]);
  });
});
