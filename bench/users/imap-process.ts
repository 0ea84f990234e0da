/**
 * The inbox case's IMAP server in its own process (as a real mail server would be, so it takes no
 * CPU from the server's process): hoodiecrow-imap on loopback through the tests' helper
 * (test/mail/imap-server.ts), IDLE on. Prints its port, then answers IPC messages:
 * `{ load: dir }` reads every .eml file of dir (by name) into memory, `'append'` delivers them all
 * to INBOX and replies `{ appended, first, last }` (Date.now() around the appends), `'count'`
 * replies `{ count, flagged }` (messages, and those flagged $Coldbatch).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startImapServer } from '../../test/mail/imap-server.js';

const server = await startImapServer({ idle: true });
let loaded: Buffer[] = [];
process.stdout.write(`${server.port}\n`);
process.on('message', (m: unknown) => {
  if (typeof m === 'object' && m !== null && 'load' in m) {
    const dir = String((m as { load: string }).load);
    loaded = readdirSync(dir)
      .filter((f) => f.endsWith('.eml'))
      .sort()
      .map((f) => readFileSync(join(dir, f)));
    process.send?.({ loaded: loaded.length });
  } else if (m === 'append') {
    const first = Date.now();
    for (const raw of loaded) server.append(raw);
    process.send?.({ appended: loaded.length, first, last: Date.now() });
  } else if (m === 'count') {
    const all = server.messages();
    process.send?.({ count: all.length, flagged: all.filter((x) => x.flags.includes('$Coldbatch')).length });
  }
});
process.on('disconnect', () => {
  void server.kill().then(() => process.exit(0));
});
