/**
 * REST with what the mailbox found: GET /campaigns/{id} counts and rates (counted in the app's
 * worker thread), the contact object's interest and suppression, PUT /contacts/{id}/status back to
 * active, GET /contacts/why, the batch report (its worker thread) and the batch export.
 */
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startTestApp, tempDir, testClock, uploadCsv } from '../helpers.js';

let url: string;
let app: Awaited<ReturnType<typeof startTestApp>>['app'];
let stop: () => Promise<void>;
let dir: ReturnType<typeof tempDir>;
const clock = testClock(Date.UTC(2026, 1, 5, 10));

type Json = Record<string, unknown>;
const getJson = async (path: string) => {
  const res = await fetch(`${url}${path}`);
  return { status: res.status, body: (await res.json()) as Json };
};
const send = async (method: string, path: string, body: unknown) => {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Json };
};

let batchId: string;
let campaignId: string;

beforeEach(async () => {
  dir = tempDir();
  ({ url, app, stop } = await startTestApp(
    {
      MAIL_FROM: 'Sales <sales@coldbatch.test>',
      MAIL_POSTAL_ADDRESS: 'Rua Exemplo 1, São Paulo',
      MAIL_OUTBOX_DIR: join(dir.dir, 'outbox'),
    },
    { clock, scheduler: false },
  ));
  const up = await uploadCsv(url, 'email,name\nana@x.com,Ana\nbia@x.com,Bia\ndan@x.com,Dan\neva@x.com,Eva\n');
  batchId = (up.body as { batch: { id: string } }).batch.id;
  const created = await send('POST', '/campaigns', {
    name: 'Intro',
    subject: 'Hi',
    body: 'Hello',
    sendAt: 'now',
  });
  campaignId = (created.body.campaign as { id: string }).id;
  for (let i = 0; i < 10 && (await app.services.campaigns.get(campaignId)).status !== 'completed'; i++)
    await app.services.sending.runDue();

  // What the mailbox store writes: the ledger marks, the statuses (through the contact store), the interest.
  const sql = app.db.$client;
  const idOf = (email: string) =>
    sql.prepare<[string], { id: number }>('SELECT id FROM contacts WHERE email = ?').get(email)!.id;
  const mark = (email: string, column: string) =>
    sql.prepare(`UPDATE sends SET ${column} = ? WHERE contact_id = ?`).run(clock.now(), idOf(email));
  mark('ana@x.com', 'replied_at');
  mark('bia@x.com', 'replied_at');
  mark('dan@x.com', 'complained_at');
  mark('eva@x.com', 'soft_bounced_at');
  await app.services.contacts.setStatus(idOf('ana@x.com'), 'replied', 'system');
  await app.services.contacts.setStatus(idOf('bia@x.com'), 'replied', 'system');
  await app.services.contacts.setStatus(idOf('dan@x.com'), 'complained', 'system');
  sql.prepare("UPDATE contacts SET interest = 'interested' WHERE email = 'ana@x.com'").run();
  sql.prepare("UPDATE contacts SET interest = 'not_interested' WHERE email = 'bia@x.com'").run();
});
afterEach(async () => {
  await stop();
  dir.cleanup();
});

const contactsOf = async (q = '') =>
  ((await getJson(`/contacts/batches/${batchId}${q}`)).body.contacts as Json[]).reduce<Record<string, Json>>(
    (all, c) => Object.assign(all, { [String(c.email)]: c }),
    {},
  );

