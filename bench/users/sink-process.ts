/**
 * A counting SMTP sink in its own process (as a real mail server would be, so it takes no CPU
 * from the server's process): prints its port, then answers IPC messages: 'reset' zeroes the
 * count, 'stats' replies {count, first, last} (Date.now() of the first and last message received
 * since the reset), which the send case uses to time both sides the same way, and `distinct`: how
 * many different recipients those messages had (a recipient mailed twice counts once).
 */
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

let count = 0;
let first = 0;
let last = 0;
const recipients = new Set<string>();
const server = new SMTPServer({
  authOptional: true,
  disabledCommands: ['STARTTLS', 'AUTH'],
  logger: false,
  onData(stream, session, cb) {
    for (const r of session.envelope.rcptTo) recipients.add(r.address);
    stream.on('data', () => {});
    stream.on('end', () => {
      last = Date.now();
      if (count++ === 0) first = last;
      cb();
    });
  },
});
server.on('error', () => {});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${(server.server.address() as AddressInfo).port}\n`);
});
process.on('message', (m) => {
  if (m === 'reset') {
    count = 0;
    first = 0;
    last = 0;
    recipients.clear();
    process.send?.({ reset: true });
  } else process.send?.({ count, first, last, distinct: recipients.size });
});
process.on('disconnect', () => process.exit(0));
