import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { importText, testClock, testCore } from '../helpers.js';

let core: ReturnType<typeof testCore>;
const clock = testClock();
beforeEach(() => {
  core = testCore({ clock });
});
afterEach(() => core.cleanup());

/** Every item of an async iterable, in order. */
async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

describe('batches', () => {
  it('records who imported, activated and deactivated, and when', async () => {
    const a = await importText(core.services, 'email\na@x.com\n', { fileName: 'a.csv' });
    clock.advance(60_000);
    const b = await importText(core.services, 'email\nb@x.com\n', { fileName: 'b.csv' });
    clock.advance(60_000);
    await core.services.batches.activate(a.batch.id, 'U123', 'wrong list');
    expect((await core.services.batches.events(a.batch.id)).map((e) => [e.kind, e.actor, e.reason])).toEqual([
      ['imported', 'test', '1 contacts from api'],
      ['activated', 'test', 'new import'],
      ['deactivated', 'test', `replaced by import ${b.batch.id}`],
      ['activated', 'U123', 'wrong list'],
    ]);
    expect((await core.services.batches.events(b.batch.id)).at(-1)).toMatchObject({
      kind: 'deactivated',
      actor: 'U123',
    });
    expect(b.batch.replacedBatchId).toBe(a.batch.id);
  });

  it('activation costs O(1): contacts rows are not rewritten', async () => {
    const a = await importText(core.services, 'email\na@x.com\nb@x.com\n');
    const before = core.db.$client.prepare('SELECT id, updated_at FROM contacts ORDER BY id').all();
    await core.services.batches.deactivate(a.batch.id, 'test');
    await core.services.batches.activate(a.batch.id, 'test');
    expect(core.db.$client.prepare('SELECT id, updated_at FROM contacts ORDER BY id').all()).toEqual(before);
  });

  it('activating the active batch or deactivating an inactive one changes nothing', async () => {
    const a = await importText(core.services, 'email\na@x.com\n');
    await core.services.batches.activate(a.batch.id, 'x');
    await core.services.batches.activate(a.batch.id, 'x');
    expect(
      (await core.services.batches.events(a.batch.id)).filter((e) => e.kind === 'activated'),
    ).toHaveLength(1);
  });
});

describe('contacts and the audience', () => {
  it('audience = active batch ∩ status active − suppressions', async () => {
    const old = await importText(core.services, 'email\nold@x.com\n', { fileName: 'old.csv' });
    const cur = await importText(
      core.services,
      'email\nok1@x.com\nok2@x.com\ninactive@x.com\nbounced@x.com\nunsub@x.com\n',
    );
    const byEmail = new Map(
      (await core.services.batches.contacts(cur.batch.id)).contacts.map((c) => [c.email, c.id]),
    );
    await core.services.contacts.setStatus(byEmail.get('inactive@x.com')!, 'inactive', 'U1', 'asked');
    await core.services.contacts.setStatus(byEmail.get('bounced@x.com')!, 'bounced', 'system', '550');
    await core.services.contacts.setStatus(byEmail.get('unsub@x.com')!, 'unsubscribed', 'system');
    // A suppression entry alone (no status change) also removes the contact from the audience.
    core.db.$client
      .prepare(`INSERT INTO suppressions (email_hash, reason, actor, created_at)
                SELECT email_hash, 'manual', 'test', 0 FROM contacts WHERE email = 'ok2@x.com'`)
      .run();
    expect((await collect(core.services.audience.iterate(2))).map((r) => r.email)).toEqual(['ok1@x.com']);
    expect(await core.services.audience.count()).toBe(1);
    await core.services.batches.activate(old.batch.id, 'x');
    expect((await collect(core.services.audience.iterate())).map((r) => r.email)).toEqual(['old@x.com']);
    await core.services.batches.deactivate(old.batch.id, 'x');
    expect(await core.services.audience.count()).toBe(0);
  });

  it('keeps a status history with actor and reason, and survives deletion without the person', async () => {
    const r = await importText(core.services, 'email\nh@x.com\n');
    const id = (await core.services.batches.contacts(r.batch.id)).contacts[0]!.id;
    await core.services.contacts.setStatus(id, 'inactive', 'U9', 'on holiday');
    await core.services.contacts.setStatus(id, 'active', 'U9');
    expect((await core.services.contacts.history(id)).map((h) => [h.from, h.to, h.actor, h.reason])).toEqual([
      ['active', 'inactive', 'U9', 'on holiday'],
      ['inactive', 'active', 'U9', null],
    ]);
    await core.services.contacts.delete(id, 'api');
    expect(await core.services.contacts.isSuppressed('h@x.com')).toBe(true);
    expect((await core.services.batches.get(r.batch.id)).contactCount).toBe(0);
    const orphaned = core.db.$client
      .prepare('SELECT count(*) AS n FROM contact_history WHERE contact_id IS NULL')
      .get();
    expect(orphaned).toEqual({ n: 3 });
    expect(core.db.$client.prepare('SELECT count(*) AS n FROM contacts').get()).toEqual({ n: 0 });
  });
});
