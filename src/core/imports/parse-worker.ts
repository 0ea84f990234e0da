/**
 * The worker-thread half of a large import: decodes, parses and validates the bytes the main
 * thread forwards, and hands back validated rows, so that the main thread only writes them. The
 * thread lives as long as the app and reads one import after another (parse-workers.ts); an
 * import that fails or is cancelled ends here and leaves the thread ready for the next.
 * Protocol in worker-protocol.ts.
 */
import { parentPort } from 'node:worker_threads';
import { isDomainError } from '../../errors.js';
import { contactChunks, packRows } from './contact-chunks.js';
import { openTable } from './table.js';
import {
  type FromMain,
  type JobId,
  prefetchChunks,
  type Reply,
  type ToMain,
  unackedChunks,
} from './worker-protocol.js';

const port = parentPort;
if (!port) throw new Error('parse-worker runs only as a worker thread');

/** The import being read: bytes asked for ahead of need, chunks handed over and not yet taken. */
class Job {
  readonly bytes: Uint8Array[] = [];
  ended = false;
  asked = 0;
  unacked = 0;
  cancelled = false;
  /**
   * The waits under way, one each: the parser's source waiting for bytes, and the chunk loop
   * waiting for an ack (csv-parse reads its source while the loop waits, so both can be pending).
   */
  private readonly waits = { bytes: null as (() => void) | null, ack: null as (() => void) | null };
  constructor(
    readonly id: JobId,
    readonly maxBytes: number,
  ) {}
  send(m: Reply, transfer: ArrayBuffer[] = []): void {
    const message: ToMain = { ...m, job: this.id };
    port?.postMessage(message, transfer);
  }
  /** Resumes the waits (each checks again what it waits for). */
  waken(): void {
    this.waits.bytes?.();
    this.waits.ack?.();
  }
  wait(what: 'bytes' | 'ack'): Promise<void> {
    return new Promise((resolve) => {
      this.waits[what] = () => {
        this.waits[what] = null;
        resolve();
      };
    });
  }
}

class Cancelled extends Error {}

let current: Job | null = null;

port.on('message', (m: FromMain) => {
  if (m.type === 'start') {
    if (current) {
      // The main thread starts one import at a time; say so rather than mix two files.
      const busy: ToMain = { type: 'failed', job: m.job, error: { message: 'parse worker is busy' } };
      port.postMessage(busy);
      return;
    }
    const job = new Job(m.job, m.maxBytes);
    current = job;
    void run(job);
    return;
  }
  const job = current;
  if (!job || job.id !== m.job) return; // for an import that already ended
  if (m.type === 'bytes') {
    job.asked--;
    job.bytes.push(m.chunk);
  } else if (m.type === 'end') {
    job.asked--;
    job.ended = true;
  } else if (m.type === 'ack') {
    job.unacked--;
  } else {
    job.cancelled = true;
  }
  job.waken();
});

async function* source(job: Job): AsyncGenerator<Uint8Array> {
  for (;;) {
    if (job.cancelled) throw new Cancelled();
    while (!job.ended && job.asked + job.bytes.length < prefetchChunks) {
      job.asked++;
      job.send({ type: 'pull' });
    }
    const next = job.bytes.shift();
    if (next) {
      yield next;
      continue;
    }
    if (job.ended) return;
    await job.wait('bytes');
  }
}

async function read(job: Job): Promise<Reply> {
  const table = await openTable(source(job), { maxBytes: job.maxBytes });
  job.send({ type: 'opened', encoding: table.encoding, delimiter: table.dialect.delimiter });
  for await (const chunk of contactChunks(table)) {
    while (job.unacked >= unackedChunks && !job.cancelled) await job.wait('ack');
    if (job.cancelled) return { type: 'cancelled' };
    job.unacked++;
    job.send(
      {
        type: 'chunk',
        fields: packRows(chunk.rows),
        count: chunk.rows.length,
        hashes: chunk.hashes,
        records: chunk.records,
        invalid: chunk.invalid,
        errors: chunk.errors,
      },
      [chunk.hashes.buffer as ArrayBuffer],
    );
  }
  return { type: 'done', sha256: table.sha256() };
}

async function run(job: Job): Promise<void> {
  let last: Reply;
  try {
    last = await read(job);
  } catch (e) {
    last =
      job.cancelled || e instanceof Cancelled
        ? { type: 'cancelled' }
        : {
            type: 'failed',
            error: isDomainError(e)
              ? { code: e.code, message: e.message, details: e.details }
              : { message: e instanceof Error ? (e.stack ?? e.message) : String(e) },
          };
  }
  // Free before the last message goes: the next `start` may follow it at once.
  current = null;
  job.send(last);
}
