import type { Readable } from 'node:stream';
import { DomainError } from '../../errors.js';
import type { ByteSource } from './table.js';

/** The refusal for an upload that sent nothing for `idleMs` while the import waited for it. */
export function uploadStalled(idleMs: number): DomainError {
  const seconds = Math.max(1, Math.round(idleMs / 1000));
  return new DomainError(
    'upload_timeout',
    `The file stopped arriving: nothing came for ${seconds} s, so the import was stopped and nothing was saved. ` +
      'Send the file again (check the connection if it keeps happening).',
    { idleTimeoutMs: idleMs },
  );
}

/**
 * Reads a Node stream as an import's bytes. The clock runs only while the import waits for bytes
 * (not while it is queued or busy writing): a stall of `idleMs` destroys the stream with
 * upload_timeout, which settles the pending read. Stopping early destroys the stream at once, even
 * with a read pending, so an import that fails never waits on a silent sender.
 */
export function idleLimited(stream: Readable, idleMs: number): ByteSource {
  return {
    [Symbol.asyncIterator]() {
      const inner = stream[Symbol.asyncIterator]();
      let timer: NodeJS.Timeout | undefined;
      return {
        async next() {
          timer = setTimeout(() => stream.destroy(uploadStalled(idleMs)), idleMs);
          try {
            return await inner.next();
          } finally {
            clearTimeout(timer);
          }
        },
        async return() {
          clearTimeout(timer);
          stream.destroy();
          return { done: true, value: undefined };
        },
      };
    },
  };
}
