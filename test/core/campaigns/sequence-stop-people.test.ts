/**
 * The people of a campaign (PRODUCT.md §8, services.sequences): each person's state (waiting,
 * stopped, finished), the last step sent, the next due time and the stop reason; filtered by state,
 * cursor-paginated by contact id; a one-step campaign's people come from the ledger. "Stop
 * sequence": a waiting person stops (`stopped`); anyone else is refused saying their state.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { SequenceService } from '../../../src/core/campaigns/sequence-service.js';
import { sqliteStores } from '../../../src/db/sqlite/stores.js';
import { createLogger } from '../../../src/logger.js';
import { memoryLog, refusal } from '../../helpers.js';
import { day, type SeqKit, sequenceKit } from './sequence-stop-kit.js';

let kit: SeqKit | undefined;
afterEach(async () => {
  await kit?.close();
  kit = undefined;
});

const csv = 'email\nana@acme.test\nbia@acme.test\ncai@acme.test\ndan@acme.test\neva@acme.test\n';

/**
 * Five people of a sequence: ana waits for step 2, bia's step 2 is being sent (claimed), cai got
 * step 2 (the last: finished), dan waits (stopped by the test), eva's step 1 failed (no row).
 */
async function fivePeople() {
  kit = await sequenceKit();
  const k = kit;
  const id = await k.sendCampaign(csv);
  k.sql.prepare(`UPDATE sends SET status = 'failed' WHERE contact_id = ?`).run(k.contactId('eva@acme.test'));
  k.wait(id);
  const followUp = (email: string, status: string) => {
    const cid = k.contactId(email);
    const { lastId } = k.sql
      .prepare(
        `INSERT INTO sends (campaign_id, contact_id, email_hash, run, step, status, attempts, claimed_at, updated_at)
         SELECT campaign_id, contact_id, email_hash, run, 2, ?, 1, ?, ? FROM sends WHERE campaign_id = ? AND contact_id = ?
         RETURNING id AS lastId`,
      )
      .get(status, k.clock.now(), k.clock.now(), id, cid) as { lastId: number };
    k.sql
      .prepare(
        `UPDATE sequence_people SET step = 2, next_due_at = NULL, last_send_id = ? WHERE campaign_id = ? AND contact_id = ?`,
      )
      .run(lastId, id, cid);
  };
  followUp('bia@acme.test', 'claimed');
  followUp('cai@acme.test', 'sent');
  const due = new Date(k.clock.now() + 2 * day).toISOString();
  return { k, id, due };
}

describe('the people of a campaign', () => {
  it('lists every person by contact id with their state, last step sent, next due time and stop reason', async () => {
    const { k, id, due } = await fivePeople();
    const dan = k.contactId('dan@acme.test');
    k.clock.advance(60_000);
    await k.s.sequences.stop(id, dan, 'U1');
    const { people, nextCursor } = await k.s.sequences.people(id);
    expect(nextCursor).toBeNull();
    expect(people).toEqual([
      {
        contactId: k.contactId('ana@acme.test'),
        email: 'ana@acme.test',
        state: 'waiting',
        step: 1,
        nextDueAt: due,
      },
      { contactId: k.contactId('bia@acme.test'), email: 'bia@acme.test', state: 'waiting', step: 1 },
      { contactId: k.contactId('cai@acme.test'), email: 'cai@acme.test', state: 'finished', step: 2 },
      {
        contactId: dan,
        email: 'dan@acme.test',
        state: 'stopped',
        step: 1,
        stopReason: 'stopped',
        stoppedAt: new Date(k.clock.now()).toISOString(),
      },
      { contactId: k.contactId('eva@acme.test'), email: 'eva@acme.test', state: 'finished', step: 0 },
    ]);
  });

  it('filters by state', async () => {
    const { k, id } = await fivePeople();
    await k.s.sequences.stop(id, k.contactId('dan@acme.test'), 'U1');
    const emails = async (state: 'waiting' | 'stopped' | 'finished') =>
      (await k.s.sequences.people(id, { state })).people.map((p) => p.email);
    expect(await emails('waiting')).toEqual(['ana@acme.test', 'bia@acme.test']);
    expect(await emails('stopped')).toEqual(['dan@acme.test']);
    expect(await emails('finished')).toEqual(['cai@acme.test', 'eva@acme.test']);
  });

  it('pages with a cursor, the filter kept across pages', async () => {
    const { k, id } = await fivePeople();
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await k.s.sequences.people(id, { limit: 2, ...(cursor ? { cursor } : {}) });
      seen.push(...page.people.map((p) => p.email));
      cursor = page.nextCursor ?? undefined;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen).toEqual(['ana', 'bia', 'cai', 'dan', 'eva'].map((p) => `${p}@acme.test`));
    const first = await k.s.sequences.people(id, { state: 'finished', limit: 1 });
    expect(first.people.map((p) => p.email)).toEqual(['cai@acme.test']);
    const second = await k.s.sequences.people(id, {
      state: 'finished',
      limit: 1,
      cursor: first.nextCursor ?? '',
    });
    expect(second).toEqual({
      people: [expect.objectContaining({ email: 'eva@acme.test' })],
      nextCursor: null,
    });
    const bad = await refusal(() => k.s.sequences.people(id, { cursor: 'not-a-cursor' }));
    expect(bad.code).toBe('invalid_input');
  });

  it('a one-step campaign: its people come from the ledger, step 1, finished', async () => {
    kit = await sequenceKit();
    const k = kit;
    const id = await k.sendCampaign('email\nana@acme.test\nbia@acme.test\n');
    const { people } = await k.s.sequences.people(id);
    expect(people).toEqual([
      { contactId: k.contactId('ana@acme.test'), email: 'ana@acme.test', state: 'finished', step: 1 },
      { contactId: k.contactId('bia@acme.test'), email: 'bia@acme.test', state: 'finished', step: 1 },
    ]);
    expect((await k.s.sequences.people(id, { state: 'waiting' })).people).toEqual([]);
  });

  it('an unknown campaign is not found', async () => {
    kit = await sequenceKit();
    const e = await refusal(() => kit!.s.sequences.people('cmp_nope'));
    expect(e.code).toBe('not_found');
    expect(e.message).toContain('cmp_nope');
  });
});

