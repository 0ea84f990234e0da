import { availableParallelism } from 'node:os';
import { DomainError } from '../../errors.js';
import { spawnWorker } from '../../worker-thread.js';
import { type ContactChunk, type ContactStream, contactChunks, unpackRows } from './contact-chunks.js';
import { type ByteSource, openTable, sampleBytes } from './table.js';
import type { FromMain, ToMain, WorkerFailure } from './worker-protocol.js';

export type StreamOptions = {
  maxBytes: number;
  /** Files up to this size are read on the calling thread; larger ones in a worker thread. */
  inlineMaxBytes?: number;
};

/**
 * Opens an import's bytes as validated contact rows. A small file is read right here; a larger
 * one is decoded, parsed and validated in a worker thread while the caller writes the rows it
 * has, so a big import uses both cores and the event loop only runs the writes. Both paths run
 * the same code (openTable, contactChunks) and give the same rows, counts and refusals.
 */
export async function openContactStream(source: ByteSource, opts: StreamOptions): Promise<ContactStream> {
  const it = source[Symbol.asyncIterator]();
  const inlineMax = opts.inlineMaxBytes ?? sampleBytes;
  const head: Uint8Array[] = [];
  let size = 0;
  let complete = false;
  try {
    while (size <= inlineMax) {
      const r = await it.next();
      if (r.done) {
        complete = true;
        break;
      }
      const chunk = typeof r.value === 'string' ? Buffer.from(r.value) : r.value;
      head.push(chunk);
      size += chunk.length;
    }
  } catch (e) {
    await it.return?.();
    throw e;
  }
  if (complete || workersRunning >= maxWorkers) return readInline(head, it, complete, opts);
  workersRunning++;
  let released = false;
  const release = () => {
    if (!released) workersRunning--;
    released = true;
  };
  try {
    const stream = await readInWorker(head, it, opts);
    return {
      ...stream,
      close: async () => {
        try {
          await stream.close();
        } finally {
          release();
        }
      },
    };
  } catch (e) {
    release();
    throw e;
  }
}

/**
 * Parse workers at once: one fewer than the cores (the main thread writes), at least one. More
 * concurrent imports read on the main thread, so twenty uploads do not start twenty threads.
 */
const maxWorkers = Math.max(1, availableParallelism() - 1);
let workersRunning = 0;

async function readInline(
  head: Uint8Array[],
  it: AsyncIterator<Uint8Array | string>,
  complete: boolean,
  opts: StreamOptions,
): Promise<ContactStream> {
  const release = async () => {
    if (!complete) await it.return?.();
  };
  let table: Awaited<ReturnType<typeof openTable>>;
  try {
    table = await openTable(
      (async function* () {
        yield* head;
        if (complete) return;
        for (let r = await it.next(); !r.done; r = await it.next()) yield r.value;
      })(),
      opts,
    );
  } catch (e) {
    await release();
    throw e;
  }
  return {
    encoding: table.encoding,
    delimiter: table.dialect.delimiter,
    chunks: contactChunks(table),
    bytesRead: table.bytesRead,
    sha256: table.sha256,
    close: release,
  };
}

function fromFailure(f: WorkerFailure): Error {
  if (f.code) return new DomainError(f.code, f.message, f.details);
  return new Error(`import worker failed: ${f.message}`);
}

async function readInWorker(
  head: Uint8Array[],
  it: AsyncIterator<Uint8Array | string>,
  opts: StreamOptions,
): Promise<ContactStream> {
  const worker = spawnWorker(import.meta.url, './parse-worker', { maxBytes: opts.maxBytes });
  const post = (m: FromMain, transfer: ArrayBuffer[] = []) => worker.postMessage(m, transfer);
  let bytes = 0;
  let sourceDone = false;
  const queue: ContactChunk[] = [];
  let sha256: string | null = null;
  let failure: Error | null = null;
  let wake: (() => void) | null = null;
  let opened: (m: Extract<ToMain, { type: 'opened' }>) => void = () => {};
  let openFailed: (e: Error) => void = () => {};
  const openedPromise = new Promise<Extract<ToMain, { type: 'opened' }>>((resolve, reject) => {
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
  const answerPull = async () => {
    if (sourceDone) return post({ type: 'end' });
    let chunk: Uint8Array | undefined = head.shift();
    if (!chunk) {
      const r = await it.next();
      if (r.done) {
        sourceDone = true;
        return post({ type: 'end' });
      }
      chunk = typeof r.value === 'string' ? Buffer.from(r.value) : r.value;
    }
    // A copy owns its memory and can be moved to the worker (a pooled Buffer's cannot).
    const own = new Uint8Array(chunk);
    bytes += own.length;
    post({ type: 'bytes', chunk: own }, [own.buffer]);
  };

  worker.on('message', (m: ToMain) => {
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
    }
    wake?.();
  });
  worker.on('error', (e) => fail(e));
  worker.on('exit', (code) => {
    if (sha256 === null)
      fail(new Error(`import worker stopped (exit code ${code}) before the end of the file`));
  });

  const close = async () => {
    worker.removeAllListeners('exit');
    await worker.terminate();
    if (!sourceDone) await it.return?.();
  };

  async function* chunks(): AsyncGenerator<ContactChunk> {
    for (;;) {
      if (failure) throw failure;
      const next = queue.shift();
      if (next) {
        post({ type: 'ack' });
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
}
