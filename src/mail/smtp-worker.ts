/**
 * The SMTP pool's worker thread (smtp-thread.ts starts it): the nodemailer pool of createSmtpMailer,
 * answering the main thread's requests; its log lines go to the main thread's logger.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { createLogger } from '../logger.js';
import { MailError } from './mailer.js';
import { createSmtpMailer } from './smtp.js';
import type { SmtpThreadData, SmtpThreadReply, SmtpThreadRequest } from './smtp-thread.js';

const port = parentPort;
if (!port) throw new Error('smtp-worker runs as a worker thread');
const data: SmtpThreadData = workerData;
const post = (m: SmtpThreadReply) => port.postMessage(m);
const log = createLogger(data.level, { write: (line: string) => post({ log: line }) });
const mailer = createSmtpMailer({ ...data.options, log });
post({ ready: true });

port.on('message', (m: SmtpThreadRequest) => {
  if (m.op === 'close') {
    // the pool's last answers (closing fails what it still held) go out before the port closes
    void mailer.close().then(() => setTimeout(() => port.close(), 50));
    return;
  }
  const work = m.op === 'send' ? mailer.send(m.message) : mailer.verify();
  work.then(
    (value) => post({ id: m.id, ok: true, value }),
    (e: unknown) =>
      post({
        id: m.id,
        ok: false,
        error:
          e instanceof MailError
            ? { kind: e.kind, responseCode: e.responseCode, response: e.response, unreachable: e.unreachable }
            : {
                kind: 'unknown',
                responseCode: undefined,
                response: String(e).slice(0, 500),
                unreachable: false,
              },
      }),
  );
});
