/**
 * The domain doctor against a real DNS server on loopback (SPF, DKIM keys made here with
 * node:crypto, DMARC, MX), a real HTTP server for PUBLIC_URL and a real IMAP server for the inbox:
 * each check's pass, warn and fail, a well and a badly configured domain, the kept report.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config.js';
import { DoctorService } from '../../../src/core/deliverability/doctor.js';
import { networkProbes } from '../../../src/core/deliverability/probes.js';
import { doctorSettings } from '../../../src/core/deliverability/settings.js';
import type {
  CheckName,
  DoctorReport,
  DoctorSettings,
  Probes,
} from '../../../src/core/deliverability/types.js';
import { createLogger } from '../../../src/logger.js';
import { testClock } from '../../helpers.js';
import { imapPassword, imapUser, startImapServer } from '../../mail/imap-server.js';
import type { FakeDns } from '../validation/fake-dns.js';
import { keys, startZoneDns } from './dns-zone.js';

let dns: FakeDns;
const clock = testClock(Date.UTC(2026, 0, 15, 12));
const cleanups: (() => unknown)[] = [];
beforeAll(async () => {
  dns = await startZoneDns();
});
afterAll(() => dns.stop());
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** Our unsubscribe page, as an https PUBLIC_URL would give it (the real HTTP cases are below). */
const ourPage: Probes['httpGet'] = async () => ({
  ok: true,
  status: 404,
  contentType: 'text/html; charset=utf-8',
});

type Dkim = { selector?: string; domain?: string };

function settingsFor(env: Record<string, string>, dkim: Dkim = {}): DoctorSettings {
  const config = loadConfig({
    PUBLIC_URL: 'https://coldbatch.test',
    MAIL_POSTAL_ADDRESS: 'Rua Exemplo 100, São Paulo, Brasil',
    DNS_SERVERS: dns.address,
    // without DKIM_PRIVATE_KEY a selector only tells the doctor where the relay's key is
    ...(dkim.selector ? { DKIM_SELECTOR: dkim.selector } : {}),
    ...(dkim.domain ? { DKIM_DOMAIN: dkim.domain } : {}),
    ...env,
  });
  return doctorSettings(config);
}

function doctorOf(settings: DoctorSettings, probes: Partial<Probes> = {}, timeoutMs = 2000): DoctorService {
  const net = networkProbes({ servers: [dns.address], timeoutMs }, 2000);
  return new DoctorService({ log: createLogger('silent'), clock }, settings, {
    ...net,
    httpGet: ourPage,
    ...probes,
  });
}

const doctor = (env: Record<string, string>, dkim: Dkim = {}, probes: Partial<Probes> = {}) =>
  doctorOf(settingsFor(env, dkim), probes);

const checkOf = (r: DoctorReport, domain: string, name: CheckName) => {
  const c = r.domains.find((d) => d.domain === domain)?.checks.find((x) => x.name === name);
  if (!c) throw new Error(`no ${name} check for ${domain}: ${JSON.stringify(r.domains)}`);
  return c;
};

const relay = 'smtp://sales%40good.test:pw@smtp.relay.test:587';

