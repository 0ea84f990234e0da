import { createHash } from 'node:crypto';
import { pipeline, Readable } from 'node:stream';
import { parse } from 'csv-parse';
import { DomainError, isDomainError } from '../../errors.js';
import { type Delimiter, type Dialect, detectDelimiter, detectDialect, parserOptions } from './dialect.js';
import { tooLarge } from './limits.js';
import { type Encoding, refuseNonText, sniffEncoding } from './sniff.js';

export type TableRecord = { line: number; cells: string[] };

export type OpenedTable = {
  encoding: Encoding;
  dialect: Dialect;
  /** Data records after the header (preamble and header skipped). */
  records: AsyncIterable<TableRecord>;
  /** Bytes read so far, and the SHA-256 of the whole file once records are exhausted. */
  bytesRead(): number;
  sha256(): string;
};

/** Bytes read before deciding encoding, delimiter and header. */
export const sampleBytes = 64 * 1024;
/** A record longer than this is not a contact: the file is broken (an unclosed quote) or not a table. */
export const maxRecordChars = 1024 * 1024;

export type ByteSource = AsyncIterable<Uint8Array | string>;

const stripNul = (s: string) => (s.includes('\0') ? s.replaceAll('\0', '') : s);

type DecodedBytes = {
  encoding: Encoding;
  sampleText: string;
  complete: boolean;
  texts: AsyncIterable<string>;
  bytesRead(): number;
  sha256(): string;
};

/** Reads the first bytes, refuses what is not text, and decodes the rest as it streams. */
async function decodeBytes(source: ByteSource, opts: { maxBytes: number }): Promise<DecodedBytes> {
  const it = source[Symbol.asyncIterator]();
  const hash = createHash('sha256');
  let bytes = 0;
  let digest: string | null = null;

  const pull = async (): Promise<Uint8Array | null> => {
    const r = await it.next();
    if (r.done) {
      digest ??= hash.digest('hex');
      return null;
    }
    const chunk = typeof r.value === 'string' ? Buffer.from(r.value) : r.value;
    bytes += chunk.length;
    if (bytes > opts.maxBytes) throw tooLarge(opts.maxBytes);
    hash.update(chunk);
    return chunk;
  };

  const parts: Uint8Array[] = [];
  let size = 0;
  let complete = false;
  while (size < sampleBytes) {
    const chunk = await pull();
    if (!chunk) {
      complete = true;
      break;
    }
    parts.push(chunk);
    size += chunk.length;
  }
  const sample = Buffer.concat(parts);
  if (sample.length === 0)
    throw new DomainError('empty_file', 'The file is empty. Send a CSV with a header row and contacts.');

  const { encoding } = sniffEncoding(sample, complete);
  const decoder = new TextDecoder(encoding);
  const sampleText = stripNul(decoder.decode(sample, { stream: !complete }));
  if (sampleText.trim() === '') {
    throw new DomainError(
      'empty_file',
      'The file has no text in it. Send a CSV with a header row and contacts.',
    );
  }
  refuseNonText(sampleText);

  async function* texts(): AsyncGenerator<string> {
    yield sampleText;
    if (complete) return;
    for (;;) {
      const chunk = await pull();
      if (!chunk) break;
      const text = decoder.decode(chunk, { stream: true });
      if (text) yield stripNul(text);
    }
    const tail = decoder.decode();
    if (tail) yield stripNul(tail);
  }

  return {
    encoding,
    sampleText,
    complete,
    texts: texts(),
    bytesRead: () => bytes,
    sha256: () => {
      if (digest === null) throw new Error('sha256 is known only after every record was read');
      return digest;
    },
  };
}

/** Streams parsed records with the importer's parser options, skipping the first `skip` records. */
async function* recordsOf(
  texts: AsyncIterable<string>,
  delimiter: Delimiter,
  skip: number,
): AsyncGenerator<TableRecord> {
  const parser = parse({ ...parserOptions(delimiter), info: true, max_record_size: maxRecordChars });
  const out = pipeline(Readable.from(texts, { objectMode: false }), parser, () => {});
  let index = 0;
  try {
    for await (const item of out as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
      if (index++ < skip) continue;
      yield { line: item.info.lines, cells: item.record };
    }
  } catch (e) {
    throw toImportError(e);
  }
}

/** Opens a byte stream as a contact table: detects encoding, delimiter and header, then streams the data records. */
export async function openTable(source: ByteSource, opts: { maxBytes: number }): Promise<OpenedTable> {
  const bytes = await decodeBytes(source, opts);
  const dialect = detectDialect(bytes.sampleText, bytes.complete);
  return {
    encoding: bytes.encoding,
    dialect,
    records: recordsOf(bytes.texts, dialect.delimiter, dialect.headerIndex + 1),
    bytesRead: bytes.bytesRead,
    sha256: bytes.sha256,
  };
}

/** Every record of any table (no header needed), through the same decoding and parsing the importer uses. */
export async function readRawTable(
  source: ByteSource,
  opts: { maxBytes: number },
): Promise<{ encoding: Encoding; delimiter: Delimiter; records: AsyncIterable<TableRecord> }> {
  const bytes = await decodeBytes(source, opts);
  const delimiter = detectDelimiter(bytes.sampleText, bytes.complete);
  return { encoding: bytes.encoding, delimiter, records: recordsOf(bytes.texts, delimiter, 0) };
}

function toImportError(e: unknown): unknown {
  if (isDomainError(e)) return e;
  const err = e as { code?: unknown; lines?: unknown; message?: unknown };
  if (typeof err?.code === 'string' && err.code.startsWith('CSV_')) {
    const line = typeof err.lines === 'number' ? err.lines : undefined;
    const where = line ? ` near line ${line}` : '';
    const what =
      err.code === 'CSV_QUOTE_NOT_CLOSED'
        ? 'a quoted field is never closed'
        : err.code === 'CSV_MAX_RECORD_SIZE'
          ? `a record is longer than ${maxRecordChars} characters`
          : String(err.message ?? err.code);
    return new DomainError(
      'malformed_csv',
      `The file could not be read as CSV${where}: ${what}. Check the quotes in that line, or export the file again.`,
      { line, parserCode: err.code },
    );
  }
  return e;
}
