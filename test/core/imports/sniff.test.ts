import { describe, expect, it } from 'vitest';
import { refuseNonText, sniffEncoding } from '../../../src/core/imports/sniff.js';
import { openTable, type TableRecord } from '../../../src/core/imports/table.js';
import { DomainError } from '../../../src/errors.js';
import { bytes } from '../../helpers.js';

const utf16be = (s: string) => Buffer.from(s, 'utf16le').swap16();
const latin1 = (s: string) => Buffer.from(s, 'latin1');

async function openAll(content: string | Uint8Array, opts: { chunkSize?: number; maxBytes?: number } = {}) {
  const table = await openTable(bytes(content, opts.chunkSize), {
    maxBytes: opts.maxBytes ?? 10 * 1024 * 1024,
  });
  const records: TableRecord[] = [];
  for await (const batch of table.records) records.push(...batch);
  return { encoding: table.encoding, records };
}

/** Reads the whole file through openTable and returns its refusal. */
async function refusal(content: string | Uint8Array, opts: { chunkSize?: number; maxBytes?: number } = {}) {
  const e = await openAll(content, opts).then(
    () => 'read without error',
    (err: unknown) => err,
  );
  if (!(e instanceof DomainError)) throw new Error(`expected a DomainError, got ${String(e)}`);
  return e;
}

describe('sniffEncoding', () => {
  const text = 'email,nome\r\njose@x.com,José Conceição\r\n';

  it.each([
    ['UTF-8 with BOM', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text)]), 'utf-8', 3],
    [
      'UTF-16LE with BOM',
      Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]),
      'utf-16le',
      2,
    ],
    ['UTF-16BE with BOM', Buffer.concat([Buffer.from([0xfe, 0xff]), utf16be(text)]), 'utf-16be', 2],
    ['UTF-16LE without BOM', Buffer.from(text, 'utf16le'), 'utf-16le', 0],
    ['UTF-16BE without BOM', utf16be(text), 'utf-16be', 0],
    ['UTF-8 without BOM', Buffer.from(text), 'utf-8', 0],
    ['Windows-1252 (Brazilian Excel)', latin1(text), 'windows-1252', 0],
    ['plain ASCII', Buffer.from('email\na@x.com\n'), 'utf-8', 0],
  ])('%s', (_name, sample, encoding, bomLength) => {
    expect(sniffEncoding(sample, true)).toEqual({ encoding, bomLength });
  });

  it('a UTF-8 character cut by the end of the sample is still UTF-8; cut by the end of the file it is not', () => {
    const cut = Buffer.from('nome\nConceição\n').subarray(0, 12); // ends inside "ç"
    expect(sniffEncoding(cut, false).encoding).toBe('utf-8');
    expect(sniffEncoding(cut, true).encoding).toBe('windows-1252');
  });

  it.each([
    [
      'an .xlsx workbook (PK\\x03\\x04)',
      [0x50, 0x4b, 0x03, 0x04, 0x14, 0x00],
      /Excel workbook \(\.xlsx\).*CSV/,
    ],
    ['an empty ZIP (PK\\x05\\x06)', [0x50, 0x4b, 0x05, 0x06, 0x00, 0x00], /not a CSV/],
    ['an old .xls workbook', [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1], /\.xls.*CSV/],
    ['a PDF', [...Buffer.from('%PDF-1.7\n')], /PDF, not a CSV/],
    ['a gzip file', [0x1f, 0x8b, 0x08, 0x00], /Uncompress it/],
  ])('refuses %s as not_csv', (_name, magic, message) => {
    const sample = Buffer.concat([Buffer.from(magic), Buffer.from('email\na@x.com\n')]);
    expect(() => sniffEncoding(sample, true)).toThrow(expect.objectContaining({ code: 'not_csv' }));
    expect(() => sniffEncoding(sample, true)).toThrow(message);
  });
});

describe('refuseNonText', () => {
  it.each([
    '<!DOCTYPE html>\n<html><body>Sign in to Slack</body></html>',
    '\n  <html lang="en"><head><title>Slack</title></head>',
  ])('refuses an HTML page (e.g. a login page instead of the file): %j', (page) => {
    expect(() => refuseNonText(page)).toThrow(expect.objectContaining({ code: 'not_csv' }));
    expect(() => refuseNonText(page)).toThrow(/web page \(HTML\), not a CSV/);
  });

  it('refuses text full of control characters as binary', () => {
    const binary = String.fromCharCode(...Array.from({ length: 200 }, (_, i) => i % 9));
    expect(() => refuseNonText(binary)).toThrow(/not text \(it looks binary\)/);
  });

  it('accepts tables with tabs, form feeds, vertical tabs and a cell that mentions <html>', () => {
    expect(() => refuseNonText('email\tnote\na@x.com\t<html> in a note\u000b\f\n')).not.toThrow();
  });
});

