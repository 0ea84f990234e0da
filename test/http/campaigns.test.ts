import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startTestApp, tempDir, uploadCsv } from '../helpers.js';

let url: string;
let stop: () => Promise<void>;
let app: Awaited<ReturnType<typeof startTestApp>>['app'];
let outbox: string;
let dir: ReturnType<typeof tempDir>;

beforeEach(async () => {
  dir = tempDir();
  outbox = join(dir.dir, 'outbox');
  const t = await startTestApp(
    {
      MAIL_FROM: 'Sales <sales@coldbatch.test>',
      MAIL_POSTAL_ADDRESS: 'Av. Paulista 1000, São Paulo',
      MAIL_OUTBOX_DIR: outbox,
      PUBLIC_URL: 'https://links.coldbatch.test',
    },
    { scheduler: false },
  );
  ({ url, stop, app } = t);
});
afterEach(async () => {
  await stop();
  dir.cleanup();
});

const json = async (path: string, init?: RequestInit) => {
  const res = await fetch(`${url}${path}`, init);
  return {
    status: res.status,
    body: (await res.json()) as Record<string, unknown> & { campaign?: Record<string, unknown> },
  };
};
const post = (path: string, body: unknown) =>
  json(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

describe('campaign REST routes', () => {
  it('creates, lists, schedules, pauses, resumes and cancels, with ledger counts', async () => {
    await uploadCsv(url, 'email,name\na@x.com,Ana\nb@x.com,Bia\n');
    const draft = await post('/campaigns', {
      name: 'Hello',
      subject: 'Hi {{first_name|there}}',
      body: 'Body',
    });
    expect(draft.status).toBe(201);
    expect(draft.body.campaign).toMatchObject({
      status: 'draft',
      from: 'Sales <sales@coldbatch.test>',
      counts: { total: 2, pending: 2, sent: 0 },
    });
    const id = String(draft.body.campaign!.id);

    const bad = await post('/campaigns', { name: 'x', subject: 'Hi {{firstname}}', body: 'b' });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain('{{firstname}}');
    const badCron = await post(`/campaigns/${id}/schedule`, { cron: 'every day', dailyLimit: 5 });
    expect(badCron.status).toBe(400);

    const scheduled = await post(`/campaigns/${id}/schedule`, { sendAt: '2030-01-01T09:00:00Z' });
    expect(scheduled.body.campaign).toMatchObject({
      status: 'scheduled',
      nextRunAt: '2030-01-01T09:00:00.000Z',
    });
    expect((await post(`/campaigns/${id}/pause`, {})).body.campaign).toMatchObject({ status: 'paused' });
    expect((await post(`/campaigns/${id}/resume`, {})).body.campaign).toMatchObject({ status: 'scheduled' });
    expect((await post(`/campaigns/${id}/cancel`, {})).body.campaign).toMatchObject({ status: 'cancelled' });
    const again = await post(`/campaigns/${id}/resume`, {});
    expect(again.status).toBe(409);

    const list = await json('/campaigns');
    expect((list.body.campaigns as { id: string }[]).map((c) => c.id)).toEqual([id]);
    expect((await json('/campaigns/cmp_nope')).status).toBe(404);
  });
});

describe('unsubscribe links', () => {
  it('GET shows a confirmation page; one-click POST (no cookies, no redirect) unsubscribes and suppresses', async () => {
    await uploadCsv(url, 'email,name\nana@x.com,Ana\nbia@x.com,Bia\n');
    const created = await post('/campaigns', {
      name: 'Intro',
      subject: 'Hi',
      body: 'Body {{unsubscribe_url}}',
      sendAt: 'now',
    });
    const id = String(created.body.campaign!.id);
    await app.services.sending.runDue();
    const files = readdirSync(outbox).filter((f) => f.endsWith('.eml'));
    expect(files).toHaveLength(2);
    const eml = files
      .map((f) => readFileSync(join(outbox, f), 'utf8'))
      .find((t) => /^To: ana@x\.com$/m.test(t))!;
    expect(eml).toMatch(/^List-Unsubscribe-Post: List-Unsubscribe=One-Click$/m);
    const link = /List-Unsubscribe: <https:\/\/links\.coldbatch\.test(\/u\/[^>]+)>/.exec(
      eml.replace(/\n\s+/g, ' '),
    )![1]!;

    const page = await fetch(`${url}${link}`);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('Unsubscribe?');
    expect(html).toContain(`action="${link}"`);
    expect(await app.services.contacts.isSuppressed('ana@x.com')).toBe(false); // a GET (link scanner) changes nothing

    const tampered = `${link.slice(0, -2)}${link.at(-2) === 'A' ? 'B' : 'A'}${link.slice(-1)}`;
    expect((await fetch(`${url}${tampered}`, { method: 'POST' })).status).toBe(404);

    const oneClick = await fetch(`${url}${link}`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'List-Unsubscribe=One-Click',
    });
    expect(oneClick.status).toBe(200);
    expect(await app.services.contacts.isSuppressed('ana@x.com')).toBe(true);
    expect(await app.services.contacts.isSuppressed('bia@x.com')).toBe(false);
    const counts = (await json(`/campaigns/${id}`)).body.campaign!.counts;
    expect(counts).toMatchObject({ sent: 2, unsubscribed: 1 });
    expect(await (await fetch(`${url}${link}`)).text()).toContain('You are unsubscribed');
    expect((await fetch(`${url}${link}`, { method: 'POST' })).status).toBe(200); // idempotent
  });

  it('is public even when API_TOKEN protects the API', async () => {
    await stop();
    const t = await startTestApp(
      { API_TOKEN: 'a-long-enough-api-token', HOST: '127.0.0.1' },
      { scheduler: false },
    );
    ({ url, stop, app } = t);
    expect((await fetch(`${url}/u/garbage`)).status).toBe(404);
    expect((await fetch(`${url}/campaigns`)).status).toBe(401);
  });
});
