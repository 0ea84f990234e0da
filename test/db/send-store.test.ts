import { afterEach, describe, expect, it } from 'vitest';
import { sqliteStores } from '../../src/db/sqlite/stores.js';
import { importText, testClock, testCore } from '../helpers.js';

let core: ReturnType<typeof testCore> | undefined;
afterEach(() => core?.cleanup());

const t0 = Date.UTC(2026, 0, 14, 12);

/** A campaign over a 4-contact active batch, and the SQLite send store. */
async function setup() {
  core = testCore({ clock: testClock(t0) });
  await importText(core.services, 'email\na@x.com\nb@x.com\nc@x.com\nd@x.com\n');
  const c = await core.services.campaigns.create({ name: 'c', subject: 's', body: 'b' }, 'U1');
  const target = { id: c.id, runCount: 1, completedAt: null };
  const store = sqliteStores(core.db).sends;
  const row = (id: number) =>
    core!.db.$client.prepare('SELECT status, account, message_id FROM sends WHERE id = ?').get(id) as {
      status: string;
      account: string | null;
      message_id: string | null;
    };
  return { store, target, row };
}

describe('SqliteSendStore', () => {
  it('nextRetryAt tells when the first retry is due; a claim told no retry is due leaves them alone', async () => {
    const { store, target, row } = await setup();
    expect(await store.nextRetryAt(target.id)).toBeNull();
    const [first, second] = await store.claim(target, 2, t0, 0, []);
    await store.settleRetry(first!.sendId, 1, t0 + 60_000, '451 later', t0);
    await store.settleRetry(second!.sendId, 1, t0 + 30_000, '451 later', t0);
    expect(await store.nextRetryAt(target.id)).toBe(t0 + 30_000);

    const now = t0 + 120_000;
    const fresh = await store.claim(target, 4, now, second!.contactId, [], false);
    expect(fresh.map((x) => x.retry)).toEqual([false, false]);
    expect(row(first!.sendId).status).toBe('retry');

    const due = await store.claim(target, 4, now, 99_999, [], true);
    expect(due.map((x) => x.sendId).sort()).toEqual([first!.sendId, second!.sendId].sort());
    expect(due.every((x) => x.retry)).toBe(true);
    expect(await store.nextRetryAt(target.id)).toBeNull();
  });

  it('marks messages sent with the sending identity when there is one, and none without', async () => {
    const { store, target, row } = await setup();
    const [a, b] = await store.claim(target, 2, t0, 0, []);
    await store.settleSent(
      [
        { sendId: a!.sendId, messageId: '<cb.1.aaaaaaaaaa@x.com>', response: '250 ok' },
        {
          sendId: b!.sendId,
          messageId: '<cb.2.aaaaaaaaaa@x.com>',
          response: '250 ok',
          account: 'smtp.x.com:587:me',
        },
      ],
      t0,
    );
    expect(row(a!.sendId)).toEqual({ status: 'sent', account: null, message_id: '<cb.1.aaaaaaaaaa@x.com>' });
    expect(row(b!.sendId)).toEqual({
      status: 'sent',
      account: 'smtp.x.com:587:me',
      message_id: '<cb.2.aaaaaaaaaa@x.com>',
    });
  });
});
