import { createServer, type Socket } from 'node:net';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import { afterEach, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import { createMailer, MailError, type Mailer, type OutgoingMessage } from '../../src/mail/index.js';
import { waitFor } from '../helpers.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A real smtp-server on loopback; `hooks` override its handlers to reject or drop. */
async function startServer(hooks: Partial<SMTPServerOptions> = {}) {
  const received: string[] = [];
  const sockets = new Set<Socket>();
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, _session, cb) {
      const parts: Buffer[] = [];
      stream.on('data', (c: Buffer) => parts.push(c));
      stream.on('end', () => {
        received.push(Buffer.concat(parts).toString('utf8'));
        cb();
      });
    },
    ...hooks,
  });
  server.on('error', () => {});
  server.server.on('connection', (s: Socket) => sockets.add(s));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.server.address();
  if (!address || typeof address === 'string') throw new Error('no port');
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { received, sockets, url: `smtp://127.0.0.1:${address.port}` };
}

/** The SMTP mailer the app builds: its pool in a worker thread. */
function threadMailer(url: string, lines: string[] = []) {
  const log = createLogger('info', { write: (line: string) => void lines.push(line) });
  const m = createMailer({ smtpUrl: url, outboxDir: '/nonexistent', thread: true, log });
  cleanups.push(() => m.close());
  return m;
}

const message = (to = 'ana@example.com'): OutgoingMessage => ({
  from: 'Sales <sales@coldbatch.test>',
  to,
  subject: 'Hello',
  text: 'Plain body',
  headers: { 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' },
  ref: 'send-1',
});

async function failure(m: Mailer, msg = message()): Promise<MailError> {
  const err: unknown = await m.send(msg).catch((e: unknown) => e);
  if (!(err instanceof MailError)) throw new Error(`expected a MailError, got ${String(err)}`);
  return err;
}

it('delivers through the worker thread, answering as the in-process SMTP mailer does', async () => {
  const server = await startServer({
    onRcptTo(address, _session, cb) {
      const code = address.address.startsWith('bounce') ? 550 : address.address.startsWith('later') ? 451 : 0;
      if (code) cb(Object.assign(new Error('no'), { responseCode: code }));
      else cb();
    },
  });
  const lines: string[] = [];
  const m = threadMailer(server.url, lines);
  expect(await m.verify()).toBe(true);
  const info = await m.send(message());
  expect(info.response).toMatch(/^250 /);
  expect(server.received).toHaveLength(1);
  expect(server.received[0]).toContain(`Message-ID: ${info.messageId}`);

  const bounced = await failure(m, message('bounce@example.com'));
  expect([bounced.kind, bounced.responseCode]).toEqual(['permanent', 550]);
  const later = await failure(m, message('later@example.com'));
  expect([later.kind, later.responseCode]).toEqual(['transient', 451]);
  // The worker's log lines reach the app's logger, still without the address.
  const failed = lines.filter((l) => l.includes('SMTP send failed'));
  expect(failed).toHaveLength(2);
  expect(failed.join('\n')).not.toContain('example.com');
  expect(lines.some((l) => l.includes('"module":"mail"'))).toBe(true);
});

it('20 messages at once all arrive, each once', async () => {
  const server = await startServer();
  const m = threadMailer(server.url);
  const infos = await Promise.all(
    Array.from({ length: 20 }, (_, i) => m.send({ ...message(`p${i}@example.com`), ref: `send-${i}` })),
  );
  expect(new Set(infos.map((i) => i.messageId)).size).toBe(20);
  expect(server.received).toHaveLength(20);
});

it('a server nobody listens on is transient and unreachable; a drop after the final "." is unknown', async () => {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const address = probe.address();
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  if (!address || typeof address === 'string') throw new Error('no port');
  const down = await failure(threadMailer(`smtp://127.0.0.1:${address.port}`));
  expect([down.kind, down.unreachable]).toEqual(['transient', true]);

  // The whole message reached the server, which hangs up before answering: it may have it.
  const server = await startServer({
    onData(stream) {
      stream.resume();
      stream.on('end', () => {
        for (const s of server.sockets) s.destroy();
      });
    },
  });
  const lost = await failure(threadMailer(server.url));
  expect(lost.kind).toBe('unknown');
});

it('after close, a send is refused (transient: nothing left) and the thread is gone', async () => {
  const server = await startServer();
  const m = threadMailer(server.url);
  await m.send(message());
  await m.close();
  const refused = await failure(m);
  expect(refused.kind).toBe('transient');
  expect(server.received).toHaveLength(1);
});

it('a verify still waiting when the mailer closes answers false (the app starts one and may stop first)', async () => {
  // A server that accepts and never greets: the verify waits until the thread ends.
  let connected = false;
  const silent = createServer(() => {
    connected = true;
  });
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise<void>((resolve) => silent.close(() => resolve())));
  const { port } = silent.address() as { port: number };
  const mailer = threadMailer(`smtp://127.0.0.1:${port}`);
  const verified = mailer.verify();
  await waitFor(() => connected); // the thread is up and waits for the greeting
  await mailer.close();
  await expect(verified).resolves.toBe(false);
});
