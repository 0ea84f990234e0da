import { createServer, type Socket } from 'node:net';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import type { Mailer, OutgoingMessage } from '../../src/mail/index.js';
import { createMailer, MailError } from '../../src/mail/index.js';
import { createSmtpMailer, smtpTransportOptions } from '../../src/mail/smtp.js';

type Received = { raw: string; rcptTo: string[]; mailFrom: string };
const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A real smtp-server on loopback, plain SMTP; `hooks` override its handlers to reject or drop. */
async function startServer(hooks: Partial<SMTPServerOptions> = {}) {
  const received: Received[] = [];
  const sockets = new Set<Socket>();
  let sessions = 0;
  const server = new SMTPServer({
    secure: false,
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onConnect(_session, cb) {
      sessions += 1;
      cb();
    },
    onData(stream, session, cb) {
      const parts: Buffer[] = [];
      stream.on('data', (c: Buffer) => parts.push(c));
      stream.on('end', () => {
        received.push({
          raw: Buffer.concat(parts).toString('utf8'),
          rcptTo: session.envelope.rcptTo.map((r) => r.address),
          mailFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
        });
        cb();
      });
    },
    ...hooks,
  });
  server.server.on('connection', (s: Socket) => sockets.add(s));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.server.address();
  if (!address || typeof address === 'string') throw new Error('no port');
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { received, sockets, sessions: () => sessions, url: `smtp://127.0.0.1:${address.port}` };
}

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const address = probe.address();
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  if (!address || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** A pino logger whose lines are kept, to check what never reaches them. */
function capturingLog() {
  const lines: string[] = [];
  return { lines, log: createLogger('debug', { write: (line: string) => void lines.push(line) }) };
}

/** An SMTP mailer with short timeouts, closed after the test. */
function mailer(url: string, logger = createLogger('silent')) {
  const m = createSmtpMailer({
    url,
    log: logger,
    timeoutsMs: { connection: 2_000, greeting: 2_000, socket: 2_000 },
  });
  cleanups.push(() => m.close());
  return m;
}

const message = (n = 1, to = 'ana@example.com'): OutgoingMessage => ({
  from: 'Sales <sales@coldbatch.test>',
  to,
  subject: `Hello ${n}`,
  text: `Plain body ${n}`,
  html: `<p>HTML body ${n}</p>`,
  headers: {
    'List-Unsubscribe':
      '<mailto:unsubscribe@coldbatch.test?subject=u-1>, <https://links.coldbatch.test/u/1.abc>',
    'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
  },
  ref: `send-${n}`,
});

/** The MailError a send rejects with (failing the test on a resolve or on any other error). */
async function failure(m: Mailer, msg: OutgoingMessage = message()): Promise<MailError> {
  const err: unknown = await m.send(msg).catch((e: unknown) => e);
  if (!(err instanceof MailError)) throw new Error(`expected a MailError, got ${String(err)}`);
  return err;
}

const log = createLogger('silent');

describe('SMTP mailer', () => {
  it('delivers one message to one recipient with subject, text, html and the unsubscribe headers', async () => {
    const server = await startServer();
    const m = mailer(server.url);
    expect(await m.verify()).toBe(true);
    const info = await m.send(message());
    expect(info.response).toMatch(/^250 /);
    expect(server.received).toHaveLength(1);
    const got = server.received[0]!;
    expect(got.rcptTo).toEqual(['ana@example.com']);
    expect(got.mailFrom).toBe('sales@coldbatch.test');
    const head = got.raw.slice(0, got.raw.indexOf('\r\n\r\n')).replace(/\r\n[ \t]+/g, ' ');
    expect(head).toMatch(/^Subject: Hello 1$/m);
    expect(head).toMatch(/^To: ana@example\.com$/m);
    expect(head).toMatch(/^List-Unsubscribe-Post: List-Unsubscribe=One-Click$/m);
    expect(head).toContain(
      'List-Unsubscribe: <mailto:unsubscribe@coldbatch.test?subject=u-1>, <https://links.coldbatch.test/u/1.abc>',
    );
    expect(head).toContain(`Message-ID: ${info.messageId}`);
    expect(got.raw).toContain('Plain body 1');
    expect(got.raw).toContain('<p>HTML body 1</p>');
  });

  it.each([
    [550, 'permanent'],
    [451, 'transient'],
    [503, 'transient'], // bad command sequence: about the session, not the address
  ] as const)('a %i answer to RCPT TO is %s', async (code, kind) => {
    const server = await startServer({
      onRcptTo(address, _session, cb) {
        cb(Object.assign(new Error(`<${address.address}> says no`), { responseCode: code }));
      },
    });
    const err = await failure(mailer(server.url));
    expect(err.kind).toBe(kind);
    expect(err.responseCode).toBe(code);
    expect(err.response).toMatch(new RegExp(`^${code} `));
    expect(server.received).toHaveLength(0);
  });

  it('a 5xx that is about our account (sender refused, login refused) never bounces the recipient', async () => {
    const sender = await startServer({
      onMailFrom(_address, _session, cb) {
        cb(Object.assign(new Error('sender not allowed'), { responseCode: 550 }));
      },
    });
    expect(await failure(mailer(sender.url))).toMatchObject({ kind: 'transient', responseCode: 550 });

    const login = await startServer({
      allowInsecureAuth: true,
      onAuth(_auth, _session, cb) {
        cb(new Error('bad credentials'));
      },
    });
    const { lines, log } = capturingLog();
    const url = login.url.replace('smtp://', 'smtp://robot:Hunter2-secret@');
    expect(await failure(mailer(url, log))).toMatchObject({ kind: 'transient', responseCode: 535 });
    expect(lines.join('')).toContain('"code":"EAUTH"');
    expect(lines.join('')).not.toContain('Hunter2-secret');
  });

  it('a connection dropped in the middle of DATA is transient and delivers nothing', async () => {
    let attempts = 0;
    const server = await startServer({
      onData(stream) {
        attempts += 1;
        stream.once('data', () => {
          for (const s of server.sockets) s.destroy();
        });
      },
    });
    const err = await failure(mailer(server.url));
    expect(err.kind).toBe('transient');
    expect(err.responseCode).toBeUndefined();
    expect(err.response).toMatch(/^E[A-Z]+: /);
    expect(attempts).toBe(1);
    expect(server.received).toHaveLength(0);
  });

  it('a server that is not listening is transient, logged with its code and without the address', async () => {
    const { lines, log } = capturingLog();
    const m = mailer(`smtp://robot:Hunter2-secret@127.0.0.1:${await closedPort()}`, log);
    const err = await failure(m, message(1, 'private.person@example.com'));
    expect(err).toMatchObject({ kind: 'transient', responseCode: undefined });
    expect(err.response).toContain('ECONNREFUSED');
    expect(await m.verify()).toBe(false);
    const logged = lines.join('');
    expect(logged).toContain('"originalCode":"ECONNREFUSED"');
    expect(logged).not.toContain('private.person');
    expect(logged).not.toContain('Hunter2-secret');
  });

  it('20 messages through the pool all arrive, each once, over at most maxConnections connections', async () => {
    const server = await startServer();
    const m = createMailer({ smtpUrl: server.url, outboxDir: '/unused', maxConnections: 3, log });
    cleanups.push(() => m.close());
    const infos = await Promise.all(
      Array.from({ length: 20 }, (_, i) => m.send(message(i, `person${i}@example.com`))),
    );
    expect(new Set(infos.map((i) => i.messageId)).size).toBe(20);
    const recipients = server.received.flatMap((r) => r.rcptTo).sort();
    expect(recipients).toEqual(Array.from({ length: 20 }, (_, i) => `person${i}@example.com`).sort());
    expect(server.sessions()).toBeLessThanOrEqual(3);
  });

  it('passes ratePerMinute to the pool as nodemailer rateLimit per minute, and no limit without it', () => {
    const url = 'smtp://127.0.0.1:2525';
    expect(smtpTransportOptions({ url, ratePerMinute: 30 })).toMatchObject({
      pool: true,
      maxConnections: 5,
      rateDelta: 60_000,
      rateLimit: 30,
    });
    const unlimited = smtpTransportOptions({ url });
    expect(unlimited.rateLimit).toBeUndefined();
    expect(unlimited).toMatchObject({ connectionTimeout: 30_000, greetingTimeout: 30_000, maxRecipients: 1 });
  });
});
