import { type ContactStream, contactChunks } from './contact-chunks.js';
import type { ParseWorkers } from './parse-workers.js';
import { type ByteSource, openTable, sampleBytes } from './table.js';
import { readInWorker } from './worker-stream.js';

export type StreamOptions = {
  maxBytes: number;
  /** Files up to this size are read on the calling thread; larger ones in a parse worker. */
  inlineMaxBytes?: number;
  /** The parse workers; without them (or with every one busy) every file is read on the calling thread. */
  workers?: ParseWorkers | null;
};

/**
 * Files up to this size are read on the calling thread by default: a few tens of milliseconds of
 * work at most, less than handing the file to a worker and its rows back would add.
 */
export const defaultInlineMaxBytes = sampleBytes;

/**
 * Opens an import's bytes as validated contact rows. A small file is read right here; a larger
 * one is decoded, parsed and validated in a parse worker while the caller writes the rows it
 * has, so a big import uses both cores and the event loop only runs the writes. Both paths run
 * the same code (openTable, contactChunks) and give the same rows, counts and refusals.
 */
export async function openContactStream(source: ByteSource, opts: StreamOptions): Promise<ContactStream> {
  const it = source[Symbol.asyncIterator]();
  const inlineMax = opts.inlineMaxBytes ?? defaultInlineMaxBytes;
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
  const inWorker = complete || !opts.workers ? null : readInWorker(opts.workers, head, it, opts.maxBytes);
  return inWorker ?? readInline(head, it, complete, opts);
}

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
