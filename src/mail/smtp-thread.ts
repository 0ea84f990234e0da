import type { Worker } from 'node:worker_threads';
import { z } from 'zod';
import type { Logger } from '../logger.js';
import { spawnWorker } from '../worker-thread.js';
import {
  MailError,
  type Mailer,
  type MailFailureKind,
  type OutgoingMessage,
  type SentInfo,
} from './mailer.js';
import type { SmtpOptions } from './smtp.js';

/** One nodemailer pool of the thread: its options, and the sending identity it is (logged as `account`). */
export type SmtpThreadPool = { options: Omit<SmtpOptions, 'log'>; account?: string };
/** What the worker is started with: its pools (one per SMTP account) and the log level. */
export type SmtpThreadData = { pools: SmtpThreadPool[]; level: string };
export type SmtpThreadRequest =
  | { op: 'send'; id: number; pool: number; message: OutgoingMessage }
  | { op: 'verify'; id: number; pool: number }
  | { op: 'close' };
/** What goes over the port: the requests of one turn of the event loop together (one message, not one each). */
export type SmtpThreadPost = SmtpThreadRequest | SmtpThreadRequest[];
type WireError = {
  kind: MailFailureKind;
  responseCode: number | undefined;
  response: string;
  unreachable: boolean;
};
export type SmtpThreadReply =
  | { id: number; ok: true; value: SentInfo | boolean }
  | { id: number; ok: false; error: WireError }
  | { log: string }
  | { ready: true };
/** The worker's answers of one turn of its event loop go together too. */
export type SmtpThreadReplies = SmtpThreadReply | SmtpThreadReply[];

type Waiting = { resolve: (v: SentInfo | boolean) => void; reject: (e: MailError) => void };
type Ask = { op: 'send'; pool: number; message: OutgoingMessage } | { op: 'verify'; pool: number };

/**
 * The SMTP mailer with its nodemailer pool in a worker thread: building and writing each message
 * (most of a send's CPU) runs beside the main thread, which keeps the ledger, the HTTP API and
 * Slack. Same behaviour as createSmtpMailer (the worker runs it): the same MailError kinds. A
 * worker that dies fails what it had in flight as `unknown` (the server may have it: never re-sent
 * blindly), or as unreachable if it never started (nothing left); the next send starts a new one.
 */
export function createThreadMailer(opts: SmtpOptions): Mailer {
  const { log, ...options } = opts;
  return createThreadMailers([{ options }], log)[0]!;
}

/**
 * One mailer per pool (the accounts of SMTP_URLS), all in ONE worker thread: each account keeps
 * its own nodemailer pool there, and closing any of them ends the thread (they are closed together).
 */
export function createThreadMailers(pools: SmtpThreadPool[], log: Logger): Mailer[] {
  const data: SmtpThreadData = { pools, level: log.level };
  const waiting = new Map<number, Waiting>();
  let nextId = 1;
  let worker: Worker | null = null;
  let closed = false;
  let closing: Promise<void> | undefined;
  /** Requests not yet posted: the sends a claim launches in one turn go over the port as one message. */
  let queued: SmtpThreadRequest[] = [];

  const flush = () => {
    const batch = queued;
    queued = [];
    if (batch.length > 0)
      worker?.postMessage((batch.length === 1 ? batch[0]! : batch) satisfies SmtpThreadPost);
  };

  const answer = (w: Worker, m: SmtpThreadReply) => {
    if ('log' in m) return relay(log, m.log);
    if ('ready' in m) return;
    const p = waiting.get(m.id);
    if (!p) return;
    waiting.delete(m.id);
    if (waiting.size === 0) w.unref();
    if (m.ok) p.resolve(m.value);
    else p.reject(new MailError(m.error.kind, m.error.responseCode, m.error.response, m.error.unreachable));
  };

  const start = (): Worker => {
    const w = spawnWorker(import.meta.url, './smtp-worker', data);
    let ready = false;
    w.unref(); // the HTTP server and the scheduler keep the process alive, not an idle pool
    w.on('message', (m: SmtpThreadReplies) => {
      for (const r of Array.isArray(m) ? m : [m]) {
        if ('ready' in r) ready = true;
        answer(w, r);
      }
    });
    w.on('error', (err) => log.error({ err, module: 'mail' }, 'SMTP thread failed'));
    w.on('exit', () => {
      if (worker === w) worker = null;
      // Requests never posted never left this machine.
      const unsent = new MailError('transient', undefined, 'the SMTP thread stopped first', true);
      for (const r of queued) {
        if (r.op === 'close') continue;
        waiting.get(r.id)?.reject(unsent);
        waiting.delete(r.id);
      }
      queued = [];
      // Before the pool was ready nothing can have left this machine; after, the server may have it.
      const lost = ready
        ? new MailError('unknown', undefined, 'the SMTP thread stopped before the answer')
        : new MailError('transient', undefined, 'the SMTP thread could not start', true);
      for (const p of waiting.values()) p.reject(lost);
      waiting.clear();
    });
    return w;
  };

  const ask = (req: Ask) =>
    new Promise<SentInfo | boolean>((resolve, reject) => {
      if (closed) {
        reject(new MailError('transient', undefined, 'the mailer is closed'));
        return;
      }
      worker ??= start();
      const id = nextId++;
      waiting.set(id, { resolve, reject });
      if (waiting.size === 1) worker.ref();
      queued.push({ ...req, id });
      if (queued.length === 1) setImmediate(flush);
    });

  const close = async (): Promise<void> => {
    closed = true;
    flush();
    const w = worker;
    if (!w) return;
    const gone = new Promise<void>((r) => w.once('exit', () => r()));
    w.postMessage({ op: 'close' } satisfies SmtpThreadPost);
    // The pools close and the thread ends by itself; one that does not is stopped.
    const timer = setTimeout(() => void w.terminate(), 2000);
    await gone;
    clearTimeout(timer);
  };

  return pools.map(
    (_, pool): Mailer => ({
      kind: 'smtp',
      send: async (message) => {
        const v = await ask({ op: 'send', pool, message });
        if (typeof v === 'boolean')
          throw new MailError('unknown', undefined, 'unexpected answer from the SMTP thread');
        return v;
      },
      // Like the in-process mailer: false when the server cannot be reached, or the thread ended first.
      verify: async () => {
        try {
          return (await ask({ op: 'verify', pool })) === true;
        } catch {
          return false;
        }
      },
      close: () => {
        closing ??= close();
        return closing;
      },
    }),
  );
}

const logLine = z.looseObject({ level: z.number(), msg: z.string().optional() });

/** Writes a log line from the worker (pino JSON) with the main thread's logger. */
function relay(log: Logger, line: string): void {
  const parsed = logLine.safeParse(safeJson(line));
  if (!parsed.success) return;
  const { level, msg, time: _time, app: _app, ...fields } = parsed.data;
  const name = log.levels.labels[level];
  if (name === 'fatal' || name === 'error') log.error(fields, msg);
  else if (name === 'warn') log.warn(fields, msg);
  else if (name === 'info') log.info(fields, msg);
  else log.debug(fields, msg);
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
