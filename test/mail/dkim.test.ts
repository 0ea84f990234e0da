import { generateKeyPairSync } from 'node:crypto';
import { Resolver } from 'node:dns/promises';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dkimVerify } from 'mailauth';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type App, buildApp } from '../../src/app.js';
import { type Config, loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { type DkimKey, signMessage } from '../../src/mail/dkim.js';
import { MailError, type OutgoingMessage } from '../../src/mail/mailer.js';
import { createSmtpMailer } from '../../src/mail/smtp.js';
import { createThreadMailer } from '../../src/mail/smtp-thread.js';
import { FakeDns } from '../core/validation/fake-dns.js';
import { startRawSmtp } from '../faults/raw-smtp.js';
import { importText, tempDir, testClock, testConfig } from '../helpers.js';
import { startSink } from '../smtp-sink.js';

const log = createLogger('silent');
const rsa = (bits: number) =>
  generateKeyPairSync('rsa', {
    modulusLength: bits,
    publicKeyEncoding: { type: 'spki', format: 'der' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
const main = rsa(2048);
const other = rsa(1024);
/** The DKIM key record (RFC 6376 §3.6.1) of a public key. */
const record = (spki: Buffer) => `v=DKIM1; k=rsa; p=${spki.toString('base64')}`;

const zones: Record<string, string[]> = {
  's1._domainkey.acme.test': [record(main.publicKey)],
  's2._domainkey.acme.test': [record(other.publicKey)],
  'k1._domainkey.beta.test': [record(main.publicKey)],
};
const dns = new FakeDns((name) => (zones[name] ? { txt: zones[name] } : undefined));
let resolver: Resolver;

/** mailauth's DNS lookups, answered by the local DNS server. */
const resolve = (name: string, rr: string) => resolver.resolve(name, rr) as Promise<string[][] | string[]>;
const verify = async (raw: string) => (await dkimVerify(raw, { resolver: resolve })).results;

const key: DkimKey = { domainName: 'acme.test', keySelector: 's1', privateKey: main.privateKey };
const message = (to: string, over: Partial<OutgoingMessage> = {}): OutgoingMessage => ({
  from: 'Ana Silva <ana@acme.test>',
  to,
  subject: 'Olá, uma pergunta rápida',
  text: 'Hello there,\n\nA short question about your team.\n\n— Ana\n\nUnsubscribe: https://coldbatch.test/u/abc',
  html: '<p>Hello there,</p><p>A short question about your team.</p>',
  headers: {
    'List-Unsubscribe': '<https://coldbatch.test/u/abc>, <mailto:ana@acme.test?subject=unsubscribe>',
    'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
  },
  messageId: '<cb.1.abc@acme.test>',
  envelope: { from: 'bounces+cb.1.abc@acme.test', to },
  ref: 'r1',
  ...over,
});

const closers: (() => Promise<void>)[] = [];
async function sink() {
  const s = await startSink();
  closers.push(s.close);
  return s;
}

beforeAll(async () => {
  await dns.start();
  resolver = new Resolver({ timeout: 2000, tries: 1 });
  resolver.setServers([dns.address]);
});
afterAll(() => dns.stop());
afterEach(async () => {
  // mailers first: a sink closes once its clients have gone
  for (const close of closers.splice(0).reverse()) await close();
});

describe('DKIM signing (SMTP transport)', () => {
  it('signs a message that verifies with mailauth against the key in DNS; a tampered body or header fails', async () => {
    const s = await sink();
    const mailer = createSmtpMailer({ url: s.url, log, dkim: key });
    closers.push(() => mailer.close());
    const info = await mailer.send(message('bob@example.org'));
    expect(info.messageId).toBe('<cb.1.abc@acme.test>');
    const got = s.received[0]!;
    expect(got.from).toBe('bounces+cb.1.abc@acme.test'); // the VERP envelope survives signing
    expect(got.headers['message-id']).toBe('<cb.1.abc@acme.test>');

    const [ok] = await verify(got.raw);
    expect(ok?.status.result).toBe('pass');
    expect(ok?.signingDomain).toBe('acme.test');
    expect(ok?.selector).toBe('s1');
    // what the signature covers (PRODUCT §9)
    const signed = /\bh=([^;]+)/.exec(got.headers['dkim-signature'] ?? '')?.[1]?.replace(/\s+/g, '') ?? '';
    for (const h of [
      'from',
      'to',
      'subject',
      'date',
      'message-id',
      'list-unsubscribe',
      'list-unsubscribe-post',
    ])
      expect(signed.toLowerCase().split(':')).toContain(h);

    const tamperedBody = got.raw.replace('A short question', 'A short questiom');
    expect(tamperedBody).not.toBe(got.raw);
    const [bad] = await verify(tamperedBody);
    expect(bad?.status.result).not.toBe('pass');
    expect(bad?.status.result).toBe('neutral'); // mailauth: "body hash did not verify"
    const tamperedSubject = got.raw.replace(/^Subject: .*$/m, 'Subject: =?UTF-8?Q?Something_else?=');
    expect((await verify(tamperedSubject))[0]?.status.result).toBe('fail');
  });

  it('signs through the SMTP worker thread (as the app sends) and with a second key and domain', async () => {
    const s = await sink();
    const mailer = createThreadMailer({
      url: s.url,
      log,
      dkim: { domainName: 'beta.test', keySelector: 'k1', privateKey: main.privateKey },
    });
    closers.push(() => mailer.close());
    await mailer.send(message('carla@example.org', { from: 'Bia <bia@beta.test>', envelope: undefined }));
    const [r] = await verify(s.received[0]!.raw);
    expect(r?.status.result).toBe('pass');
    expect(r?.signingDomain).toBe('beta.test');
  });

  it('a message that cannot be signed is not sent: MailError unreachable (held, no attempt spent), nothing reaches the server', async () => {
    const s = await sink();
    const mailer = createSmtpMailer({ url: s.url, log, dkim: { ...key, privateKey: 'not a key at all' } });
    closers.push(() => mailer.close());
    const e = await mailer.send(message('bob@example.org')).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(MailError);
    expect(e).toMatchObject({ kind: 'transient', unreachable: true });
    expect((e as MailError).response).toMatch(/^DKIM signing failed .*not sent/);
    expect(s.received).toHaveLength(0);
    // the same mailer without the broken key would have delivered: the server was there
    expect(await mailer.verify()).toBe(true);
  });

  it('signing keeps the failure kinds: a drop before the message is transient (retried), after its final "." unknown (never re-sent)', async () => {
    const kinds: Record<string, string> = {};
    for (const stage of ['rcpt', 'data', 'dot'] as const) {
      const server = await startRawSmtp({ fault: (at) => (at === stage ? 'drop' : undefined) });
      closers.push(() => server.close());
      const mailer = createSmtpMailer({ url: server.url, log, dkim: key, timeoutsMs: { socket: 2000 } });
      closers.push(() => mailer.close());
      const e = await mailer.send(message('bob@example.org')).catch((x: unknown) => x);
      kinds[stage] = e instanceof MailError ? e.kind : String(e);
      if (stage === 'dot') expect((await verify(server.received[0]!.raw))[0]?.status.result).toBe('pass');
    }
    expect(kinds).toEqual({ rcpt: 'transient', data: 'transient', dot: 'unknown' });
  });

  it('signMessage refuses to return an unsigned message (nodemailer skips the signature when the key cannot sign)', async () => {
    const raw = Buffer.from('From: a@acme.test\r\nTo: b@example.org\r\nSubject: x\r\n\r\nbody\r\n');
    await expect(signMessage(raw, { ...key, privateKey: 'garbage' })).rejects.toThrow(/made no signature/);
    const signed = await signMessage(raw, key);
    expect(signed.toString().startsWith('DKIM-Signature:')).toBe(true);
    expect((await verify(signed.toString()))[0]?.status.result).toBe('pass');
  });
});

describe('DKIM in the app: configuration, identities and the ledger', () => {
  const clock = testClock();
  const mailEnv = {
    MAIL_FROM: 'Ana <ana@acme.test>',
    MAIL_POSTAL_ADDRESS: 'Rua Exemplo 100, São Paulo, Brasil',
    PUBLIC_URL: 'https://coldbatch.test',
  };
  let app: App | undefined;
  let config: (Config & { dir: string }) | undefined;
  afterEach(async () => {
    await app?.stop();
    app = undefined;
    if (config) rmSync(config.dir, { recursive: true, force: true });
    config = undefined;
  });

  async function send(
    env: Record<string, string>,
    list: string[],
    options: Parameters<typeof buildApp>[1] = {},
  ) {
    config = testConfig({ ...mailEnv, ...env });
    app = buildApp(config, { clock, scheduler: false, ...options });
    await app.start();
    await importText(app.services, `email\n${list.join('\n')}\n`);
    const c = await app.services.campaigns.create(
      { name: 'Intro', subject: 'Hi', body: 'Hello {{email}}', sendAt: 'now' },
      'U1',
    );
    for (let i = 0; i < 10; i++) {
      await app.services.sending.runDue();
      if ((await app.services.campaigns.get(c.id)).status !== 'sending') break;
    }
    return c.id;
  }

  it('SMTP_URL with DKIM_PRIVATE_KEY (a file path), DKIM_SELECTOR and DKIM_DOMAIN: every campaign message verifies', async () => {
    const s = await sink();
    const { dir, cleanup } = tempDir();
    const path = join(dir, 'dkim.pem');
    writeFileSync(path, main.privateKey);
    try {
      await send({ SMTP_URL: s.url, DKIM_PRIVATE_KEY: path, DKIM_SELECTOR: 's1', DKIM_DOMAIN: 'acme.test' }, [
        'p1@example.org',
        'p2@example.org',
      ]);
      expect(s.received).toHaveLength(2);
      for (const m of s.received) {
        const [r] = await verify(m.raw);
        expect(r?.status.result).toBe('pass');
        expect(r?.selector).toBe('s1');
      }
    } finally {
      cleanup();
    }
  });

  it('SMTP_URLS: each identity signs with its own dkim= selector, the others with DKIM_SELECTOR', async () => {
    const a = await sink();
    const b = await sink();
    await send(
      {
        SMTP_URLS: `smtp://alice:pw@127.0.0.1:${a.port},smtp://bob:pw@127.0.0.1:${b.port}#dkim=k1@beta.test`,
        DKIM_PRIVATE_KEY: main.privateKey.replace(/\n/g, '\\n'), // the PEM on one line, as in a .env
        DKIM_SELECTOR: 's1',
        DKIM_DOMAIN: 'acme.test',
      },
      ['p1@example.org', 'p2@example.org'],
    );
    expect(a.received).toHaveLength(1);
    expect(b.received).toHaveLength(1);
    const [ra] = await verify(a.received[0]!.raw);
    const [rb] = await verify(b.received[0]!.raw);
    expect([ra?.status.result, ra?.selector, ra?.signingDomain]).toEqual(['pass', 's1', 'acme.test']);
    expect([rb?.status.result, rb?.selector, rb?.signingDomain]).toEqual(['pass', 'k1', 'beta.test']);
  });

  it('a message that fails to sign reaches the ledger as a retry with the reason, attempts unspent, nothing sent', async () => {
    const s = await sink();
    const broken = createSmtpMailer({ url: s.url, log, dkim: { ...key, privateKey: 'broken' } });
    const id = await send({ SMTP_URL: s.url }, ['p1@example.org'], { mailer: broken });
    const rows = app!.db.$client
      .prepare('SELECT status, attempts, response AS error FROM sends WHERE campaign_id = ?')
      .all(id) as { status: string; attempts: number; error: string }[];
    expect(rows).toEqual([
      { status: 'retry', attempts: 0, error: expect.stringMatching(/^DKIM signing failed/) },
    ]);
    expect(s.received).toHaveLength(0);
    expect((await app!.services.campaigns.get(id)).status).toBe('sending'); // held, not failed or completed
  });
});

describe('DKIM settings at start', () => {
  const base = { SMTP_URL: 'smtp://h:25', PUBLIC_URL: 'https://coldbatch.test' };
  const error = (env: Record<string, string>) => {
    try {
      loadConfig({ ...base, ...env });
    } catch (e) {
      return String(e);
    }
    return 'no error';
  };
  const pem = main.privateKey;

  it('reads the key as PEM text or a file, and hands SMTP_URL its key', () => {
    const c = loadConfig({ ...base, DKIM_PRIVATE_KEY: pem, DKIM_SELECTOR: 'S1', DKIM_DOMAIN: 'Acme.Test' });
    expect(c.mail.dkim.key).toMatchObject({ domainName: 'acme.test', keySelector: 's1' });
    expect(c.mail.dkim.key?.privateKey).toContain('BEGIN PRIVATE KEY');
    expect(loadConfig(base).mail.dkim).toEqual({ selector: undefined, domain: undefined, key: null });
  });

  it('a key without its selector and domain (for every transport) stops the start, naming what is missing', () => {
    // a selector without a key is the relay's (the domain doctor checks it): nothing to sign with
    expect(loadConfig({ ...base, DKIM_SELECTOR: 'google' }).mail.dkim).toEqual({
      selector: 'google',
      domain: undefined,
      key: null,
    });
    expect(error({ DKIM_PRIVATE_KEY: pem })).toMatch(/needs DKIM_SELECTOR and DKIM_DOMAIN/);
    expect(error({ DKIM_PRIVATE_KEY: pem, DKIM_SELECTOR: 's1' })).toMatch(/needs DKIM_DOMAIN set/);
    const urls = { SMTP_URL: '', SMTP_URLS: 'smtp://a:pw@h1:25#dkim=s1@acme.test,smtp://b:pw@h2:25' };
    expect(error({ ...urls, DKIM_PRIVATE_KEY: pem })).toMatch(/SMTP_URLS entry 2 would send unsigned/);
    expect(error({ ...urls, DKIM_PRIVATE_KEY: pem, DKIM_SELECTOR: 's2', DKIM_DOMAIN: 'acme.test' })).toBe(
      'no error',
    );
    expect(error({ SMTP_URL: '', SMTP_URLS: 'smtp://a:pw@h1:25#dkim=s_1' })).toMatch(/entry 1: dkim must be/);
  });

  it('a key that is not a usable RSA private key stops the start, without quoting it', () => {
    const ed = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const weak = rsa(512).privateKey;
    const cases: [string, RegExp][] = [
      ['/nowhere/dkim.pem', /DKIM_PRIVATE_KEY is neither PEM text .* nor a readable file \(ENOENT\)/],
      [
        '-----BEGIN PRIVATE KEY-----\nc2VjcmV0LWJ1dC1icm9rZW4=\n-----END PRIVATE KEY-----',
        /not a usable private key/,
      ],
      [ed, /is an ed25519 key: signing needs an RSA key/],
      [weak, /is a 512-bit key: receivers ignore DKIM keys under 1024 bits/],
    ];
    for (const [value, problem] of cases) {
      const msg = error({ DKIM_PRIVATE_KEY: value, DKIM_SELECTOR: 's1', DKIM_DOMAIN: 'acme.test' });
      expect(msg).toMatch(problem);
      expect(msg).not.toContain(value.split('\n')[1]?.slice(0, 20) ?? value);
    }
  });
});
