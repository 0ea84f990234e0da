/**
 * The worker-thread half of a large import: decodes, parses and validates the bytes the main
 * thread forwards, and hands back validated rows, so that the main thread only writes them.
 * Protocol in contact-stream.ts.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { z } from 'zod';
import { isDomainError } from '../../errors.js';
import { contactChunks, packRows } from './contact-chunks.js';
import { openTable } from './table.js';
import { type FromMain, prefetchChunks, type ToMain, unackedChunks } from './worker-protocol.js';

const port = parentPort;
if (!port) throw new Error('parse-worker runs only as a worker thread');
const { maxBytes } = z.object({ maxBytes: z.number().int().positive() }).parse(workerData);

const send = (m: ToMain, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);

// Bytes from the main thread, asked for ahead of need so parsing rarely waits.
const bytes: Uint8Array[] = [];
let ended = false;
let asked = 0;
let wakeBytes: (() => void) | null = null;
// Chunks handed over and not yet taken by the main thread's writer.
let unacked = 0;
let wakeAck: (() => void) | null = null;

port.on('message', (m: FromMain) => {
  if (m.type === 'bytes') {
    asked--;
    bytes.push(m.chunk);
  } else if (m.type === 'end') {
    asked--;
    ended = true;
  } else {
    unacked--;
    wakeAck?.();
    return;
  }
  wakeBytes?.();
});

async function* source(): AsyncGenerator<Uint8Array> {
  for (;;) {
    while (!ended && asked + bytes.length < prefetchChunks) {
      asked++;
      send({ type: 'pull' });
    }
    const next = bytes.shift();
    if (next) {
      yield next;
      continue;
    }
    if (ended) return;
    await new Promise<void>((resolve) => {
      wakeBytes = resolve;
    });
    wakeBytes = null;
  }
}

async function run(): Promise<void> {
  const table = await openTable(source(), { maxBytes });
  send({ type: 'opened', encoding: table.encoding, delimiter: table.dialect.delimiter });
  for await (const chunk of contactChunks(table)) {
    while (unacked >= unackedChunks) {
      await new Promise<void>((resolve) => {
        wakeAck = resolve;
      });
      wakeAck = null;
    }
    unacked++;
    send(
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
  send({ type: 'done', sha256: table.sha256() });
}

run().catch((e: unknown) => {
  send({
    type: 'failed',
    error: isDomainError(e)
      ? { code: e.code, message: e.message, details: e.details }
      : { message: e instanceof Error ? (e.stack ?? e.message) : String(e) },
  });
});