describe('openTable refusals before any record', () => {
  it.each([
    ['no bytes', '', /The file is empty/],
    ['only line breaks and spaces', '\r\n  \n\n', /no text in it/],
    ['only a UTF-8 BOM', '\ufeff', /no text in it/],
  ])('%s → empty_file', async (_name, content, message) => {
    const e = await refusal(content);
    expect(e.code).toBe('empty_file');
    expect(e.message).toMatch(message);
  });

  it('an .xlsx workbook → not_csv, saying to export as CSV', async () => {
    const xlsx = Buffer.concat([Buffer.from([0x50, 0x4b, 0x03, 0x04]), Buffer.alloc(2000, 7)]);
    const e = await refusal(xlsx, { chunkSize: 3 });
    expect(e.code).toBe('not_csv');
    expect(e.message).toMatch(/CSV/);
    expect(e.message).toMatch(/Save As \/ Download > CSV/);
  });

  it('an HTML page → not_csv', async () => {
    const e = await refusal('<!doctype html><html><body>Redirecting…</body></html>');
    expect(e.code).toBe('not_csv');
  });

  it('over maxBytes → too_large with the limit; exactly maxBytes is read', async () => {
    const text = 'email\na@x.com\nb@x.com\n';
    const size = Buffer.byteLength(text);
    expect((await openAll(text, { maxBytes: size, chunkSize: 1 })).records).toHaveLength(2);
    const e = await refusal(text, { maxBytes: size - 1, chunkSize: 1 });
    expect(e.code).toBe('too_large');
    expect(e.details).toEqual({ limitBytes: size - 1 });
  });

  it('over maxBytes found while streaming, after the sample → too_large, not malformed_csv', async () => {
    const text = `email\n${'someone@example.com\n'.repeat(10_000)}`; // 200 KB
    const e = await refusal(text, { maxBytes: 100 * 1024, chunkSize: 7 });
    expect(e.code).toBe('too_large');
    expect(e.message).toMatch(/larger than the 100 KB limit/);
  });
});

describe('decoding across chunk boundaries, past the 64 KB sample', () => {
  // Characters of 2, 3 and 4 bytes (UTF-8) and surrogate pairs (UTF-16), split by odd chunk sizes.
  const names = ['José Conceição', 'Zoë €uro', 'Ana 🇧🇷 Silva', 'Łukasz Żółw', '山田 太郎'];
  const rowsOf = (n: number) => Array.from({ length: n }, (_, i) => `u${i}@example.com,${names[i % 5]}`);
  const text = `email,name\r\n${rowsOf(4000).join('\r\n')}\r\n`;

  it.each([
    { name: 'UTF-8', content: Buffer.from(text), encoding: 'utf-8', chunkSize: 3 },
    { name: 'UTF-8 with BOM', content: Buffer.from(`\ufeff${text}`), encoding: 'utf-8', chunkSize: 7 },
    {
      name: 'UTF-16LE with BOM',
      content: Buffer.from(`\ufeff${text}`, 'utf16le'),
      encoding: 'utf-16le',
      chunkSize: 7,
    },
    { name: 'UTF-16BE with BOM', content: utf16be(`\ufeff${text}`), encoding: 'utf-16be', chunkSize: 3 },
    {
      name: 'UTF-16LE without BOM',
      content: Buffer.from(text, 'utf16le'),
      encoding: 'utf-16le',
      chunkSize: 1,
    },
  ])('$name in chunks of $chunkSize bytes', async ({ content, encoding, chunkSize }) => {
    expect(content.length).toBeGreaterThan(64 * 1024);
    const { encoding: got, records } = await openAll(content, { chunkSize });
    expect(got).toBe(encoding);
    expect(records).toHaveLength(4000);
    expect(records.map((r) => r.cells[1])).toEqual(rowsOf(4000).map((r) => r.split(',')[1]));
    expect(records.at(-1)?.line).toBe(4001);
  });

  it('Windows-1252 in chunks of 7 bytes: accents after the sample decode too', async () => {
    const cp1252 = `email;nome\r\n${'a@x.com;Conceição\r\n'.repeat(5000)}b@x.com;Ação Übersee\r\n`;
    const { encoding, records } = await openAll(latin1(cp1252), { chunkSize: 7 });
    expect(encoding).toBe('windows-1252');
    expect(records.at(-1)).toEqual({ line: 5002, cells: ['b@x.com', 'Ação Übersee'] });
  });
});
