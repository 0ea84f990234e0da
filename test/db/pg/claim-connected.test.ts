import { afterEach, describe, expect, it } from 'vitest';
import type { ClaimTarget } from '../../../src/core/sending/send-store.js';
import { rows } from '../../../src/db/pg/client.js';
import { pgStores } from '../../../src/db/pg/stores.js';
import { openTestDatabase, type TestDatabase } from '../../pg/dialects.js';
import { seedAt, seedBatch, seedCampaign, seedContacts } from '../../pg/seed.js';

/**
 * An instance that lost its liveness connection looks dead to the others (they may take its
 * claims over), so it settles what it sent but claims nothing new; and a run is not over for one
 * instance while another still holds claimed rows of the campaign.
 */
const batch = 'batch_00000001_1760000000';
const cmp = 'cmp_1';
const t0 = seedAt + 86_400_000;
const target: ClaimTarget = { id: cmp, runCount: 1, completedAt: null };

describe('claims of an instance and its connection (Postgres)', () => {
  let t: TestDatabase | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it('settles what was sent, then refuses to claim while the instance is not connected', async () => {
    t = await openTestDatabase('postgres');
    if (t.dialect !== 'postgres') throw new Error('postgres only');
    await seedBatch(t, batch);
    await seedContacts(t, batch, ['a@x.com', 'b@x.com', 'c@x.com']);
    await seedCampaign(t, cmp, { status: 'sending' });
    await t.query('UPDATE campaigns SET run_count = 1, started_at = $1 WHERE id = $2', [t0, cmp]);
    const instance = { id: 'host:1:aaaa', connected: true };
    const a = pgStores(t.db, { instance }).sends;
    const first = await a.claim(target, 1, t0, 0, []);
    expect(first).toHaveLength(1);

    instance.connected = false;
    const settled = [{ sendId: first[0]!.sendId, messageId: '<m1@x>', response: '250 ok' }];
    await expect(a.claim(target, 5, t0 + 1, first[0]!.contactId, settled)).rejects.toThrow(/not connected/);
    const ledger = await rows<{ status: string; n: number }>(
      t.db.$client,
      'SELECT status, count(*) AS n FROM sends GROUP BY status ORDER BY status',
    );
    expect(ledger).toEqual([{ status: 'sent', n: 1 }]); // settled; nothing new claimed

    instance.connected = true;
    expect(await a.claim(target, 5, t0 + 2, first[0]!.contactId, [])).toHaveLength(2);
  });

  it("another instance's claimed rows keep the run pending for this one", async () => {
    t = await openTestDatabase('postgres');
    if (t.dialect !== 'postgres') throw new Error('postgres only');
    await seedBatch(t, batch);
    await seedContacts(t, batch, ['a@x.com']);
    await seedCampaign(t, cmp, { status: 'sending' });
    await t.query('UPDATE campaigns SET run_count = 1, started_at = $1 WHERE id = $2', [t0, cmp]);
    const a = pgStores(t.db, { instance: { id: 'host:1:aaaa' } }).sends;
    const b = pgStores(t.db, { instance: { id: 'host:2:bbbb' } }).sends;
    const [claimed] = await a.claim(target, 5, t0, 0, []);
    // b finds nobody left to claim, but a is still sending: b must not end the run.
    expect(await b.claim(target, 5, t0, 0, [])).toEqual([]);
    expect(await b.hasPendingWork(cmp)).toBe(true);
    await a.settleSent([{ sendId: claimed!.sendId, messageId: '<m@x>', response: '250 ok' }], t0 + 1);
    expect(await b.hasPendingWork(cmp)).toBe(false);
  });
});