describe('Stop sequence', () => {
  it('stops a waiting person (stopped), logged in one line; the others keep waiting', async () => {
    const { k, id } = await fivePeople();
    const logs = memoryLog();
    const stores = sqliteStores(k.core.db);
    const service = new SequenceService(
      { log: createLogger('info', logs.stream, { format: 'json' }), clock: k.clock },
      stores.sequences,
      stores.campaigns,
    );
    const ana = k.contactId('ana@acme.test');
    k.clock.advance(5_000);
    const person = await service.stop(id, ana, 'U1');
    expect(person).toEqual({
      contactId: ana,
      email: 'ana@acme.test',
      state: 'stopped',
      step: 1,
      stopReason: 'stopped',
      stoppedAt: new Date(k.clock.now()).toISOString(),
    });
    expect(k.person(id, 'ana@acme.test')).toEqual({
      step: 1,
      nextDueAt: null,
      stopReason: 'stopped',
      stoppedAt: k.clock.now(),
    });
    expect(k.reasons(id)['dan@acme.test']).toBe('waiting');
    const lines = logs.lines().filter((l) => l.msg === 'sequence stopped');
    expect(lines).toEqual([
      expect.objectContaining({ campaignId: id, contactId: ana, actor: 'U1', step: 1 }),
    ]);
    expect(JSON.stringify(logs.lines())).not.toContain('ana@acme.test');
  });

  it('refuses anyone not waiting, saying their state, and changes nothing', async () => {
    const { k, id } = await fivePeople();
    const dan = k.contactId('dan@acme.test');
    await k.s.sequences.stop(id, dan, 'U1');
    const again = await refusal(() => k.s.sequences.stop(id, dan, 'U2'));
    expect(again.code).toBe('conflict');
    expect(again.message).toMatch(/already stopped \(stopped\)/);
    const finished = await refusal(() => k.s.sequences.stop(id, k.contactId('cai@acme.test'), 'U1'));
    expect(finished.code).toBe('conflict');
    expect(finished.message).toMatch(/finished .*last step sent: 2/);
    // Step 1 still being sent: no sequence row yet, nothing to stop.
    const eva = k.contactId('eva@acme.test');
    k.sql.prepare(`UPDATE sends SET status = 'claimed' WHERE contact_id = ?`).run(eva);
    expect((await k.s.sequences.person(id, eva))?.state).toBe('waiting');
    const first = await refusal(() => k.s.sequences.stop(id, eva, 'U1'));
    expect(first.code).toBe('conflict');
    expect(first.message).toMatch(/Step 1 .* being sent/);
    expect(k.reasons(id)).toEqual({
      'ana@acme.test': 'waiting',
      'bia@acme.test': 'finished',
      'cai@acme.test': 'finished',
      'dan@acme.test': 'stopped',
    });
  });

  it('an unknown campaign, or a contact with no message in it, is not found', async () => {
    const { k, id } = await fivePeople();
    expect(
      (await refusal(() => k.s.sequences.stop('cmp_nope', k.contactId('ana@acme.test'), 'U1'))).code,
    ).toBe('not_found');
    const stranger = await refusal(() => k.s.sequences.stop(id, 999_999, 'U1'));
    expect(stranger.code).toBe('not_found');
    expect(stranger.message).toContain('no message in campaign');
  });
});
