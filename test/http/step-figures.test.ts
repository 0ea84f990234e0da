/**
 * GET /campaigns/{id} of a sequence (PRODUCT.md §8): each step of the definition carries its
 * `counts` and `rates` (each rate with the people behind it), each variant too, and the campaign
 * carries `followUps`; a one-step campaign's one step is the campaign. The app counts in its
 * worker thread; the ledger rows are written in the test database.
 */
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startTestApp, tempDir, uploadCsv } from '../helpers.js';

let t: Awaited<ReturnType<typeof startTestApp>>;
let dir: ReturnType<typeof tempDir>;
beforeEach(async () => {
  dir = tempDir();
  t = await startTestApp(
    {
      MAIL_FROM: 'Sales <sales@coldbatch.test>',
      MAIL_POSTAL_ADDRESS: 'Av. Paulista 1000, São Paulo',
      MAIL_OUTBOX_DIR: join(dir.dir, 'outbox'),
    },
    { scheduler: false },
  );
  await uploadCsv(t.url, `email\n${['a', 'b', 'c', 'd', 'e'].map((p) => `${p}@x.com`).join('\n')}\n`);
});
afterEach(async () => {
  await t.stop();
  dir.cleanup();
});

type Json = Record<string, unknown>;
const post = async (body: unknown) => {
  const res = await fetch(`${t.url}/campaigns`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as { campaign: Json } };
};
const get = async (id: string) =>
  ((await (await fetch(`${t.url}/campaigns/${id}`)).json()) as { campaign: Json }).campaign;

const zero = {
  total: 0,
  pending: 0,
  sent: 0,
  failed: 0,
  bounced: 0,
  unsubscribed: 0,
  unknown: 0,
  replied: 0,
  complained: 0,
  softBounced: 0,
  interested: 0,
};
const none = { reply: { rate: null, people: 0 }, interested: { rate: null, people: 0 } };

describe('GET /campaigns/{id} per step and variant', () => {
  it('merges counts and rates into each step and variant of the definition, with the follow-ups waiting', async () => {
    const created = await post({
      name: 'Seq',
      steps: [
        { subject: 'Hi', body: 'Hello' },
        { body: 'Bump', delayDays: 2, variants: [{ body: 'Bump A' }, { subject: 'Other', body: 'Bump B' }] },
        { body: 'Last', delayDays: 3 },
      ],
    });
    expect(created.status).toBe(201);
    const c = created.body.campaign;
    const id = String(c.id);
    // A new sequence: everybody still to go at step 1, nothing else yet.
    expect(c.steps).toEqual([
      {
        index: 1,
        subject: 'Hi',
        body: 'Hello',
        delayDays: 0,
        counts: { ...zero, total: 5, pending: 5 },
        rates: none,
      },
      {
        index: 2,
        body: 'Bump',
        delayDays: 2,
        counts: zero,
        rates: none,
        variants: [
          { index: 1, body: 'Bump A', counts: zero, rates: none },
          { index: 2, subject: 'Other', body: 'Bump B', counts: zero, rates: none },
        ],
      },
      { index: 3, body: 'Last', delayDays: 3, counts: zero, rates: none },
    ]);
    expect(c.followUps).toEqual({ waiting: 0, nextDueAt: null });

    // Step 1 to a–d (d bounced), step 2 to a (variant 1, replied and interested) and b (variant 2);
    // c waits for step 2 (due at a fixed time).
    const sql = t.app.db.$client;
    const idOf = (p: string) =>
      sql.prepare<[string], { id: number }>('SELECT id FROM contacts WHERE email = ?').get(`${p}@x.com`)!.id;
    const row = sql.prepare(
      `INSERT INTO sends (campaign_id, contact_id, email_hash, run, step, variant, status, claimed_at, updated_at, replied_at)
       VALUES (?, ?, randomblob(8), 1, ?, ?, ?, 1, 1, ?)`,
    );
    for (const p of ['a', 'b', 'c']) row.run(id, idOf(p), 1, null, 'sent', null);
    row.run(id, idOf('d'), 1, null, 'bounced', null);
    row.run(id, idOf('a'), 2, 1, 'sent', 5);
    row.run(id, idOf('b'), 2, 2, 'sent', null);
    sql.prepare(`UPDATE contacts SET interest = 'interested' WHERE id = ?`).run(idOf('a'));
    const due = Date.UTC(2027, 0, 4, 9);
    sql
      .prepare(
        `INSERT INTO sequence_people (campaign_id, contact_id, step, next_due_at, updated_at) VALUES (?, ?, 1, ?, 1)`,
      )
      .run(id, idOf('c'), due);

    const got = await get(id);
    const steps = got.steps as Json[];
    expect(steps[0]).toMatchObject({
      index: 1,
      counts: { ...zero, total: 5, pending: 1, sent: 3, bounced: 1 },
      rates: { reply: { rate: 0, people: 3 }, interested: { rate: null, people: 0 } },
    });
    expect(steps[1]).toMatchObject({
      index: 2,
      counts: { ...zero, total: 2, sent: 2, replied: 1, interested: 1 },
      rates: { reply: { rate: 0.5, people: 2 }, interested: { rate: 1, people: 1 } },
      variants: [
        {
          index: 1,
          body: 'Bump A',
          counts: { sent: 1, replied: 1, interested: 1 },
          rates: { reply: { rate: 1, people: 1 } },
        },
        {
          index: 2,
          subject: 'Other',
          counts: { sent: 1, replied: 0 },
          rates: { reply: { rate: 0, people: 1 } },
        },
      ],
    });
    expect(steps[2]).toMatchObject({ index: 3, counts: zero });
    expect(got.followUps).toEqual({ waiting: 1, nextDueAt: new Date(due).toISOString() });
    // The campaign's own figures are every step's together.
    expect(got.counts).toMatchObject({ total: 7, sent: 5, bounced: 1, pending: 1, replied: 1 });
  });

  it("a one-step campaign's one step is the campaign, and it has no followUps", async () => {
    const created = await post({ name: 'One', subject: 'Hi', body: 'Hello' });
    expect(created.status).toBe(201);
    const got = await get(String(created.body.campaign.id));
    expect(got.steps).toEqual([
      { index: 1, subject: 'Hi', body: 'Hello', delayDays: 0, counts: got.counts, rates: none },
    ]);
    expect(got.counts).toMatchObject({ total: 5, pending: 5 });
    expect(got).not.toHaveProperty('followUps');
    expect(got.rates).toEqual({ reply: null, interested: null });
  });
});
