import { DomainError } from '../../errors.js';

export type Encoding = 'utf-8' | 'utf-16le' | 'utf-16be' | 'windows-1252';
export type Sniffed = { encoding: Encoding; bomLength: number };

const exportAsCsv =
  'Open it in Excel or Google Sheets and use File > Save As / Download > CSV, then send that file.';

function startsWith(buf: Uint8Array, bytes: number[]): boolean {
  return bytes.every((b, i) => buf[i] === b);
}

/** Refuses files that are not text tables (spreadsheets, archives, PDFs, web pages). */
function refuseKnownBinary(sample: Uint8Array): void {
  if (startsWith(sample, [0x50, 0x4b, 0x03, 0x04]) || startsWith(sample, [0x50, 0x4b, 0x05, 0x06])) {
    throw new DomainError(
      'not_csv',
      `This is an Excel workbook (.xlsx) or a ZIP archive, not a CSV. ${exportAsCsv}`,
    );
  }
  if (startsWith(sample, [0xd0, 0xcf, 0x11, 0xe0])) {
    throw new DomainError('not_csv', `This is an old Excel workbook (.xls), not a CSV. ${exportAsCsv}`);
  }
  if (startsWith(sample, [0x25, 0x50, 0x44, 0x46])) {
    throw new DomainError(
      'not_csv',
      'This is a PDF, not a CSV. Export the contact list as CSV and send that.',
    );
  }
  if (startsWith(sample, [0x1f, 0x8b])) {
    throw new DomainError(
      'not_csv',
      'This is a compressed (gzip) file. Uncompress it and send the CSV inside.',
    );
  }
}

function utf16WithoutBom(sample: Uint8Array): Encoding | null {
  const n = Math.min(sample.length, 4096) & ~1;
  if (n < 4) return null;
  let evenZero = 0;
  let oddZero = 0;
  for (let i = 0; i < n; i += 2) {
    if (sample[i] === 0) evenZero++;
    if (sample[i + 1] === 0) oddZero++;
  }
  const half = n / 2;
  if (oddZero > half * 0.4 && evenZero < half * 0.05) return 'utf-16le';
  if (evenZero > half * 0.4 && oddZero < half * 0.05) return 'utf-16be';
  return null;
}

function isUtf8(sample: Uint8Array, complete: boolean): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(sample, { stream: !complete });
    return true;
  } catch {
    return false;
  }
}

/** Detects the text encoding of a file from its first bytes; throws not_csv for binary files. */
export function sniffEncoding(sample: Uint8Array, complete: boolean): Sniffed {
  if (startsWith(sample, [0xef, 0xbb, 0xbf])) return { encoding: 'utf-8', bomLength: 3 };
  if (startsWith(sample, [0xff, 0xfe])) return { encoding: 'utf-16le', bomLength: 2 };
  if (startsWith(sample, [0xfe, 0xff])) return { encoding: 'utf-16be', bomLength: 2 };
  refuseKnownBinary(sample);
  const utf16 = utf16WithoutBom(sample);
  if (utf16) return { encoding: utf16, bomLength: 0 };
  return { encoding: isUtf8(sample, complete) ? 'utf-8' : 'windows-1252', bomLength: 0 };
}

/** Refuses decoded text that is not a table: control characters, or an HTML page (e.g. a login page). */
export function refuseNonText(text: string): void {
  let control = 0;
  const n = Math.min(text.length, 65536);
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if ((c < 32 && (c < 9 || c > 13)) || c === 0xfffd) control++;
  }
  if (n > 0 && control / n > 0.02) {
    throw new DomainError('not_csv', `This file is not text (it looks binary). ${exportAsCsv}`);
  }
  if (/^\s*(<!doctype html|<html[\s>])/i.test(text)) {
    throw new DomainError(
      'not_csv',
      'This is a web page (HTML), not a CSV. If it came from Slack, the app may be missing the files:read scope.',
    );
  }
}
