import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startTestApp, tempDir, uploadCsv } from '../helpers.js';

let url: string;
let stop: () => Promise<void>;
let app: Awaited<ReturnType<typeof startTestApp>>['app'];
let dir: ReturnType<typeof tempDir>;

beforeEach(async () => {
  dir = tempDir();
  ({ url, stop, app } = await startTestApp(
    {
      MAIL_FROM: 'Sales <sales@coldbatch.test>',
      MAIL_POSTAL_ADDRESS: 'Av. Paulista 1000, São Paulo',
      MAIL_OUTBOX_DIR: join(dir.dir, 'outbox'),
      PUBLIC_URL: 'https://links.coldbatch.test',
    },
    { scheduler: false },
  ));
});
afterEach(async () => {
  await stop();
  dir.cleanup();
});

type Body = Record<string, unknown> & {
  campaign?: Record<string, unknown>;
  error?: { code: string; message: string; details?: unknown };
  contacts?: {
    id: number;
    email: string;
    status: string;
    sendable: boolean;
    notSendableReason: string | null;
  }[];
};
const json = async (path: string, init?: RequestInit) => {
  const res = await fetch(`${url}${path}`, init);
  return { status: res.status, body: (await res.json()) as Body };
};
const post = (path: string, body: unknown) =>
  json(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
const upload = async (csv: string, name: string) => {
  const r = await uploadCsv(url, csv, { fileName: name });
  return (r.body as { batch: { id: string } }).batch.id;
};
/** Stands in for a bulk validation's verdict (test/core/validation runs the real one against a DNS server). */
const markNoMailDomain = (domain: string) =>
  app.db.$client
    .prepare(`UPDATE contacts SET validation = 'no_mail_domain' WHERE email LIKE ?`)
    .run(`%@${domain}`);

describe('campaign audience over REST', () => {
  it('POST /campaigns answers with the audience now: who it reaches and why the others are left out', async () => {
    const batch = await upload('email\nana@x.com\nbia@x.com\na@nomx.test\n', 'leads.csv');
    markNoMailDomain('nomx.test');
    const draft = await post('/campaigns', { name: 'Hello', subject: 'Hi', body: 'Body' });
    expect(draft.status).toBe(201);
    expect(draft.body.campaign).toMatchObject({
      status: 'draft',
      audience: { count: 2, excluded: { no_mail_domain: 1 }, batch: { id: batch, name: 'leads.csv' } },
      counts: { total: 2, pending: 2 },
    });
    const id = String(draft.body.campaign!.id);
    expect((await json(`/campaigns/${id}`)).body.campaign).toMatchObject({ audience: { count: 2 } });
    // Lists stay cheap: no audience there.
    const list = await json('/campaigns');
    expect(JSON.stringify(list.body)).not.toContain('"audience"');

    // Once finished, a campaign has no audience any more.
    await post(`/campaigns/${id}/schedule`, { sendAt: 'now' });
    await app.services.sending.runDue();
    const done = await json(`/campaigns/${id}`);
    expect(done.body.campaign).toMatchObject({ status: 'completed', counts: { sent: 2 } });
    expect(done.body.campaign).not.toHaveProperty('audience');
  });

  it('sending now to nobody is refused (409 empty_audience) with the reasons, and nothing is saved', async () => {
    const batch = await upload('email\na@nomx.test\nb@nomx.test\n', 'bad.csv');
    markNoMailDomain('nomx.test');
    const now = await post('/campaigns', { name: 'Hello', subject: 'Hi', body: 'Body', sendAt: 'now' });
    expect(now.status).toBe(409);
    expect(now.body.error).toMatchObject({
      code: 'empty_audience',
      details: { audience: { count: 0, excluded: { no_mail_domain: 2 }, batch: { id: batch } } },
    });
    expect(now.body.error!.message).toContain(
      `2 contacts excluded: 2 no_mail_domain — see /batches include-invalid ${batch} on`,
    );
    expect((await json('/campaigns')).body.campaigns).toEqual([]);

    const draft = await post('/campaigns', { name: 'Hello', subject: 'Hi', body: 'Body' });
    const id = String(draft.body.campaign!.id);
    const sched = await post(`/campaigns/${id}/schedule`, { sendAt: 'now' });
    expect(sched.status).toBe(409);
    expect(sched.body.error!.code).toBe('empty_audience');
    expect((await json(`/campaigns/${id}`)).body.campaign).toMatchObject({ status: 'draft' });
  });

  it('a scheduled campaign found with nobody to send to waits with the reason (GET shows it)', async () => {
    const batch = await upload('email\nana@x.com\n', 'leads.csv');
    const at = new Date(Date.now() + 60_000).toISOString();
    const c = await post('/campaigns', { name: 'Later', subject: 'Hi', body: 'Body', sendAt: at });
    expect(c.status).toBe(201);
    const id = String(c.body.campaign!.id);
    await post(`/contacts/batches/${batch}/deactivate`, {});
    // Its time comes (the app's clock is the real one: move the send time instead).
    app.db.$client.prepare('UPDATE campaigns SET next_run_at = ? WHERE id = ?').run(Date.now() - 1, id);
    await app.services.sending.runDue();
    const got = await json(`/campaigns/${id}`);
    expect(got.body.campaign).toMatchObject({
      status: 'scheduled',
      awaitingConfirmation: true,
      audience: { count: 0, excluded: {}, batch: null },
      counts: { total: 0 },
    });
    expect(String(got.body.campaign!.statusReason)).toContain('no batch is active');
    const resume = await post(`/campaigns/${id}/resume`, {});
    expect(resume.status).toBe(409);
    expect(resume.body.error!.code).toBe('empty_audience');
  });
});

describe('whether a contact is sendable now', () => {
  it('GET /contacts/batches/{id} and its CSV export: contacts of an inactive batch say sendable: false, batch_inactive', async () => {
    const old = await upload('email\nana@x.com\nbia@x.com\n', 'old.csv');
    const current = await upload('email\ncai@x.com\na@nomx.test\ndan@x.com\n', 'new.csv');
    markNoMailDomain('nomx.test');
    const dan = (await json(`/contacts/batches/${current}?q=dan`)).body.contacts![0]!;
    const put = await fetch(`${url}/contacts/${dan.id}/status`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ status: 'unsubscribed' }),
    });
    expect(await put.json()).toMatchObject({
      contact: { status: 'unsubscribed', sendable: false, notSendableReason: 'unsubscribed' },
    });

    const oldContacts = (await json(`/contacts/batches/${old}`)).body.contacts!;
    expect(oldContacts.map((c) => [c.email, c.status, c.sendable, c.notSendableReason])).toEqual([
      ['ana@x.com', 'active', false, 'batch_inactive'],
      ['bia@x.com', 'active', false, 'batch_inactive'],
    ]);
    const now = (await json(`/contacts/batches/${current}`)).body.contacts!;
    expect(now.map((c) => [c.email, c.sendable, c.notSendableReason])).toEqual([
      ['cai@x.com', true, null],
      ['a@nomx.test', false, 'no_mail_domain'],
      ['dan@x.com', false, 'unsubscribed'],
    ]);

    // The CSV export: PRODUCT.md's columns first, sendable and the reason at the end.
    const res = await fetch(`${url}/contacts/batches/${old}/export`);
    const lines = (await res.text()).trim().split('\r\n');
    expect(lines[0]).toBe(
      'email,name,company,position,status,source,created_at,validation,sendable,not_sendable_reason,interest',
    );
    expect(lines[1]).toMatch(/^ana@x\.com,,,,active,,[^,]+,,false,batch_inactive,$/);

    await post(`/contacts/batches/${old}/activate`, {});
    expect((await json(`/contacts/batches/${old}`)).body.contacts![0]).toMatchObject({
      sendable: true,
      notSendableReason: null,
    });
  });
});
