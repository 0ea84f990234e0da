import { createHmac, timingSafeEqual } from 'node:crypto';
import { rmSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { buildApp } from '../../../src/app.js';
import { MailError, type Mailer } from '../../../src/mail/mailer.js';
import { signUnsubscribeToken } from '../../../src/mail/unsubscribe-token.js';
import { importText, memoryLog, testClock, testConfig, testCore, waitFor } from '../../helpers.js';

const secret = 'webhook-secret-0123456789';
const unsubscribeSecret = 'unsubscribe-secret-0123456789';

type Hit = {
  headers: IncomingHttpHeaders;
  raw: string;
  body: { id: string; type: string; createdAt: string; data: Record<string, unknown> };
};

/** A CRM on loopback: records every POST and answers with what `answer` says (a status, or 'hang': never). */
async function receiver(answer: (n: number) => number | 'hang' = () => 200) {
  const hits: Hit[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      hits.push({ headers: req.headers, raw, body: JSON.parse(raw) as Hit['body'] });
      const a = answer(hits.length);
      if (a === 'hang') return;
      res.statusCode = a;
      res.end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks/coldbatch`,
    hits,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/**
 * What a receiver does (the README's recipe): read t and v1 from X-Coldbatch-Signature, refuse a t
 * more than 5 minutes from its own clock (a replay), compute HMAC-SHA256 of "<t>.<raw body>" with
 * the shared secret and compare it with v1 in constant time.
 */
function verifySignature(
  headers: IncomingHttpHeaders,
  raw: string,
  nowMs: number,
  key = secret,
): 'ok' | 'bad_signature' | 'too_old' {
  const header = String(headers['x-coldbatch-signature'] ?? '');
  const parts = new Map(
    header.split(',').map((p) => [p.slice(0, p.indexOf('=')), p.slice(p.indexOf('=') + 1)]),
  );
  const t = Number(parts.get('t'));
  const got = Buffer.from(parts.get('v1') ?? '', 'hex');
  const want = createHmac('sha256', key)
    .update(`${parts.get('t')}.${raw}`)
    .digest();
  if (!Number.isInteger(t) || got.length !== want.length || !timingSafeEqual(got, want))
    return 'bad_signature';
  return Math.abs(nowMs / 1000 - t) > 300 ? 'too_old' : 'ok';
}
const validSignature = (h: Hit, nowMs = Date.now()) => verifySignature(h.headers, h.raw, nowMs) === 'ok';

/** Accepts every message except to bounce@x.com, which gets a 550. */
const mailer: Mailer = {
  kind: 'outbox',
  send: async (m) => {
    if (m.to === 'bounce@x.com') throw new MailError('permanent', 550, '550 5.1.1 mailbox unavailable');
    return { messageId: `<${m.ref}@test>`, response: '250 ok' };
  },
  verify: async () => true,
  close: async () => {},
};

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(answer?: (n: number) => number | 'hang', env: Record<string, string> = {}) {
  const crm = await receiver(answer);
  const clock = testClock();
  const core = testCore({
    clock,
    mailer,
    env: { WEBHOOK_URLS: crm.url, WEBHOOK_SECRET: secret, UNSUBSCRIBE_SECRET: unsubscribeSecret, ...env },
  });
  cleanups.push(crm.close, () => core.services.webhooks.stop(), core.cleanup);
  return { crm, clock, s: core.services, db: core.db };
}

const rows = async (s: ReturnType<typeof testCore>['services']) => (await s.webhooks.list()).deliveries;

describe('outgoing webhooks', () => {
  it('delivers each event type once, signed, with its data', async () => {
    const { crm, s, db, clock } = await setup();
    const first = await importText(s, 'email,name\nana@x.com,Ana\nbounce@x.com,Bo\n', { fileName: 'a.csv' });
    const second = await importText(s, 'email\ncai@x.com\n', { fileName: 'b.csv', activate: false });
    if (first.kind !== 'imported' || second.kind !== 'imported') throw new Error('import failed');
    await s.batches.activate(first.batch.id, 'UADMIN'); // already active: no event
    await s.batches.activate(second.batch.id, 'UADMIN');
    await s.batches.activate(first.batch.id, 'UADMIN');
    const c = await s.campaigns.create(
      { name: 'Intro', subject: 'Hi', body: 'Hello', sendAt: 'now' },
      'UADMIN',
    );
    await s.sending.runDue();
    expect((await s.campaigns.get(c.id)).status).toBe('completed');
    const send = db.$client
      .prepare<[string], { id: number }>(`SELECT id FROM sends WHERE status = 'sent' AND campaign_id = ?`)
      .get(c.id)!;
    expect(await s.unsubscribe.unsubscribe(signUnsubscribeToken(send.id, unsubscribeSecret))).toBe(true);
    expect(await s.unsubscribe.unsubscribe(signUnsubscribeToken(send.id, unsubscribeSecret))).toBe(true); // twice: one event

    await waitFor(async () => {
      const all = await rows(s);
      return all.length === 8 && all.every((r) => r.state === 'delivered');
    });
    await s.webhooks.deliverDue();
    expect(crm.hits).toHaveLength(8);
    expect(crm.hits.every((h) => validSignature(h, clock.now()))).toBe(true);
    expect(new Set(crm.hits.map((h) => h.body.id)).size).toBe(8);
    for (const h of crm.hits) {
      expect(h.headers['x-coldbatch-event']).toBe(h.body.type);
      expect(h.headers['content-type']).toBe('application/json');
    }
    const byType = (t: string) => crm.hits.filter((h) => h.body.type === t).map((h) => h.body.data);
    expect(byType('batch.imported')).toEqual([
      expect.objectContaining({ batchId: first.batch.id, name: 'a.csv', imported: 2, activated: true }),
      expect.objectContaining({ batchId: second.batch.id, name: 'b.csv', imported: 1, activated: false }),
    ]);
    expect(byType('batch.activated')).toEqual([
      expect.objectContaining({ batchId: first.batch.id, previousBatchId: null }),
      expect.objectContaining({ batchId: second.batch.id, previousBatchId: first.batch.id }),
      expect.objectContaining({ batchId: first.batch.id, previousBatchId: second.batch.id }),
    ]);
    expect(byType('contact.bounced')).toEqual([
      expect.objectContaining({
        email: 'bounce@x.com',
        campaignId: c.id,
        smtpResponse: expect.stringContaining('550'),
      }),
    ]);
    expect(byType('contact.unsubscribed')).toEqual([
      expect.objectContaining({ email: 'ana@x.com', campaignId: c.id }),
    ]);
    expect(byType('campaign.completed')).toEqual([
      expect.objectContaining({ campaignId: c.id, name: 'Intro', sent: 1, bounced: 1, failed: 0 }),
    ]);
    // A tampered body fails the check a receiver makes.
    const h = crm.hits[0]!;
    expect(validSignature({ ...h, raw: h.raw.replace('"id"', '"Id"') }, clock.now())).toBe(false);
    // The same delivery replayed ten minutes later is refused, and so is one with a forged time.
    expect(verifySignature(h.headers, h.raw, clock.now() + 600_000)).toBe('too_old');
    const forged = String(h.headers['x-coldbatch-signature']).replace(
      /^t=\d+/,
      `t=${Math.floor(clock.now() / 1000) + 600}`,
    );
    expect(
      verifySignature({ ...h.headers, 'x-coldbatch-signature': forged }, h.raw, clock.now() + 600_000),
    ).toBe('bad_signature');
    expect(h.headers['x-coldbatch-signature']).toMatch(
      new RegExp(`^t=${Math.floor(clock.now() / 1000)},v1=[0-9a-f]{64}$`),
    );
  });

  it('a receiver answering 500 is retried with backoff until it answers 200; the log shows each state', async () => {
    const { crm, clock, s } = await setup((n) => (n === 1 ? 500 : 200));
    await importText(s, 'email\nana@x.com\n', { activate: false });
    await waitFor(async () => (await rows(s))[0]?.attempts === 1);
    expect((await rows(s))[0]).toMatchObject({
      event: 'batch.imported',
      state: 'pending',
      lastStatus: 500,
      lastError: 'HTTP 500',
      nextAttemptAt: new Date(clock.now() + 30_000).toISOString(),
    });
    clock.advance(29_000);
    await s.webhooks.deliverDue();
    expect(crm.hits).toHaveLength(1);
    clock.advance(1_000);
    await s.webhooks.deliverDue();
    expect(crm.hits).toHaveLength(2);
    expect((await rows(s))[0]).toMatchObject({
      state: 'delivered',
      attempts: 2,
      lastStatus: 200,
      lastError: null,
    });
    expect(crm.hits[0]!.raw).toBe(crm.hits[1]!.raw); // the same event, the same body
    expect((await s.webhooks.list({ state: 'delivered' })).deliveries).toHaveLength(1);
    expect((await s.webhooks.list({ state: 'pending' })).deliveries).toHaveLength(0);
  });

  it('backs off 30 s, 2 min, 10 min, 1 h, 6 h, then gives up as failed', async () => {
    const { crm, clock, s } = await setup(() => 503);
    await importText(s, 'email\nana@x.com\n', { activate: false });
    await waitFor(async () => (await rows(s))[0]?.attempts === 1);
    for (const [i, delay] of [30_000, 120_000, 600_000, 3_600_000, 21_600_000].entries()) {
      clock.advance(delay - 1);
      await s.webhooks.deliverDue();
      expect(crm.hits).toHaveLength(i + 1);
      clock.advance(1);
      await s.webhooks.deliverDue();
      expect(crm.hits).toHaveLength(i + 2);
    }
    expect((await rows(s))[0]).toMatchObject({
      state: 'failed',
      attempts: 6,
      lastStatus: 503,
      nextAttemptAt: null,
    });
    clock.advance(86_400_000);
    await s.webhooks.deliverDue();
    expect(crm.hits).toHaveLength(6);
    expect((await s.webhooks.list({ state: 'failed' })).deliveries).toHaveLength(1);
  });

  it('a receiver that never answers times out and the delivery is retried', async () => {
    const { crm, clock, s } = await setup((n) => (n === 1 ? 'hang' : 200), { WEBHOOK_TIMEOUT: '300ms' });
    await importText(s, 'email\nana@x.com\n', { activate: false });
    await waitFor(async () => (await rows(s))[0]?.attempts === 1);
    expect((await rows(s))[0]).toMatchObject({
      state: 'pending',
      lastStatus: null,
      lastError: 'no answer within 300 ms',
    });
    clock.advance(30_000);
    await s.webhooks.deliverDue();
    expect((await rows(s))[0]).toMatchObject({ state: 'delivered', attempts: 2 });
    expect(crm.hits).toHaveLength(2);
  });

  it('nothing is lost when the app stops between the commit and the delivery: the next start delivers it', async () => {
    const crm = await receiver();
    cleanups.push(crm.close);
    const env = { WEBHOOK_URLS: crm.url, WEBHOOK_SECRET: secret, MAIL_POSTAL_ADDRESS: 'Rua Exemplo 1' };
    const config = testConfig(env);
    cleanups.push(() => rmSync(config.dir, { recursive: true, force: true }));
    const first = buildApp(config, { scheduler: false });
    await first.services.webhooks.stop(); // the dispatcher is gone, as in a crash right after the commit
    await importText(first.services, 'email\nana@x.com\n');
    expect((await first.services.webhooks.list({ state: 'pending' })).deliveries.map((d) => d.event)).toEqual(
      ['batch.activated', 'batch.imported'],
    );
    first.db.$client.close();
    expect(crm.hits).toHaveLength(0);

    const second = buildApp(config, { scheduler: false });
    const { port } = await second.start();
    cleanups.push(() => second.stop());
    await waitFor(() => crm.hits.length === 2);
    expect(crm.hits.map((h) => h.body.type).sort()).toEqual(['batch.activated', 'batch.imported']);
    expect(crm.hits.every((h) => validSignature(h))).toBe(true);
    const log = await fetch(`http://127.0.0.1:${port}/webhooks/deliveries?state=delivered`);
    expect(log.status).toBe(200);
    const body = (await log.json()) as { deliveries: { event: string; state: string; attempts: number }[] };
    expect(body.deliveries).toHaveLength(2);
    expect(body.deliveries.every((d) => d.state === 'delivered' && d.attempts === 1)).toBe(true);
    const bad = await fetch(`http://127.0.0.1:${port}/webhooks/deliveries?state=lost`);
    expect(bad.status).toBe(400);
  });

  it('a URL with credentials is delivered with a Basic header; the password is never shown (log, list, errors)', async () => {
    const crm = await receiver((n) => (n === 1 ? 503 : 200));
    cleanups.push(crm.close);
    const withCreds = crm.url.replace('http://', 'http://crm%20user:s3cr%40t-pass@');
    const closed = await receiver();
    await closed.close(); // a port nothing listens on any more
    const deadUrl = closed.url.replace('/hooks/coldbatch', '/never');
    const dead = deadUrl.replace('http://', 'http://hookuser:dead-pass-123@');
    const log = memoryLog();
    const clock = testClock();
    const config = testConfig({
      WEBHOOK_URLS: `${withCreds},${dead}`,
      WEBHOOK_SECRET: secret,
      LOG_LEVEL: 'debug',
    });
    cleanups.push(() => rmSync(config.dir, { recursive: true, force: true }));
    const app = buildApp(config, { scheduler: false, clock, logDestination: log.stream });
    const { port } = await app.start();
    cleanups.push(() => app.stop());
    await importText(app.services, 'email\nana@x.com\n', { activate: false });
    await waitFor(async () => {
      const all = (await app.services.webhooks.list()).deliveries;
      return all.length === 2 && all.every((d) => d.attempts === 1);
    });
    clock.advance(30_000);
    await app.services.webhooks.deliverDue();

    expect(crm.hits).toHaveLength(2);
    for (const h of crm.hits) {
      expect(h.headers.authorization).toBe(`Basic ${Buffer.from('crm user:s3cr@t-pass').toString('base64')}`);
      expect(validSignature(h, clock.now())).toBe(true);
    }
    const res = await fetch(`http://127.0.0.1:${port}/webhooks/deliveries`);
    const text = await res.text();
    const listed = (
      JSON.parse(text) as { deliveries: { url: string; state: string; lastError: string | null }[] }
    ).deliveries;
    expect(listed.map((d) => d.url).sort()).toEqual([crm.url, deadUrl].sort());
    expect(listed.find((d) => d.url === crm.url)?.state).toBe('delivered');
    expect(listed.find((d) => d.url !== crm.url)?.lastError).toMatch(/ECONNREFUSED|connect/);
    const everything = `${text}\n${JSON.stringify(log.lines())}\n${JSON.stringify(
      app.db.$client.prepare('SELECT url, last_error FROM webhook_deliveries').all(),
    )}`;
    for (const secretPart of ['s3cr', 'dead-pass-123', 'hookuser', 'crm%20user', 'crm user']) {
      expect(everything).not.toContain(secretPart);
    }
  });

  it('a delivery row from before this change (credentials in its URL and error) is listed without them and still delivered', async () => {
    const crm = await receiver();
    const { s, db, clock } = await setup(undefined, { WEBHOOK_URLS: 'https://crm.example/other' });
    cleanups.push(crm.close);
    const old = crm.url.replace('http://', 'http://olduser:old-pass-456@');
    db.$client
      .prepare(
        `INSERT INTO webhook_deliveries (event, url, payload, state, attempts, next_attempt_at, last_error, created_at)
         VALUES ('batch.imported', ?, '{"id":"evt_1"}', 'pending', 1, ?, ?, ?)`,
      )
      .run(
        old,
        clock.now(),
        `Request cannot be constructed from a URL that includes credentials: ${old}`,
        clock.now(),
      );
    const listed = JSON.stringify(await s.webhooks.list());
    expect(listed).not.toContain('old-pass-456');
    expect(listed).not.toContain('olduser');
    await s.webhooks.deliverDue();
    expect(crm.hits).toHaveLength(1);
    expect(crm.hits[0]!.headers.authorization).toBe(
      `Basic ${Buffer.from('olduser:old-pass-456').toString('base64')}`,
    );
    expect((await rows(s))[0]).toMatchObject({ state: 'delivered', url: crm.url });
  });

  it('WEBHOOK_URLS needs WEBHOOK_SECRET and http(s) URLs', () => {
    expect(() => testConfig({ WEBHOOK_URLS: 'https://crm.example/hook' })).toThrow(/WEBHOOK_SECRET/);
    // A refused value is not repeated: it may hold a password.
    expect(() =>
      testConfig({ WEBHOOK_URLS: 'ftp://u:hidden-pass@crm.example/hook', WEBHOOK_SECRET: secret }),
    ).toThrow(/^(?!.*hidden-pass)/s);
    expect(() => testConfig({ WEBHOOK_URLS: 'ftp://crm.example/hook', WEBHOOK_SECRET: secret })).toThrow(
      /WEBHOOK_URLS/,
    );
  });
});
