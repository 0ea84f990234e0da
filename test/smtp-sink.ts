import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

export type Received = {
  to: string;
  from: string;
  raw: string;
  headers: Record<string, string>;
  body: string;
};

/** Unfolds and parses the header block of a raw message (enough for assertions). */
function parse(raw: string): { headers: Record<string, string>; body: string } {
  const split = raw.indexOf('\r\n\r\n');
  const head = raw.slice(0, split).replace(/\r\n[ \t]+/g, ' ');
  const headers: Record<string, string> = {};
  for (const line of head.split('\r\n')) {
    const i = line.indexOf(':');
    if (i > 0) headers[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim();
  }
  return { headers, body: raw.slice(split + 4) };
}

/**
 * A real SMTP server on loopback that records every accepted message; `reject` answers a
 * recipient with a code (550, 451) and `delayMs` slows DATA so tests can pause or kill mid-send.
 */
export async function startSink(
  opts: {
    reject?: (to: string) => number | undefined;
    /** ms before a message is accepted; a function gets how many messages arrived before this one. */
    delayMs?: number | ((arrived: number) => number);
  } = {},
) {
  const received: Received[] = [];
  let arrived = 0;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onRcptTo(address, _session, cb) {
      const code = opts.reject?.(address.address.toLowerCase());
      if (code) {
        const err = Object.assign(new Error(code >= 500 ? 'mailbox unavailable' : 'try again later'), {
          responseCode: code,
        });
        cb(err);
        return;
      }
      cb();
    },
    onData(stream, session, cb) {
      const parts: Buffer[] = [];
      stream.on('data', (c: Buffer) => parts.push(c));
      stream.on('end', () => {
        const raw = Buffer.concat(parts).toString('utf8');
        const finish = () => {
          for (const rcpt of session.envelope.rcptTo) {
            received.push({
              to: rcpt.address.toLowerCase(),
              from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
              raw,
              ...parse(raw),
            });
          }
          cb();
        };
        const delay = typeof opts.delayMs === 'function' ? opts.delayMs(arrived) : opts.delayMs;
        arrived += 1;
        if (delay) setTimeout(finish, delay);
        else finish();
      });
    },
  });
  // Clients that die mid-session (a process killed with SIGKILL) surface as server errors: expected here.
  server.on('error', () => {});
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.server.address() as AddressInfo).port;
  return {
    received,
    url: `smtp://127.0.0.1:${port}`,
    port,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
