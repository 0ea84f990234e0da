import type { ErrorCode } from '../../errors.js';
import type { Delimiter } from './dialect.js';
import type { Encoding } from './sniff.js';

/** Byte chunks the worker asks for ahead of need. */
export const prefetchChunks = 4;
/**
 * Row chunks the worker may hand over before the writer takes them (bounds memory): a few
 * thousand rows, so that the next store call's rows are parsed while the writer waits for the
 * calls under way (with 3, about one call's worth, a Postgres import waited for the parse before
 * most calls).
 */
export const unackedChunks = 8;

/**
 * One parse worker serves many imports, one at a time: every message names its import (`job`),
 * and a message for an import that already ended is dropped on arrival (a late ack, the bytes of
 * a pull answered just before a cancel).
 */
export type JobId = number;

/**
 * Main thread → worker: `start` an import; one answer per pull (bytes, or the end); one ack per
 * chunk taken; `cancel` when the import stopped early (the worker answers `cancelled`).
 */
export type Command =
  | { type: 'start'; maxBytes: number }
  | { type: 'bytes'; chunk: Uint8Array }
  | { type: 'end' }
  | { type: 'ack' }
  | { type: 'cancel' };

export type FromMain = Command & { job: JobId };

export type WorkerFailure = { code?: ErrorCode; message: string; details?: Record<string, unknown> };

/** What the worker says about an import. Each import ends with exactly one of `done`, `failed`, `cancelled`. */
export type Reply =
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
  | { type: 'failed'; error: WorkerFailure }
  | { type: 'cancelled' };

/** Worker → main thread. */
export type ToMain = Reply & { job: JobId };

/** The messages after which the worker is free for the next import. */
export const isLast = (m: Reply): boolean =>
  m.type === 'done' || m.type === 'failed' || m.type === 'cancelled';
