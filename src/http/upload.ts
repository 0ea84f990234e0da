import { PassThrough, type Readable } from 'node:stream';
import busboy from 'busboy';
import type { Request } from 'express';
import { tooLarge } from '../core/imports/limits.js';
import { DomainError } from '../errors.js';

export type UploadFields = Record<string, string>;
export type Upload = { stream: Readable; fileName: string; fields: Promise<UploadFields> };

const interrupted = () =>
  new DomainError('invalid_input', 'The upload was interrupted before the end of the file; send it again.');

/** Multipart overhead allowed above the file size limit before refusing by Content-Length alone. */
const multipartSlack = 64 * 1024;

/** Parts of a multipart body: the `file` part, and a few others (skipped) before or after it. */
const maxParts = { files: 20, fields: 20, fieldSize: 4096 };

/**
 * Streams the multipart field `file` without buffering it, wherever it comes among the parts
 * (other file parts are read past). Resolves once the file part starts; the other fields (which
 * may come after the file) resolve when the whole body has been read.
 */
export function receiveUpload(req: Request, maxBytes: number): Promise<Upload> {
  const length = Number(req.get('content-length') ?? Number.NaN);
  if (Number.isFinite(length) && length > maxBytes + multipartSlack) {
    return Promise.reject(tooLarge(maxBytes));
  }
  return new Promise((resolve, reject) => {
    let bb: busboy.Busboy;
    try {
      bb = busboy({ headers: req.headers, limits: maxParts });
    } catch {
      reject(
        new DomainError('invalid_input', 'Send the CSV as multipart/form-data with the field name "file".'),
      );
      return;
    }
    const fields: UploadFields = {};
    let gotFile = false;
    let settleFields: (f: UploadFields) => void = () => {};
    let failFields: (e: unknown) => void = () => {};
    const fieldsDone = new Promise<UploadFields>((res, rej) => {
      settleFields = res;
      failFields = rej;
    });
    fieldsDone.catch(() => {});
    bb.on('field', (name, value) => {
      fields[name] = value;
    });
    bb.on('file', (name, stream, info) => {
      if (name !== 'file' || gotFile) {
        stream.resume();
        return;
      }
      gotFile = true;
      // A client gone mid-file ends the import now, even one still queued, not at the idle limit.
      req.once('close', () => {
        if (!req.complete) stream.destroy(interrupted());
      });
      resolve({ stream, fileName: info.filename || 'upload.csv', fields: fieldsDone });
    });
    bb.on('close', () => {
      settleFields(fields);
      if (!gotFile)
        reject(new DomainError('invalid_input', 'No file: send the CSV in the multipart field "file".'));
    });
    bb.on('error', () => {
      const err = new DomainError('invalid_input', 'The multipart body could not be read; send it again.');
      failFields(err);
      reject(err);
    });
    req.pipe(bb);
  });
}

/**
 * A raw request body (text/csv) as an import source that can be stopped without destroying the
 * request: the import may stop early (too large, stalled, malformed) and the answer still has to
 * reach the client on the same connection. A client that goes away ends it with an error.
 */
export function receiveBody(req: Request): Readable {
  const body = new PassThrough();
  const gone = () => {
    if (!req.complete) body.destroy(interrupted());
  };
  req.once('close', gone);
  req.once('error', gone);
  body.once('close', () => {
    req.off('close', gone);
    req.unpipe(body);
  });
  req.pipe(body);
  return body;
}

/** How long and how much of a refused request's body is read and thrown away (nginx: lingering_time/_timeout). */
export const lingerLimits = { totalMs: 30_000, idleMs: 5_000, maxBytes: 256 * 1024 * 1024 };

/**
 * After an early answer (before the request body was read to its end), keeps reading and throwing
 * away the rest, so clients that send the whole body before reading the answer (Node's fetch,
 * Python's http.client) get the answer instead of a reset connection. Like nginx's lingering
 * close: when the answer ends the connection (the client sent `Connection: close`), Node's
 * immediate close is turned into a half-close (FIN after the answer) and the socket is closed only
 * once the body has ended, or after `lingerLimits`. A body that ends in time on a keep-alive
 * connection leaves it usable.
 */
export function discardRest(req: Request, limits = lingerLimits): void {
  req.unpipe();
  req.on('error', () => {}); // a client that goes away now has nothing left to be told
  if (req.complete) return;
  const socket = req.socket;
  const closeNow = socket.destroySoon;
  let closeAfter = false;
  // Node calls destroySoon once the answer is written when the connection is not kept alive.
  socket.destroySoon = () => {
    closeAfter = true;
    socket.end();
  };
  let read = 0;
  const stop = () => {
    clearTimeout(total);
    clearTimeout(idle);
    req.off('data', onData);
    req.off('end', stop);
    req.off('close', stop);
    socket.destroySoon = closeNow;
    if (closeAfter) socket.destroySoon();
  };
  const giveUp = () => {
    stop();
    socket.destroy();
  };
  const total = setTimeout(giveUp, limits.totalMs);
  const idle = setTimeout(giveUp, limits.idleMs);
  const onData = (chunk: Buffer) => {
    read += chunk.length;
    if (read > limits.maxBytes) giveUp();
    else idle.refresh();
  };
  req.on('data', onData);
  req.once('end', stop);
  req.once('close', stop);
  req.resume();
}
