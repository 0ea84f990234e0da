import { DomainError } from '../../errors.js';
import { type ContactChunk, type ContactStream, unpackRows } from './contact-chunks.js';
import type { ParseWorkers } from './parse-workers.js';
import type { Reply, WorkerFailure } from './worker-protocol.js';

type Opened = Extract<Reply, { type: 'opened' }>;

function fromFailure(f: WorkerFailure): Error {
  if (f.code) return new DomainError(f.code, f.message, f.details);
  return new Error(`import worker failed: ${f.message}`);
}

/**
 * Reads an import in a parse worker: bytes go over as the worker asks for them (a few chunks
 * ahead), validated rows come back a chunk at a time (a few at most not yet taken by the writer),
 * so memory stays bounded at both ends. Closing it early (a failed write, a broken upload) cancels
 * the import in the worker and waits until the worker is free for the next one. Null when every
 * worker is busy.
 */
export function readInWorker(
  workers: ParseWorkers,
  head: Uint8Array[],
  it: AsyncIterator<Uint8Array | string>,
  maxBytes: number,
): Promise<ContactStream> | null {
  let bytes = 0;
  let sourceDone = false;
  let closed = false;
  const queue: ContactChunk[] = [];
  let sha256: string | null = null;
  let failure: Error | null = null;
  let wake: (() => void) | null = null;
  let opened: (m: Opened) => void = () => {};
  let openFailed: (e: Error) => void = () => {};
  const openedPromise = new Promise<Opened>((resolve, reject) => {
    opened = resolve;
    openFailed = reject;
  });

  const fail = (e: Error) => {
    failure ??= e;
    openFailed(failure);
    wake?.();
  };

  // Pulls are answered in order, one source read at a time.
  let reading: Promise<void> = Promise.resolve();
  const job = workers.begin(maxBytes, {
    message(m) {
      switch (m.type) {
        case 'pull':
          reading = reading.then(answerPull).catch((e: unknown) => {
            sourceDone = true;
            fail(e instanceof Error ? e : new Error(String(e)));
          });
          return;
        case 'opened':
          opened(m);
          return;
        case 'chunk':
          queue.push({
            rows: unpackRows(m.fields, m.count),
            hashes: m.hashes,
            records: m.records,
            invalid: m.invalid,
            errors: m.errors,
          });
          break;
        case 'done':
          sha256 = m.sha256;
          break;
        case 'failed':
          fail(fromFailure(m.error));
          return;
        case 'cancelled':
          return; // only after close: nobody reads any more
      }
      wake?.();
    },
    lost: fail,
  });
  if (!job) return null;

  const answerPull = async () => {
    if (closed) return;
    if (sourceDone) return job.post({ type: 'end' });
    let chunk: Uint8Array | undefined = head.shift();
    if (!chunk) {
      const r = await it.next();
      if (r.done) {
        sourceDone = true;
        return job.post({ type: 'end' });
      }
      chunk = typeof r.value === 'string' ? Buffer.from(r.value) : r.value;
    }
    // A copy owns its memory and can be moved to the worker (a pooled Buffer's cannot).
    const own = new Uint8Array(chunk);
    bytes += own.length;
    job.post({ type: 'bytes', chunk: own }, [own.buffer]);
  };

  const close = async () => {
    closed = true;
    await job.cancel();
    if (!sourceDone) await it.return?.();
  };

  async function* chunks(): AsyncGenerator<ContactChunk> {
    for (;;) {
      if (failure) throw failure;
      const next = queue.shift();
      if (next) {
        job?.post({ type: 'ack' });
        yield next;
        continue;
      }
      if (sha256 !== null) return;
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
      wake = null;
    }
  }

  return (async () => {
    try {
      const { encoding, delimiter } = await openedPromise;
      return {
        encoding,
        delimiter,
        chunks: chunks(),
        bytesRead: () => bytes,
        sha256: () => {
          if (sha256 === null) throw new Error('sha256 is known only after every record was read');
          return sha256;
        },
        close,
      };
    } catch (e) {
      await close();
      throw e;
    }
  })();
}
