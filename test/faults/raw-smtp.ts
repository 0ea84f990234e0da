import type { AddressInfo } from 'node:net';
import { createServer, type Socket } from 'node:net';

/**
 * Where a fault can strike: the greeting, MAIL FROM, RCPT TO, the DATA command (before 354), the
 * first bytes of the message (before its final "."), and the final "." (the whole message is in).
 */
export type Stage = 'greeting' | 'mail' | 'rcpt' | 'data' | 'body' | 'dot';
/**
 * Answer normally (undefined), drop the connection without a word, stay silent (never answer), or
 * answer this reply code.
 */
export type Fault = 'drop' | 'silent' | number | undefined;
export type RawMessage = { to: string; raw: string };

/**
 * A byte-level SMTP server on loopback (no TLS, no AUTH, one recipient per message) whose `fault`
 * hook decides at each stage whether to answer, drop the connection or answer a reply code. A
 * message is recorded in `received` once the server has it whole: after its final "." (also when
 * the connection is then dropped before the 250, since a real server would deliver it).
 */
export async function startRawSmtp(
  opts: { port?: number; fault?: (stage: Stage, to: string | undefined) => Fault } = {},
) {
  const received: RawMessage[] = [];
  const sockets = new Set<Socket>();
  let connections = 0;
  const server = createServer((socket) => {
    connections += 1;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    socket.setEncoding('latin1');
    let pending = '';
    let inData = false;
    let bodyStarted = false;
    let message = '';
    let to: string | undefined;

    const reply = (line: string) => {
      if (!socket.destroyed) socket.write(`${line}\r\n`);
    };
    /** Applies the fault of a stage; true when the command goes on normally. */
    const pass = (stage: Stage): boolean => {
      const f = opts.fault?.(stage, to);
      if (f === undefined) return true;
      if (f === 'drop') socket.destroy();
      else if (f === 'silent') return false;
      else reply(`${f} ${f >= 500 ? 'refused' : 'service not available, try again later'}`);
      if (stage === 'greeting' && typeof f === 'number') socket.end();
      return false;
    };

    const command = (line: string) => {
      const verb = line.slice(0, 4).toUpperCase();
      if (verb === 'EHLO' || verb === 'HELO') reply('250 raw-smtp');
      else if (verb === 'MAIL') {
        to = undefined;
        if (pass('mail')) reply('250 sender ok');
      } else if (verb === 'RCPT') {
        to = /<([^>]*)>/.exec(line)?.[1]?.toLowerCase() ?? '';
        if (pass('rcpt')) reply('250 recipient ok');
      } else if (verb === 'DATA') {
        if (!pass('data')) return;
        reply('354 end data with <CR><LF>.<CR><LF>');
        inData = true;
        bodyStarted = false;
        message = '';
      } else if (verb === 'RSET' || verb === 'NOOP') {
        if (verb === 'RSET') to = undefined;
        reply('250 ok');
      } else if (verb === 'QUIT') {
        reply('221 bye');
        socket.end();
      } else reply('502 command not implemented');
    };

    const data = (chunk: string) => {
      if (!bodyStarted) {
        bodyStarted = true;
        if (opts.fault?.('body', to) === 'drop') {
          socket.destroy();
          return '';
        }
      }
      message += chunk;
      const end = message.startsWith('.\r\n') ? 0 : message.indexOf('\r\n.\r\n');
      if (end < 0) return '';
      const raw = (end === 0 ? '' : message.slice(0, end + 2)).replace(/^\.\./gm, '.');
      const rest = message.slice(end === 0 ? 3 : end + 5);
      inData = false;
      const f = opts.fault?.('dot', to);
      if (f === 'drop' || f === 'silent') {
        received.push({ to: to ?? '', raw });
        if (f === 'drop') socket.destroy();
        return '';
      }
      if (typeof f === 'number') reply(`${f} message refused`);
      else {
        received.push({ to: to ?? '', raw });
        reply(`250 queued as ${received.length}`);
      }
      return rest;
    };

    socket.on('data', (chunk: string) => {
      pending += chunk;
      while (pending && !socket.destroyed) {
        if (inData) {
          pending = data(pending);
          continue;
        }
        const eol = pending.indexOf('\r\n');
        if (eol < 0) return;
        const line = pending.slice(0, eol);
        pending = pending.slice(eol + 2);
        command(line);
      }
    });
    if (pass('greeting')) reply('220 raw-smtp ESMTP');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    received,
    port,
    url: `smtp://127.0.0.1:${port}`,
    connections: () => connections,
    /** How many messages each recipient received. */
    countsByRecipient: () => {
      const out: Record<string, number> = {};
      for (const m of received) out[m.to] = (out[m.to] ?? 0) + 1;
      return out;
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A loopback port nothing listens on (connections to it are refused). */
export async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}
