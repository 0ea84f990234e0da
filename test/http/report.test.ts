import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import { createMailer } from '../../src/mail/index.js';
import { startTestApp, testClock, uploadCsv } from '../helpers.js';
import { startSink } from '../smtp-sink.js';

let url: string;
let app: Awaited<ReturnType<typeof startTestApp>>['app'];
let stop: () => Promise<void>;
let sink: Awaited<ReturnType<typeof startSink>>;
let mailer: ReturnType<typeof createMailer>;
const clock = testClock(Date.UTC(2026, 1, 2, 15));

beforeEach(async () => {
  sink = await startSink({ reject: (to) => (to === 'gone@acme.com' ? 550 : undefined) });
  mailer = createMailer({ smtpUrl: sink.url, outboxDir: '/nonexistent', log: createLogger('silent') });
  ({ url, app, stop } = await startTestApp(
    { MAIL_FROM: 'Sales <sales@coldbatch.test>', MAIL_POSTAL_ADDRESS: 'Rua Exemplo 1, São Paulo' },
    { mailer, clock, scheduler: false },
  ));
});
afterEach(async () => {
  await stop();
  await sink.close();
});

const getJson = async (path: string) => {
  const res = await fetch(`${url}${path}`);
  return { status: res.status, type: res.headers.get('content-type'), body: (await res.json()) as never };
};

describe('GET /contacts/batches/{id}/report', () => {
  it('answers the report of a batch with its campaign figures and rates', async () => {
    const up = await uploadCsv(url, 'email,name\nana@acme.com,Ana\nbia@acme.com,Bia\ngone@acme.com,Gone\n');
    expect(up.status).toBe(201);
    const batchId = (up.body as { batch: { id: string } }).batch.id;
    const created = await fetch(`${url}/campaigns`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Intro', subject: 'Hi', body: 'Hello', sendAt: 'now' }),
    });
    const campaignId = ((await created.json()) as { campaign: { id: string } }).campaign.id;
    for (let i = 0; i < 10 && (await app.services.campaigns.get(campaignId)).status !== 'completed'; i++) {
      await app.services.sending.runDue();
    }

    const { status, type, body } = await getJson(`/contacts/batches/${batchId}/report`);
    expect(status).toBe(200);
    expect(type).toMatch(/application\/json/);
    const { report } = body as {
      report: {
        batch: { id: string };
        contacts: unknown;
        campaigns: unknown[];
        sendsPerDay: unknown;
        funnel: unknown;
        history: { kind: string }[];
      };
    };
    expect(report.batch.id).toBe(batchId);
    expect(report.contacts).toEqual({
      total: 3,
      byStatus: { active: 2, inactive: 0, replied: 0, bounced: 1, unsubscribed: 0, complained: 0 },
    });
    expect(report.campaigns).toEqual([
      expect.objectContaining({
        id: campaignId,
        name: 'Intro',
        sent: 2,
        bounced: 1,
        attempted: 3,
        rates: { delivery: 0.6667, bounce: 0.3333, failure: 0, unsubscribe: 0, reply: 0, interested: null },
      }),
    ]);
    expect(report.sendsPerDay).toEqual([{ day: '2026-02-02', sent: 2 }]);
    expect(report.funnel).toEqual({
      imported: 3,
      active: 2,
      sent: 2,
      bounced: 1,
      unsubscribed: 0,
      replied: 0,
      complained: 0,
    });
    expect(report.history.map((e) => e.kind)).toEqual(['imported', 'activated']);
  });

  it('404 with the error shape for an unknown batch; 400 for a malformed id', async () => {
    const missing = await getJson('/contacts/batches/batch_00000000_1700000000/report');
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({
      error: {
        code: 'not_found',
        message: 'No batch batch_00000000_1700000000. List batches to see the ids.',
        details: { batchId: 'batch_00000000_1700000000' },
      },
    });
    const long = await getJson(`/contacts/batches/${'x'.repeat(101)}/report`);
    expect(long.status).toBe(400);
    expect(long.body).toMatchObject({ error: { code: 'invalid_input' } });
  });
});
