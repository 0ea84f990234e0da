/**
 * A sending identity's daily cap across instances (issue 18, docs/scale-out.md): two app
 * instances on one Postgres send one campaign through one account capped at 3 a day. The cluster
 * sends exactly 3, the others wait for the next day without spending an attempt, and reaching the
 * cap is not announced as a mail server outage.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { isCampaignEvent } from '../../src/core/events.js';
import type { CampaignEvent } from '../../src/core/sending/send-engine.js';
import { rows } from '../../src/db/pg/client.js';
import { importText, startTestApp } from '../helpers.js';
import { freshPg } from '../pg/pg.js';
import { startSink } from '../smtp-sink.js';

const token = 'api-token-identity-cap-0123456789';
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('a capped sending identity shared by two instances', () => {
  it('sends exactly the cap across both, keeps the rest for tomorrow with no attempt spent, and announces no outage', async () => {
    const pg = await freshPg();
    cleanups.push(pg.drop);
    const sink = await startSink({ delayMs: 5 });
    cleanups.push(sink.close);
    const env = {
      DATABASE_URL: pg.url,
      SMTP_URLS: `${sink.url}#cap=3`,
      MAIL_FROM: 'Sales <sales@cluster.test>',
      MAIL_POSTAL_ADDRESS: 'Rua Exemplo 1, São Paulo',
      PUBLIC_URL: 'https://coldbatch.test',
      VALIDATE_ON_IMPORT: 'false',
      API_TOKEN: token,
    };
    const a = await startTestApp(env, { scheduler: false });
    cleanups.push(a.stop);
    const b = await startTestApp(env, { scheduler: false });
    cleanups.push(b.stop);
    const events: CampaignEvent[] = [];
    for (const t of [a, b])
      t.app.services.events.on((e) => {
        if (isCampaignEvent(e)) events.push(e);
      });

    const csv = ['email,name', ...Array.from({ length: 8 }, (_, i) => `p${i}@cap.test,P${i}`)].join('\n');
    await importText(a.app.services, csv);
    const campaign = await a.app.services.campaigns.create(
      { name: 'Capped', subject: 'Hi {{name}}', body: 'Hello', sendAt: 'now' },
      'U1',
    );

    // Both instances send at once, twice over.
    for (let round = 0; round < 2; round++)
      await Promise.all([a.app.services.sending.runDue(), b.app.services.sending.runDue()]);

    expect(sink.received).toHaveLength(3);
    expect(new Set(sink.received.map((m) => m.to)).size).toBe(3);
    const ledger = await rows<{ status: string; attempts: number; n: number }>(
      pg.db.$client,
      `SELECT status, attempts, count(*)::int AS n FROM sends WHERE campaign_id = $1 GROUP BY 1, 2 ORDER BY 1`,
      [campaign.id],
    );
    const sent = ledger.filter((r) => r.status === 'sent').reduce((n, r) => n + r.n, 0);
    expect(sent).toBe(3);
    // Whoever was claimed past the cap waits without an attempt spent.
    for (const r of ledger.filter((r) => r.status !== 'sent')) {
      expect(r.status).toBe('retry');
      expect(r.attempts).toBe(0);
    }
    const [day] = await rows<{ used: number }>(pg.db.$client, 'SELECT used FROM identity_days');
    expect(day?.used).toBe(3);

    // The cap is not an outage: no notice on the campaign, no mail_unreachable event.
    const c = await b.app.services.campaigns.get(campaign.id);
    expect(c.status).toBe('sending');
    expect(c.statusReason ?? '').not.toMatch(/cannot be reached/);
    expect(events.filter((e) => e.type === 'mail_unreachable')).toHaveLength(0);
    // Both instances show the cluster's count: the cap reached.
    for (const t of [a, b]) {
      const res = await fetch(`${t.url}/healthz`, { headers: { authorization: `Bearer ${token}` } });
      const health = (await res.json()) as { identities?: { sentToday: number; capToday: number }[] };
      expect(health.identities).toEqual([expect.objectContaining({ sentToday: 3, capToday: 3 })]);
    }
  });
});