describe('REST figures and contacts with what the mailbox found', () => {
  it('GET /campaigns/{id} has replied, complained, softBounced, interested and the rates', async () => {
    const { status, body } = await getJson(`/campaigns/${campaignId}`);
    expect(status).toBe(200);
    expect(body.campaign).toMatchObject({
      counts: { total: 4, sent: 4, replied: 2, complained: 1, softBounced: 1, interested: 1 },
      // reply = 2 / 4 sent; interested = 1 / 2 replied
      rates: { reply: 0.5, interested: 0.5 },
    });

    // The per-recipient results say who replied, complained, soft-bounced, and the interest.
    const csv = await (await fetch(`${url}/campaigns/${campaignId}/export`)).text();
    const lines = csv.trim().split('\r\n');
    expect(lines[0]).toBe(
      'email,name,status,attempts,message_id,sent_at,unsubscribed_at,response,replied_at,complained_at,soft_bounced_at,interest',
    );
    const at = new Date(clock.now()).toISOString();
    expect(lines.find((l) => l.startsWith('ana@x.com,'))?.endsWith(`,${at},,,interested`)).toBe(true);
    expect(lines.find((l) => l.startsWith('dan@x.com,'))?.endsWith(`,,${at},,`)).toBe(true);
    expect(lines.find((l) => l.startsWith('eva@x.com,'))?.endsWith(`,,,${at},`)).toBe(true);
  });

  it('contacts carry interest and suppression; replied and complained read as the reason', async () => {
    const all = await contactsOf();
    expect(all['ana@x.com']).toMatchObject({
      status: 'replied',
      interest: 'interested',
      sendable: false,
      notSendableReason: 'replied',
      suppression: null,
    });
    expect(all['dan@x.com']).toMatchObject({
      status: 'complained',
      notSendableReason: 'complained',
      suppression: { reason: 'complained', actor: 'system', at: new Date(clock.now()).toISOString() },
    });
    expect(Object.keys(await contactsOf('?status=replied')).sort()).toEqual(['ana@x.com', 'bia@x.com']);

    const csv = await (await fetch(`${url}/contacts/batches/${batchId}/export`)).text();
    const lines = csv.trim().split('\r\n');
    expect(lines[0]?.endsWith(',sendable,not_sendable_reason,interest')).toBe(true);
    expect(lines.find((l) => l.startsWith('ana@x.com,'))).toMatch(/,false,replied,interested$/);
    expect(lines.find((l) => l.startsWith('dan@x.com,'))).toMatch(/,false,complained,$/);
  });

  it('PUT status active: a replied contact is mailable again; a complained one stays suppressed, and the answer says so', async () => {
    const all = await contactsOf();
    const ana = await send('PUT', `/contacts/${all['ana@x.com']!.id}/status`, {
      status: 'active',
      reason: 'called back',
    });
    expect(ana.status).toBe(200);
    expect(ana.body.contact).toMatchObject({
      status: 'active',
      interest: 'interested',
      sendable: true,
      suppression: null,
    });

    const dan = await send('PUT', `/contacts/${all['dan@x.com']!.id}/status`, { status: 'active' });
    expect(dan.status).toBe(200);
    expect(dan.body.contact).toMatchObject({
      status: 'active',
      sendable: false,
      notSendableReason: 'suppressed',
      suppression: { reason: 'complained' },
    });
    const history = await app.services.contacts.history(Number(all['dan@x.com']!.id));
    expect(history.at(-1)).toMatchObject({ from: 'complained', to: 'active', actor: 'api' });

    // A bounced address is still refused.
    await app.services.contacts.setStatus(Number(all['eva@x.com']!.id), 'bounced', 'system', '550');
    const eva = await send('PUT', `/contacts/${all['eva@x.com']!.id}/status`, { status: 'active' });
    expect(eva.status).toBe(409);
    expect(eva.body).toMatchObject({ error: { code: 'suppressed', details: { reason: 'bounced' } } });
  });

  it('GET /contacts/why shows the interest and whether and why the address is suppressed', async () => {
    const ana = await getJson('/contacts/why?email=ana@x.com');
    expect(ana.body).toMatchObject({
      contact: { status: 'replied', interest: 'interested' },
      suppression: null,
    });
    expect((ana.body.campaigns as Json[])[0]).toMatchObject({
      mailed: true,
      repliedAt: new Date(clock.now()).toISOString(),
    });
    const dan = await getJson('/contacts/why?email=dan@x.com');
    expect(dan.body).toMatchObject({
      contact: { interest: null },
      suppression: { reason: 'complained', actor: 'system' },
    });
  });

  it('the batch report (counted in its worker thread) has the reply and interested rates with their counts', async () => {
    const { status, body } = await getJson(`/contacts/batches/${batchId}/report`);
    expect(status).toBe(200);
    const report = body.report as { campaigns: Json[]; totals: Json; contacts: Json };
    const figures = {
      sent: 4,
      replied: 2,
      complained: 1,
      softBounced: 1,
      interested: 1,
      rates: expect.objectContaining({ reply: 0.5, interested: 0.5 }),
    };
    expect(report.campaigns[0]).toMatchObject({ id: campaignId, ...figures });
    expect(report.totals).toMatchObject(figures);
    expect(report.contacts).toMatchObject({ byStatus: { replied: 2, complained: 1, active: 1 } });
  });
});
