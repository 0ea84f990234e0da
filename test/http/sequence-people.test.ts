/**
 * REST for a campaign's people (PRODUCT.md §8) on the real app: GET /campaigns/{id}/people with
 * state, limit and cursor, and POST /campaigns/{id}/people/{contactId}/stop; statuses and shapes,
 * bad input refused with a clear message, behind the API token. The campaign is sent for real to
 * the SMTP sink; its people are put in a sequence as the engine records it (step 1 sent, step 2 due).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, testClock, uploadCsv } from '../helpers.js';
import { startSink } from '../smtp-sink.js';

const token = 'api-token-sequence-people-0123456789';
const clock = testClock(Date.UTC(2026, 0, 14, 12));
const day = 86_400_000;
let sink: Awaited<ReturnType<typeof startSink>>;
let t: Awaited<ReturnType<typeof startTestApp>>;
let campaignId: string;
const ids: Record<string, number> = {};

type Json = Record<string, unknown>;
async function api(
  path: string,
  init: RequestInit = {},
  auth = true,
): Promise<{ status: number; body: Json }> {
  const res = await fetch(`${t.url}${path}`, {
    ...init,
    headers: { ...(auth ? { authorization: `Bearer ${token}` } : {}), ...(init.headers ?? {}) },
  });
  return { status: res.status, body: (await res.json()) as Json };
}
const post = (path: string) => api(path, { method: 'POST' });

beforeAll(async () => {
  sink = await startSink();
  t = await startTestApp(
    {
      API_TOKEN: token,
      SMTP_URL: sink.url,
      MAIL_FROM: 'Sales <sales@coldbatch.test>',
      MAIL_POSTAL_ADDRESS: 'Rua Exemplo 100, São Paulo',
    },
    { scheduler: false, clock },
  );
  const csv = 'email\nana@acme.test\nbia@acme.test\ncai@acme.test\n';
  expect((await uploadCsv(t.url, csv, { headers: { authorization: `Bearer ${token}` } })).status).toBe(201);
  const c = await t.app.services.campaigns.create(
    { name: 'Intro', subject: 'Hi', body: 'Hello', sendAt: 'now' },
    'api',
  );
  campaignId = c.id;
  await t.app.services.sending.runDue();
  expect(sink.received).toHaveLength(3);
  const sql = t.app.db.$client;
  sql
    .prepare(
      `INSERT INTO sequence_people (campaign_id, contact_id, step, next_due_at, last_send_id, updated_at)
       SELECT campaign_id, contact_id, 1, ?, id, ? FROM sends WHERE campaign_id = ?`,
    )
    .run(clock.now() + 2 * day, clock.now(), campaignId);
  for (const r of sql.prepare('SELECT id, email FROM contacts').all() as { id: number; email: string }[])
    ids[r.email] = r.id;
});
afterAll(async () => {
  await t?.stop();
  await sink?.close();
});

describe('GET /campaigns/{id}/people', () => {
  it('lists the people with their step, state and next due time', async () => {
    const { status, body } = await api(`/campaigns/${campaignId}/people`);
    expect(status).toBe(200);
    const due = new Date(clock.now() + 2 * day).toISOString();
    expect(body).toEqual({
      people: ['ana', 'bia', 'cai'].map((p) => ({
        contactId: ids[`${p}@acme.test`],
        email: `${p}@acme.test`,
        state: 'waiting',
        step: 1,
        nextDueAt: due,
      })),
      nextCursor: null,
    });
  });

  it('pages with limit and cursor', async () => {
    const first = await api(`/campaigns/${campaignId}/people?limit=2`);
    expect((first.body.people as Json[]).map((p) => p.email)).toEqual(['ana@acme.test', 'bia@acme.test']);
    expect(typeof first.body.nextCursor).toBe('string');
    const next = await api(`/campaigns/${campaignId}/people?limit=2&cursor=${first.body.nextCursor}`);
    expect(next.body).toMatchObject({ people: [{ email: 'cai@acme.test' }], nextCursor: null });
  });

  it('refuses a bad state, limit or cursor (400) and an unknown campaign (404)', async () => {
    const state = await api(`/campaigns/${campaignId}/people?state=sleeping`);
    expect(state.status).toBe(400);
    expect(state.body).toMatchObject({ error: { code: 'invalid_input' } });
    expect(JSON.stringify(state.body)).toMatch(/waiting/);
    expect((await api(`/campaigns/${campaignId}/people?limit=0`)).status).toBe(400);
    const cursor = await api(`/campaigns/${campaignId}/people?cursor=zzz`);
    expect(cursor.status).toBe(400);
    expect(cursor.body).toMatchObject({
      error: { code: 'invalid_input', message: expect.stringMatching(/cursor/) },
    });
    const missing = await api('/campaigns/cmp_nope/people');
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ error: { code: 'not_found' } });
  });

  it('needs the API token', async () => {
    expect((await api(`/campaigns/${campaignId}/people`, {}, false)).status).toBe(401);
  });
});

describe('POST /campaigns/{id}/people/{contactId}/stop', () => {
  it('stops a waiting person (200 with the person), then refuses a second stop (409)', async () => {
    const bia = ids['bia@acme.test'];
    const { status, body } = await post(`/campaigns/${campaignId}/people/${bia}/stop`);
    expect(status).toBe(200);
    expect(body).toEqual({
      person: {
        contactId: bia,
        email: 'bia@acme.test',
        state: 'stopped',
        step: 1,
        stopReason: 'stopped',
        stoppedAt: new Date(clock.now()).toISOString(),
      },
    });
    const stopped = await api(`/campaigns/${campaignId}/people?state=stopped`);
    expect((stopped.body.people as Json[]).map((p) => p.email)).toEqual(['bia@acme.test']);
    const again = await post(`/campaigns/${campaignId}/people/${bia}/stop`);
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({
      error: { code: 'conflict', message: expect.stringMatching(/already stopped/) },
    });
  });

  it('404 for an unknown campaign or a contact with no message in it; 400 for a contact id that is not one', async () => {
    expect((await post(`/campaigns/cmp_nope/people/${ids['ana@acme.test']}/stop`)).status).toBe(404);
    const stranger = await post(`/campaigns/${campaignId}/people/987654/stop`);
    expect(stranger.status).toBe(404);
    expect(stranger.body).toMatchObject({ error: { code: 'not_found' } });
    const bad = await post(`/campaigns/${campaignId}/people/ana/stop`);
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ error: { code: 'invalid_input' } });
    expect((await api(`/campaigns/${campaignId}/people?state=waiting`)).body.people).toHaveLength(2);
  });
});