describe('the doctor, whole', () => {
  it('a well-configured domain passes every check, and nothing blocks a start', async () => {
    const d = doctor({ MAIL_FROM: 'Sales <sales@good.test>', SMTP_URL: relay }, { selector: 's1' });
    const r = await d.run();
    expect(r.domains.map((x) => [x.domain, x.identities, x.relays])).toEqual([
      ['good.test', ['MAIL_FROM'], ['smtp.relay.test']],
    ]);
    for (const c of r.domains[0]!.checks) expect([c.name, c.result, c.fix]).toEqual([c.name, 'pass', null]);
    expect(checkOf(r, 'good.test', 'spf').detail).toContain('authorises smtp.relay.test (203.0.113.10)');
    expect(checkOf(r, 'good.test', 'dkim').detail).toContain('a 2048-bit RSA key at s1._domainkey.good.test');
    expect(checkOf(r, 'good.test', 'dmarc').detail).toContain('p=quarantine');
    expect(checkOf(r, 'good.test', 'mx').detail).toContain('mx.good.test');
    expect(r.general.map((c) => [c.name, c.result])).toEqual([
      ['public_url', 'pass'],
      ['postal_address', 'pass'],
    ]);
    expect(r.worst).toBe('pass');
    expect(await d.blocking()).toEqual([]);
  });

  it('a badly configured domain fails SPF and DMARC, warns on DKIM and MX, and says what to do', async () => {
    const d = doctor({ MAIL_FROM: 'x@bad.test', SMTP_URL: 'smtp://u:p@smtp.relay.test' });
    const r = await d.run();
    const spf = checkOf(r, 'bad.test', 'spf');
    expect(spf).toMatchObject({ result: 'fail', detail: expect.stringContaining('no SPF record') });
    expect(spf.fix).toContain('v=spf1 include:');
    const dkim = checkOf(r, 'bad.test', 'dkim');
    expect(dkim.result).toBe('warn');
    expect(dkim.detail).toMatch(/^Cannot check DKIM: no key found \(tried default\._domainkey\.bad\.test, /);
    expect(dkim.fix).toContain('set DKIM_SELECTOR');
    expect(checkOf(r, 'bad.test', 'dmarc')).toMatchObject({
      result: 'fail',
      fix: expect.stringContaining('_dmarc.bad.test: v=DMARC1; p=none'),
    });
    expect(checkOf(r, 'bad.test', 'mx')).toMatchObject({
      result: 'warn',
      detail: expect.stringContaining('no MX'),
    });
    expect(r.worst).toBe('fail');
    expect((await d.blocking()).map((c) => [c.domain, c.name])).toEqual([
      ['bad.test', 'spf'],
      ['bad.test', 'dmarc'],
    ]);
  });

  it('checks each identity: MAIL_FROM through every relay, an SMTP_URLS login on another domain on its own', async () => {
    const r = await doctor({
      MAIL_FROM: 'sales@good.test',
      SMTP_URLS: `${relay},smtp://ops%40bad.test:pw@smtp.elsewhere.test:587`,
    }).run();
    expect(r.domains.map((x) => [x.domain, x.identities.length, x.relays])).toEqual([
      ['good.test', 2, ['smtp.relay.test', 'smtp.elsewhere.test']],
      ['bad.test', 1, ['smtp.elsewhere.test']],
    ]);
    // good.test's SPF lets the first relay send, not the second
    const spf = checkOf(r, 'good.test', 'spf');
    expect(spf.result).toBe('warn');
    expect(spf.detail).toContain('does not authorise smtp.elsewhere.test (198.51.100.77)');
    expect(spf.fix).toContain('ip4:198.51.100.77');
  });
});

describe('SPF', () => {
  it('fails +all, more than 10 lookups and a record that does not parse', async () => {
    const open = await doctor({ MAIL_FROM: 'a@open.test' }).run();
    expect(checkOf(open, 'open.test', 'spf')).toMatchObject({
      result: 'fail',
      detail: expect.stringContaining('authorises every server on the internet'),
      fix: expect.stringContaining('-all'),
    });
    const chain = await doctor({ MAIL_FROM: 'a@chain.test' }).run();
    expect(checkOf(chain, 'chain.test', 'spf').detail).toContain('more than 10 DNS lookups');
    const nop = await doctor({ MAIL_FROM: 'a@nop.test' }).run();
    expect(checkOf(nop, 'nop.test', 'spf')).toMatchObject({
      result: 'fail',
      detail: expect.stringContaining('Unknown mechanism foo'),
    });
  });

  it('without a relay (the outbox) only the record is checked; lookups are counted', async () => {
    const r = await doctor({ MAIL_FROM: 'a@good.test' }, { selector: 's1' }).run();
    expect(checkOf(r, 'good.test', 'spf')).toMatchObject({ result: 'pass' });
    expect(checkOf(r, 'good.test', 'spf').detail).toContain('(0 of 10 DNS lookups)');
    expect(checkOf(r, 'good.test', 'spf').detail).toContain('No SMTP relay is set');
  });

  it("a known provider's relay is judged by its documented include", async () => {
    const gmail = 'smtp://me%40gw.test:app-password@smtp.gmail.com:587';
    const gw = await doctor({ MAIL_FROM: 'me@gw.test', SMTP_URL: gmail }).run();
    expect(checkOf(gw, 'gw.test', 'spf')).toMatchObject({
      result: 'pass',
      detail: expect.stringContaining("includes _spf.google.com, Google Workspace's outbound servers"),
    });
    // no selector set: Google's own (google._domainkey) is tried and found
    expect(checkOf(gw, 'gw.test', 'dkim')).toMatchObject({ result: 'pass' });
    expect(checkOf(gw, 'gw.test', 'dkim').detail).toContain('google._domainkey.gw.test');
    expect(checkOf(gw, 'gw.test', 'dmarc')).toMatchObject({ result: 'pass' });

    const nogw = await doctor({
      MAIL_FROM: 'me@nogw.test',
      SMTP_URL: 'smtp://me%40nogw.test:pw@smtp.gmail.com:587',
    }).run();
    expect(checkOf(nogw, 'nogw.test', 'spf')).toMatchObject({
      result: 'warn',
      fix: expect.stringContaining('include:_spf.google.com'),
    });
    const dkim = checkOf(nogw, 'nogw.test', 'dkim');
    expect(dkim).toMatchObject({
      result: 'warn',
      detail: expect.stringContaining('tried google._domainkey.nogw.test)'),
    });
    expect(dkim.fix).toContain('Google Admin console');
  });

  it('a DNS server that does not answer warns (it cannot tell), it does not fail', async () => {
    const d = doctorOf(settingsFor({ MAIL_FROM: 'a@slow.test' }), {}, 300);
    const r = await d.run();
    expect(checkOf(r, 'slow.test', 'spf')).toMatchObject({
      result: 'warn',
      detail: expect.stringContaining('could not be read'),
    });
    expect(checkOf(r, 'slow.test', 'mx').result).toBe('warn');
  });

  it('when DNS fails here (no probe domain resolves), every domain check warns instead of condemning the domain', async () => {
    const r = await doctor({
      MAIL_FROM: 'x@bad.test',
      VALIDATION_PROBE_DOMAINS: 'nowhere.test,gone.test',
    }).run();
    expect(r.domains[0]?.checks.map((c) => [c.name, c.result])).toEqual([
      ['spf', 'warn'],
      ['dkim', 'warn'],
      ['dmarc', 'warn'],
      ['mx', 'warn'],
    ]);
    expect(r.domains[0]?.checks[0]?.detail).toBe(
      'Not checked: DNS lookups fail on this server (nowhere.test: ENOTFOUND, gone.test: ENOTFOUND), so nothing can be said about bad.test.',
    );
  });
});

describe('DKIM', () => {
  const from = { MAIL_FROM: 'sales@good.test' };
  it('passes 2048 bits, warns under 2048, fails under 1024, a key that does not parse, or none at the selector', async () => {
    const at = async (selector: string) =>
      checkOf(await doctor(from, { selector }).run(), 'good.test', 'dkim');
    expect((await at('s1')).result).toBe('pass');
    expect(await at('short')).toMatchObject({
      result: 'warn',
      detail: expect.stringContaining('a 1024-bit RSA key at short._domainkey.good.test'),
    });
    expect(await at('tiny')).toMatchObject({ result: 'fail', detail: expect.stringContaining('512-bit') });
    expect(await at('broken')).toMatchObject({
      result: 'fail',
      detail: expect.stringContaining('cannot be used'),
    });
    expect(await at('missing')).toMatchObject({
      result: 'fail',
      detail: expect.stringContaining('There is no DKIM key at missing._domainkey.good.test'),
    });
  });

  it('the key coldbatch signs with (DKIM_PRIVATE_KEY) must be the one published', async () => {
    const s = { ...settingsFor(from, { selector: 's1' }) };
    const at = 's1._domainkey.good.test';
    const ours = await doctorOf({ ...s, signingKeys: [{ at, privateKey: keys.private2048 }] }).run();
    expect(checkOf(ours, 'good.test', 'dkim')).toMatchObject({
      result: 'pass',
      detail: expect.stringContaining('It is the public half of DKIM_PRIVATE_KEY'),
    });
    const other = await doctorOf({ ...s, signingKeys: [{ at, privateKey: keys.otherPrivate }] }).run();
    expect(checkOf(other, 'good.test', 'dkim')).toMatchObject({
      result: 'fail',
      detail: expect.stringContaining('is not the public half of DKIM_PRIVATE_KEY'),
    });
  });

  it("an identity's own #dkim= selector and domain are the ones checked", async () => {
    const r = await doctor({
      MAIL_FROM: 'sales@good.test',
      SMTP_URLS: 'smtp://u:p@smtp.relay.test:587#dkim=s1@other.test',
    }).run();
    expect(checkOf(r, 'good.test', 'dkim')).toMatchObject({
      result: 'pass',
      detail: 'Found a 2048-bit RSA key at s1._domainkey.other.test.',
    });
  });
});

describe('DMARC', () => {
  it('warns on p=none, fails without p= or without a record', async () => {
    const open = await doctor({ MAIL_FROM: 'a@open.test' }).run();
    expect(checkOf(open, 'open.test', 'dmarc')).toMatchObject({
      result: 'warn',
      detail: expect.stringContaining('p=none only monitors'),
    });
    const nop = await doctor({ MAIL_FROM: 'a@nop.test' }).run();
    expect(checkOf(nop, 'nop.test', 'dmarc')).toMatchObject({
      result: 'fail',
      detail: expect.stringContaining('has no p= policy'),
    });
  });

  it('fails when the From domain aligns with neither the envelope nor the DKIM domain; one is enough', async () => {
    const env = { MAIL_FROM: 'sales@good.test', MAIL_BOUNCE_ADDRESS: 'bounces@other.test' };
    const neither = await doctor(env, { selector: 's1', domain: 'other.test' }).run();
    expect(checkOf(neither, 'good.test', 'dmarc')).toMatchObject({
      result: 'fail',
      detail: expect.stringContaining(
        'aligns with neither the envelope domain other.test nor the DKIM domain other.test',
      ),
    });
    // SPF is then checked where receivers check it: the envelope domain
    expect(checkOf(neither, 'good.test', 'spf').detail).toContain(
      'other.test (the envelope sender, MAIL_BOUNCE_ADDRESS)',
    );
    const dkimOnly = await doctor(env, { selector: 's1' }).run();
    expect(checkOf(dkimOnly, 'good.test', 'dmarc')).toMatchObject({
      result: 'pass',
      detail: expect.stringContaining('not with the envelope domain other.test'),
    });
  });
});

describe('MX', () => {
  it('fails a null MX and a domain with neither MX nor address', async () => {
    const open = await doctor({ MAIL_FROM: 'a@open.test' }).run();
    expect(checkOf(open, 'open.test', 'mx')).toMatchObject({
      result: 'fail',
      detail: expect.stringContaining('null MX'),
    });
    const none = await doctor({ MAIL_FROM: 'a@nomx.test' }).run();
    expect(checkOf(none, 'nomx.test', 'mx')).toMatchObject({
      result: 'fail',
      detail:
        'nomx.test has no MX record and no address: replies and the unsubscribe mailto (a@nomx.test) bounce.',
    });
  });
});

describe('the general checks', () => {
  async function page(status: number, type = 'text/html; charset=utf-8'): Promise<string> {
    const server: Server = createServer((req, res) => {
      res.writeHead(req.url === '/u/x' ? status : 500, { 'content-type': type }).end('<p>page</p>');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise((resolve) => server.close(resolve)));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }
  const general = async (settings: DoctorSettings) =>
    (
      await doctorOf(settings, {
        httpGet: networkProbes({ servers: [], timeoutMs: 1000 }, 2000).httpGet,
      }).run()
    ).general;

  it('PUBLIC_URL: our page over http is a warn for the outbox, a proxy error a warn, nobody there a warn, http with real mail a fail', async () => {
    const s = settingsFor({ MAIL_FROM: 'a@good.test' });
    const [http] = await general({ ...s, publicUrl: await page(404) });
    expect(http).toMatchObject({
      name: 'public_url',
      result: 'warn',
      detail: expect.stringContaining('over http'),
    });
    const [proxy] = await general({ ...s, publicUrl: await page(502, 'text/plain') });
    expect(proxy).toMatchObject({ result: 'warn', detail: expect.stringContaining('answered 502') });
    const gone = await page(404);
    await cleanups.pop()?.();
    const [closed] = await general({ ...s, publicUrl: gone });
    expect(closed).toMatchObject({ result: 'warn', detail: expect.stringContaining('ECONNREFUSED') });
    const [real] = await general({ ...s, publicUrl: await page(404), realMail: true });
    expect(real).toMatchObject({ result: 'fail', fix: expect.stringContaining('https') });
  });

  it("PUBLIC_URL's host is resolved through DNS_SERVERS too", async () => {
    const s = settingsFor({ MAIL_FROM: 'a@good.test' });
    const port = new URL(await page(404)).port;
    const general = async (publicUrl: string) =>
      (
        await doctorOf(
          { ...s, publicUrl },
          { httpGet: networkProbes({ servers: [dns.address], timeoutMs: 1000 }).httpGet },
        ).run()
      ).general[0];
    expect(await general(`http://unsub.test:${port}`)).toMatchObject({
      result: 'warn',
      detail: `The unsubscribe page answers at http://unsub.test:${port}, but over http: fine for the outbox, not for real mail.`,
    });
    expect((await general('https://nowhere.test'))?.detail).toContain(
      'could not be reached (getaddrinfo ENOTFOUND nowhere.test)',
    );
  });

  it('MAIL_POSTAL_ADDRESS missing fails', async () => {
    const s = settingsFor({ MAIL_FROM: 'a@good.test' });
    const [, postal] = (await doctorOf({ ...s, postalAddress: undefined }).run()).general;
    expect(postal).toMatchObject({
      name: 'postal_address',
      result: 'fail',
      fix: 'Set MAIL_POSTAL_ADDRESS to your company postal address.',
    });
  });

  it('INBOX_URL: a login that works passes, a wrong password fails (a real IMAP server)', async () => {
    const imap = await startImapServer();
    cleanups.push(() => imap.kill());
    const url = (pass: string) =>
      `imap://${encodeURIComponent(imapUser)}:${encodeURIComponent(pass)}@127.0.0.1:${imap.port}/INBOX`;
    const ok = await doctor({ MAIL_FROM: 'a@good.test', INBOX_URL: url(imapPassword) }).run();
    expect(ok.general.find((c) => c.name === 'inbox')).toMatchObject({ result: 'pass' });
    const bad = await doctor({ MAIL_FROM: 'a@good.test', INBOX_URL: url('wrong-password') }).run();
    const inbox = bad.general.find((c) => c.name === 'inbox');
    expect(inbox).toMatchObject({ result: 'fail', detail: expect.stringContaining('cannot log in') });
    expect(JSON.stringify(bad)).not.toContain('wrong-password');
  });
});

describe('the kept report', () => {
  it('is reused for a few minutes without a DNS query; fresh or later checks again', async () => {
    const d = doctor({ MAIL_FROM: 'sales@good.test' }, { selector: 's1' });
    const first = await d.run();
    const queries = dns.queries.length;
    expect(await d.run()).toBe(first);
    expect(await d.blocking()).toEqual([]);
    expect(dns.queries.length).toBe(queries);
    const fresh = await d.run({ fresh: true });
    expect(fresh).not.toBe(first);
    expect(dns.queries.length).toBeGreaterThan(queries);
    clock.advance(5 * 60_000);
    expect(await d.run()).not.toBe(fresh);
  });
});

describe('DNS_SERVERS', () => {
  it('is what validation and the doctor resolve through; VALIDATION_DNS_SERVERS is its old name', () => {
    const servers = (env: Record<string, string>) => loadConfig(env).validation.dnsServers;
    expect(servers({ DNS_SERVERS: '127.0.0.1:5353', VALIDATION_DNS_SERVERS: '1.1.1.1' })).toEqual([
      '127.0.0.1:5353',
    ]);
    expect(servers({ VALIDATION_DNS_SERVERS: '1.1.1.1,9.9.9.9' })).toEqual(['1.1.1.1', '9.9.9.9']);
    expect(servers({})).toEqual([]);
    expect(() => loadConfig({ DNS_SERVERS: 'dns.google' })).toThrow(
      /DNS_SERVERS must be comma-separated IP addresses/,
    );
  });
});
