import type { Readable } from 'node:stream';
import busboy from 'busboy';
import type { Request } from 'express';
import { tooLarge } from '../core/imports/limits.js';
import { DomainError } from '../errors.js';

export type UploadFields = Record<string, string>;
export type Upload = { stream: Readable; fileName: string; fields: Promise<UploadFields> };

/** Multipart overhead allowed above the file size limit before refusing by Content-Length alone. */
const multipartSlack = 64 * 1024;

/**
 * Streams the multipart field `file` without buffering it. Resolves once the file part starts;
 * the other fields (which may come after the file) resolve when the whole body has been read.
 */
export function receiveUpload(req: Request, maxBytes: number): Promise<Upload> {
  const length = Number(req.get('content-length') ?? Number.NaN);
  if (Number.isFinite(length) && length > maxBytes + multipartSlack) {
    return Promise.reject(tooLarge(maxBytes));
  }
  return new Promise((resolve, reject) => {
    let bb: busboy.Busboy;
    try {
      bb = busboy({ headers: req.headers, limits: { files: 1, fields: 20, fieldSize: 4096 } });
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
      resolve({ stream, fileName: info.filename || 'upload.csv', fields: fieldsDone });
    });
    bb.on('close', () => {
      settleFields(fields);
      if (!gotFile)
        reject(new DomainError('invalid_input', 'No file: send the CSV in the multipart field "file".'));
    });
    bb.on('error', (e) => {
      const err = new DomainError('invalid_input', 'The multipart body could not be read; send it again.');
      failFields(err);
      reject(err);
      void e;
    });
    req.pipe(bb);
  });
}
