/**
 * GET /doctor through the real HTTP server: bearer auth like every REST route, the report of
 * PRODUCT §9 resolving through DNS_SERVERS (the test DNS server), the app's own unsubscribe page
 * found at PUBLIC_URL, and `?fresh=` checked.
 */
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startZoneDns } from '../core/deliverability/dns-zone.js';
import type { FakeDns } from '../core/validation/fake-dns.js';
import { startTestApp } from '../helpers.js';

const token = 'doctor-token-0123456789';
let dns: FakeDns;
let t: Awaited<ReturnType<typeof startTestApp>>;

/** A port nobody uses now, so PUBLIC_URL can name the app before it starts. */
const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });

beforeAll(async () => {
  dns = await startZoneDns();
  const port = await freePort();
  t = await startTestApp({
    PORT: String(port),
    API_TOKEN: token,
    HOST: '127.0.0.1',
    DNS_SERVERS: dns.address,
    MAIL_FROM: 'Sales <sales@bad.test>',
    MAIL_POSTAL_ADDRESS: 'Rua Exemplo 100, São Paulo, Brasil',
    PUBLIC_URL: `http://127.0.0.1:${port}`,
  });
});
afterAll(async () => {
  await t.stop();
  await dns.stop();
});

const get = (path: string, auth = true) =>
  fetch(`${t.url}${path}`, auth ? { headers: { authorization: `Bearer ${token}` } } : {});

describe('GET /doctor', () => {
  it('needs the API token', async () => {
    expect((await get('/doctor', false)).status).toBe(401);
  });

  it("gives each From domain's checks and the general ones, with the worst result", async () => {
    const res = await get('/doctor');
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      worst: string;
      domains: {
        domain: string;
        identities: string[];
        checks: { name: string; result: string; detail: string; fix: string | null }[];
      }[];
      general: { name: string; result: string; detail: string }[];
    };
    expect(body.worst).toBe('fail');
    expect(body.domains.map((d) => [d.domain, d.identities])).toEqual([['bad.test', ['MAIL_FROM']]]);
    expect(body.domains[0]?.checks.map((c) => [c.name, c.result])).toEqual([
      ['spf', 'fail'],
      ['dkim', 'warn'],
      ['dmarc', 'fail'],
      ['mx', 'warn'],
    ]);
    expect(body.domains[0]?.checks[0]?.fix).toContain('v=spf1');
    // the app's own unsubscribe page answers at PUBLIC_URL (http: fine for the outbox, said so)
    expect(body.general.map((c) => [c.name, c.result])).toEqual([
      ['public_url', 'warn'],
      ['postal_address', 'pass'],
    ]);
    expect(body.general[0]?.detail).toContain('The unsubscribe page answers at http://127.0.0.1:');
  });

  it('is kept a few minutes; ?fresh=true checks again; a bad fresh is a 400', async () => {
    const first = (await (await get('/doctor')).json()) as { checkedAt: string };
    const queries = dns.queries.length;
    expect(((await (await get('/doctor')).json()) as { checkedAt: string }).checkedAt).toBe(first.checkedAt);
    expect(dns.queries.length).toBe(queries);
    expect((await get('/doctor?fresh=true')).status).toBe(200);
    expect(dns.queries.length).toBeGreaterThan(queries);
    const bad = await get('/doctor?fresh=maybe');
    expect(bad.status).toBe(400);
  });
});
