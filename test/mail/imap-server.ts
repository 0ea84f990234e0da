import type { AddressInfo, Socket } from 'node:net';
import hoodiecrow, { type HoodiecrowMessage, type HoodiecrowOptions } from 'hoodiecrow-imap';

/**
 * A real IMAP server on loopback (hoodiecrow-imap: in memory, one account). Its storage lives in
 * a plain object, so a "restarted" server (kill, then startImapServer with the same storage and
 * port) keeps the messages, their UIDs, flags and UIDVALIDITY, like a real server's disk.
 */
export type ImapServer = {
  port: number;
  storage: NonNullable<HoodiecrowOptions['storage']>;
  /**
   * Delivers a message to INBOX (EXISTS goes to every client that has it selected); returns its
   * UID. A Buffer is delivered byte for byte (a string's characters must be bytes: latin1).
   */
  append(raw: string | Buffer, flags?: string[]): number;
  /** The flags of the INBOX message with this UID. */
  flags(uid: number): string[];
  messages(): HoodiecrowMessage[];
  /** Clients connected now. */
  connections(): number;
  /** Stops listening and cuts every connection at once (a crash, a network cut). */
  kill(): Promise<void>;
};

export const imapUser = 'bounces@coldbatch.test';
export const imapPassword = 'imap-pa55:w0rd/Qz';

/** A message of `n` (its subject says which). */
export const mail = (n: number | string, body = 'hello') =>
  `From: someone@example.net\r\nTo: ${imapUser}\r\nSubject: message ${n}\r\nMessage-ID: <m${n}@example.net>\r\n\r\n${body} ${n}\r\n`;

export async function startImapServer(
  options: { idle?: boolean; port?: number; storage?: ImapServer['storage']; messages?: string[] } = {},
): Promise<ImapServer> {
  const storage = options.storage ?? {
    INBOX: { messages: (options.messages ?? []).map((raw) => ({ raw, flags: [] })) },
    '': {},
  };
  const server = hoodiecrow({
    plugins: options.idle === false ? [] : ['IDLE'],
    users: { [imapUser]: { password: imapPassword } },
    storage,
  });
  const sockets = new Set<Socket>();
  server.server.on('connection', (s: Socket) => {
    // hoodiecrow writes each response line on its own: without this, Nagle holds every tagged OK ~40 ms.
    s.setNoDelay(true);
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.server.address() as AddressInfo).port;
  const inbox = () => server.getMailbox('INBOX');
  const byUid = (uid: number) => {
    const m = inbox().messages.find((x) => x.uid === uid);
    if (!m) throw new Error(`no message ${uid}`);
    return m;
  };
  return {
    port,
    storage,
    append: (raw, flags = []) =>
      server.appendMessage('INBOX', flags, undefined, typeof raw === 'string' ? raw : raw.toString('latin1'))
        .message.uid ?? 0,
    flags: (uid) => [...byUid(uid).flags],
    messages: () => inbox().messages,
    connections: () => sockets.size,
    kill: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      }),
  };
}
