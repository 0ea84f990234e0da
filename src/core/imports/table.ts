import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { parse } from 'csv-parse';
import { DomainError } from '../../errors.js';
import { isAscii, streamDecoder } from './decoder.js';
import {
  type Delimiter,
  type Dialect,
  detectDelimiter,
  detectDialect,
  isEmptyLine,
  lineBreaks,
  parserOptions,
} from './dialect.js';
import { tooLarge } from './limits.js';
import { type Encoding, refuseNonText, sniffEncoding } from './sniff.js';

export type TableRecord = { line: number; cells: string[] };

export type OpenedTable = {
  encoding: Encoding;
  dialect: Dialect;
  /** Data records after the header (preamble and header skipped), in batches. */
  records: AsyncIterable<TableRecord[]>;
  /** Bytes read so far, and the SHA-256 of the whole file once records are exhausted. */
  bytesRead(): number;
  sha256(): string;
};

/** Bytes read before deciding encoding, delimiter and header. */
export const sampleBytes = 64 * 1024;
/** A record longer than this is not a contact: the file is broken (an unclosed quote) or not a table. */
export const maxRecordChars = 1024 * 1024;
/**
 * A sample with fewer line ends than this grows past sampleBytes, so a header wider than the sample
 * (100,000 columns) is judged whole, up to maxSampleBytes: enough for a record of maxRecordChars
 * in any encoding (UTF-16: 2 bytes a character).
 */
const sampleLineEnds = 2;
const maxSampleBytes = 4 * maxRecordChars;

/** Line ends in a chunk of any supported encoding (LF, CRLF and CR alike; a CRLF counts once). */
function lineEnds(chunk: Uint8Array): number {
  let lf = 0;
  let cr = 0;
  for (let i = 0; i < chunk.length; i++) {
    const b = chunk[i];
    if (b === 0x0a) lf++;
    else if (b === 0x0d) cr++;
  }
  return Math.max(lf, cr);
}

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
  let ends = 0;
  let complete = false;
  while (size < sampleBytes || (ends < sampleLineEnds && size < maxSampleBytes)) {
    const chunk = await pull();
    if (!chunk) {
      complete = true;
      break;
    }
    parts.push(chunk);
    size += chunk.length;
    if (ends < sampleLineEnds) ends += lineEnds(chunk);
  }
  if (!complete && ends === 0) {
    throw new DomainError(
      'malformed_csv',
      `The file could not be read as CSV at line 1: the line is longer than ${maxRecordChars.toLocaleString('en-US')} ` +
        'characters, wider than any header. Check that it is a CSV with one contact per line, or export it again.',
      { line: 1 },
    );
  }
  const sample = Buffer.concat(parts);
  if (sample.length === 0)
    throw new DomainError('empty_file', 'The file is empty. Send a CSV with a header row and contacts.');

  const { encoding } = sniffEncoding(sample, complete);
  const decoder = new TextDecoder(encoding);
  // Always stream-decode: Node 20's one-shot windows-1252 decode maps 0x80–0x9F to C1 controls
  // (nodejs/node#56542), so a small cp1252 file would lose ’ “ ” – €.
  const sampleText = stripNul(decoder.decode(sample, { stream: true }) + (complete ? decoder.decode() : ''));
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
    // The sample decoder carries on, unless the sample was pure ASCII: then the rest decides.
    const rest = isAscii(sample) ? streamDecoder(encoding, true) : null;
    for (;;) {
      const chunk = await pull();
      if (!chunk) break;
      const text = rest ? rest.decode(chunk) : decoder.decode(chunk, { stream: true });
      if (text) yield stripNul(text);
    }
    const tail = rest ? rest.end() : decoder.decode();
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

/** Records parsed so far are handed over in batches (one await per batch, not per record). */
const batchHighWaterMark = 2048;

/** Streams parsed records with the importer's parser options, skipping the first `skip` records. */
/** A Node stream option csv-parse passes through to its Transform (its own types omit it). */
const keepAfterError: { autoDestroy: boolean } = { autoDestroy: false };

async function* recordsOf(
  texts: AsyncIterable<string>,
  delimiter: Delimiter,
  skip: number,
): AsyncGenerator<TableRecord[]> {
  // Lines are counted here, not in csv-parse (its per-record info objects halve its speed). Empty
  // lines are parsed as [''] records so every line is seen, then dropped as skip_empty_lines would.
  // autoDestroy is off so that, when parsing fails, the records made before the failure stay
  // readable and their lines are counted exactly before the failure is reported.
  const parser = parse({
    ...parserOptions(delimiter),
    skip_empty_lines: false,
    max_record_size: maxRecordChars,
    ...keepAfterError,
  });
  let failure: unknown;
  let ended = false;
  const source = Readable.from(texts, { objectMode: false });
  source.on('error', (e) => {
    failure ??= e;
    parser.end();
  });
  parser.on('error', (e) => {
    failure ??= e;
    source.destroy();
  });
  parser.on('end', () => {
    ended = true;
  });
  source.pipe(parser);
  let next = 1; // the line the next record starts on
  let index = 0; // non-empty records (the header index counts these)
  try {
    for (;;) {
      const batch: TableRecord[] = [];
      for (let cells = parser.read() as string[] | null; cells !== null; cells = parser.read()) {
        const line = next;
        next += 1 + lineBreaks(cells);
        if (isEmptyLine(cells)) continue;
        if (index++ >= skip) batch.push({ line, cells });
        if (batch.length >= batchHighWaterMark) break;
      }
      if (batch.length > 0) {
        yield batch;
        continue;
      }
      if (failure) throw toImportError(failure, next);
      if (ended) return;
      await new Promise<void>((resolve) => {
        const done = () => {
          parser.off('readable', done);
          parser.off('end', done);
          parser.off('error', done);
          source.off('error', done);
          resolve();
        };
        parser.on('readable', done);
        parser.on('end', done);
        parser.on('error', done);
        source.on('error', done);
      });
    }
  } finally {
    source.destroy();
    parser.destroy();
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
): Promise<{ encoding: Encoding; delimiter: Delimiter; records: AsyncIterable<TableRecord[]> }> {
  const bytes = await decodeBytes(source, opts);
  const delimiter = detectDelimiter(bytes.sampleText, bytes.complete);
  return { encoding: bytes.encoding, delimiter, records: recordsOf(bytes.texts, delimiter, 0) };
}

function describeParserError(code: string, message: string): string {
  switch (code) {
    case 'CSV_QUOTE_NOT_CLOSED':
      return 'a quoted field is never closed';
    case 'CSV_NON_TRIMABLE_CHAR_AFTER_CLOSING_QUOTE':
    case 'CSV_INVALID_CLOSING_QUOTE':
      return 'a quoted field has text after its closing quote (a quote inside a value must be doubled: "")';
    case 'CSV_MAX_RECORD_SIZE':
      return `a record is longer than ${maxRecordChars} characters`;
    default:
      return message;
  }
}

/** A csv-parse failure as malformed_csv, placed at the line where the broken record starts. */
function toImportError(e: unknown, line: number): unknown {
  if (!(e instanceof Error && 'code' in e && typeof e.code === 'string' && e.code.startsWith('CSV_')))
    return e;
  return new DomainError(
    'malformed_csv',
    `The file could not be read as CSV at line ${line}: ${describeParserError(e.code, e.message)}. ` +
      'Check the quotes in that line, or export the file again.',
    { line, parserCode: e.code },
  );
}
