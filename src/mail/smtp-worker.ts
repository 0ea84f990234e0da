/**
 * The SMTP pools' worker thread (smtp-thread.ts starts it): the nodemailer pool of createSmtpMailer
 * for each SMTP account, answering the main thread's requests; its log lines go to the main
 * thread's logger.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { createLogger } from '../logger.js';
import { MailError } from './mailer.js';
import { createSmtpMailer } from './smtp.js';
import type { SmtpThreadData, SmtpThreadPost, SmtpThreadReply, SmtpThreadRequest } from './smtp-thread.js';

const port = parentPort;
if (!port) throw new Error('smtp-worker runs as a worker thread');
const data: SmtpThreadData = workerData;
const post = (m: SmtpThreadReply) => port.postMessage(m);
/** Answers of one turn of the event loop go to the main thread as one message. */
let answers: SmtpThreadReply[] = [];
const flush = () => {
  const batch = answers;
  answers = [];
  port.postMessage(batch.length === 1 ? batch[0] : batch);
};
const reply = (m: SmtpThreadReply) => {
  answers.push(m);
  if (answers.length === 1) setImmediate(flush);
};
// `thread: 'smtp'` on every line: the operator (and the tests) see where the pools run
const log = createLogger(data.level, { write: (line: string) => post({ log: line }) }).child({
  thread: 'smtp',
});
const mailers = data.pools.map((p) =>
  createSmtpMailer({ ...p.options, log: p.account ? log.child({ account: p.account }) : log }),
);
post({ ready: true });

const handle = (m: SmtpThreadRequest): void => {
  if (m.op === 'close') {
    // the pool's last answers (closing fails what it still held) go out before the port closes
    void Promise.all(mailers.map((x) => x.close())).then(() => setTimeout(() => port.close(), 50));
    return;
  }
  const mailer = mailers[m.pool];
  const work = !mailer
    ? Promise.reject(new MailError('transient', undefined, `no SMTP pool ${m.pool} in the thread`))
    : m.op === 'send'
      ? mailer.send(m.message)
      : mailer.verify();
  work.then(
    (value) => reply({ id: m.id, ok: true, value }),
    (e: unknown) =>
      reply({
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
};

port.on('message', (m: SmtpThreadPost) => {
  for (const r of Array.isArray(m) ? m : [m]) handle(r);
});
