import type { ErrorCode } from '../../errors.js';
import type { Delimiter } from './dialect.js';
import type { Encoding } from './sniff.js';

/** Byte chunks the worker asks for ahead of need. */
export const prefetchChunks = 4;
/** Row chunks the worker may hand over before the writer takes them (bounds memory). */
export const unackedChunks = 3;

/** Main thread → worker: one answer per pull (bytes, or the end), and one ack per chunk taken. */
export type FromMain = { type: 'bytes'; chunk: Uint8Array } | { type: 'end' } | { type: 'ack' };

export type WorkerFailure = { code?: ErrorCode; message: string; details?: Record<string, unknown> };

/** Worker → main thread. */
export type ToMain =
  | { type: 'pull' }
  | { type: 'opened'; encoding: Encoding; delimiter: Delimiter }
  | {
      type: 'chunk';
      /** packRows of the chunk's rows. */
      fields: string;
      count: number;
      hashes: Uint8Array;
      records: number;
      invalid: number;
      errors: { line: number; reason: string }[];
    }
  | { type: 'done'; sha256: string }
  | { type: 'failed'; error: WorkerFailure };
