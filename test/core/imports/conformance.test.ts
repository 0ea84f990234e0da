/**
 * Third-party CSV conformance files (test/fixtures/corpora/csv/conformance/; source and licence in the
 * README of each folder) read through `readRawTable`: the importer's own decoding (sniff.ts),
 * delimiter ranking (dialect.ts, the one `openTable` uses) and csv-parse options (`parserOptions`),
 * without the e-mail header `openTable` requires. Every file is fed in chunks of 1, 3, 7 and 65,536
 * bytes, so multi-byte characters (UTF-8, UTF-16) are split across chunks, and every feed must read
 * the same rows.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { Delimiter } from '../../../src/core/imports/dialect.js';
import type { Encoding } from '../../../src/core/imports/sniff.js';
import { readRawTable } from '../../../src/core/imports/table.js';
import { DomainError, type ErrorCode } from '../../../src/errors.js';
import { bytes } from '../../helpers.js';

const corpus = new URL('../../fixtures/corpora/csv/conformance/', import.meta.url);
const file = (path: string) => readFileSync(new URL(path, corpus));
const csvsIn = (dir: string) => readdirSync(new URL(dir, corpus)).filter((n) => n.endsWith('.csv'));
const json = (path: string): unknown => JSON.parse(file(path).toString('utf8'));

const chunkSizes = [1, 3, 7, 64 * 1024];
type Read = { encoding: Encoding; delimiter: Delimiter; rows: string[][]; lines: number[] };

async function readOnce(content: Uint8Array | string, chunkSize: number): Promise<Read> {
  const table = await readRawTable(bytes(content, chunkSize), { maxBytes: 10 * 1024 * 1024 });
  const rows: string[][] = [];
  const lines: number[] = [];
  for await (const batch of table.records) {
    for (const r of batch) {
      rows.push(r.cells);
      lines.push(r.line);
    }
  }
  return { encoding: table.encoding, delimiter: table.delimiter, rows, lines };
}

/** Reads the content fed in every chunk size, and checks each feed reads the same. */
async function read(content: Uint8Array | string): Promise<Read> {
  const [first, ...rest] = await Promise.all(chunkSizes.map((n) => readOnce(content, n)));
  for (const r of rest) expect(r).toEqual(first);
  return first!;
}

/** The refusal for content fed in every chunk size (the same one each time). */
async function refusal(content: Uint8Array | string): Promise<DomainError> {
  const outcomes = await Promise.all(
    chunkSizes.map((n) =>
      readOnce(content, n).then(
        () => 'read without error',
        (e: unknown) => e,
      ),
    ),
  );
  const [first] = outcomes;
  if (!(first instanceof DomainError)) throw new Error(`expected a DomainError, got ${String(first)}`);
  for (const e of outcomes) expect(e).toEqual(first);
  return first;
}

/** What the importer sees of a row list: trimmed cells, blank rows gone (it trims and skips blank lines). */
const asImported = (rows: string[][]) =>
  rows.map((r) => r.map((c) => c.trim())).filter((r) => r.some((c) => c !== ''));

describe('csv-spectrum (max-mapper/csv-spectrum 2.0.0, BSD-2-Clause)', () => {
  const spectrumJson = z.union([z.array(z.record(z.string(), z.string())), z.record(z.string(), z.string())]);
  const names = csvsIn('csv-spectrum/csvs/');
  it('has its 12 files', () => expect(names).toHaveLength(12));

  for (const name of names) {
    it(`${name}: rows keyed by the header equal the JSON`, async () => {
      const parsed = spectrumJson.parse(json(`csv-spectrum/json/${name.replace(/\.csv$/, '.json')}`));
      // Known upstream defects (csv-spectrum/README.md): location_coordinates.json is one object, not
      // an array of rows, and its phone (1234567890) is not the CSV's (2095257564). Wrap it, and take
      // the phone from the CSV; every other value (the U+FFFD characters included) is compared.
      const expected =
        name === 'location_coordinates.csv' && !Array.isArray(parsed)
          ? [{ ...parsed, 'Contact Phone Number': '2095257564' }]
          : parsed;
      if (!Array.isArray(expected)) throw new Error(`${name}: expected rows are not an array`);

      const { encoding, delimiter, rows } = await read(file(`csv-spectrum/csvs/${name}`));
      const [header, ...body] = rows;
      expect([encoding, delimiter]).toEqual(['utf-8', ',']);
      expect(body.map((r) => Object.fromEntries(header!.map((h, i) => [h, r[i]])))).toEqual(expected);
    });
  }
});

describe('RFC 4180 section 2 examples (byte-exact, CRLF)', () => {
  const { expected_rows } = z
    .object({ expected_rows: z.record(z.string(), z.array(z.array(z.string()))) })
    .parse(json('rfc4180/expected.json'));
  it('has an expectation for each of its 7 files', () =>
    expect(Object.keys(expected_rows).sort()).toEqual(csvsIn('rfc4180/').sort()));

  for (const [name, want] of Object.entries(expected_rows)) {
    // Raw records, header included: 2.3's three "field_name" columns stay three columns.
    it(name, async () => expect((await read(file(`rfc4180/${name}`))).rows).toEqual(want));
  }

  it('2.6: a record with CRLF inside quotes spans two lines, the next record starts on line 3', async () => {
    expect((await read(file('rfc4180/rfc4180_2.6_crlf_inside_quotes.csv'))).lines).toEqual([1, 3]);
  });
});

type Expectation = { encoding: Encoding; rows: string[][] } | { refused: ErrorCode; message: RegExp };

describe('csvkit examples (wireservice/csvkit examples/, MIT)', () => {
  const abc = ['a', 'b', 'c'];
  const ws = '\t\n\u000b\f\r';
  const utf8 = (rows: string[][]): Expectation => ({ encoding: 'utf-8', rows });
  const ragged = [
    ['column_a', 'column_b', 'column_c'],
    ['1', '27', '', "I'm too long!"],
    ['', "I'm too short!"],
    ['0', 'mixed types.... uh oh', '17'],
  ];
  const expected: Record<string, Expectation> = {
    'bad.csv': utf8(ragged),
    // Blank lines before the header are skipped.
    'bad_skip_lines.csv': utf8(ragged),
    'blanks.csv': utf8([
      ['a', 'b', 'c', 'd', 'e', 'f'],
      ['', 'NA', 'N/A', 'NONE', 'NULL', '.'],
    ]),
    // A single line break is not a table.
    'empty.csv': { refused: 'empty_file', message: /no text in it.*CSV/ },
    // Classic Mac: CR-only line ends, one CR inside a quoted field.
    'mac_newlines.csv': utf8([abc, ['1', '2', '3'], ['Once upon\ra time', '5', '6']]),
    'no_header_row.csv': utf8([['1', '2', '3']]),
    // The NUL byte is dropped; the row keeps its three cells.
    'null_byte.csv': utf8([abc, ['', '2', '3']]),
    'optional_quote_characters.csv': utf8([abc, ['1', '2', '3']]),
    'test_empty_columns_long_row.csv': utf8([abc, ['', '', '', '']]),
    'test_empty_columns_short_row.csv': utf8([abc, ['', '']]),
    'test_extra_header.csv': utf8([
      ['a', 'b', 'c', 'd'],
      ['1', '2', '3'],
    ]),
    // Whitespace and line breaks inside a quoted header are kept: trimming stops at the quotes.
    'test_header_newline.csv': utf8([
      [`${ws} start ${ws} end ${ws}`, 'b', 'c'],
      ['d', 'e', 'f'],
    ]),
    'test_latin1.csv': { encoding: 'windows-1252', rows: [abc, ['1', '2', '3'], ['4', '5', '©']] },
    'test_locale.csv': utf8([abc, ['1,7', '200.000.000', '']]),
    'test_skip_lines.csv': utf8([abc, ['1', '2', '3']]),
    'test_utf16_big.csv': { encoding: 'utf-16be', rows: [abc, ['1', '2', '3'], ['4', '5', 'ʤ']] },
    'test_utf16_little.csv': { encoding: 'utf-16le', rows: [abc, ['1', '2', '3'], ['4', '5', 'ʤ']] },
    'test_utf8.csv': utf8([
      ['foo', 'bar', 'baz'],
      ['1', '2', '3'],
      ['4', '5', 'ʤ'],
    ]),
    'test_utf8_bom.csv': utf8([
      ['foo', 'bar', 'baz'],
      ['1', '2', '3'],
      ['4', '5', 'ʤ'],
    ]),
  };

  it('has an expectation for each of its 19 files', () =>
    expect(Object.keys(expected).sort()).toEqual(csvsIn('csvkit/').sort()));

  for (const [name, want] of Object.entries(expected)) {
    it(name, async () => {
      const content = file(`csvkit/${name}`);
      if ('refused' in want) {
        const e = await refusal(content);
        expect(e.code).toBe(want.refused);
        expect(e.message).toMatch(want.message);
        return;
      }
      const { encoding, rows } = await read(content);
      expect({ encoding, rows }).toEqual(want);
    });
  }

  it('blank lines before the header do not shift line numbers', async () => {
    expect((await read(file('csvkit/test_skip_lines.csv'))).lines).toEqual([4, 5]);
  });
});

describe('csvlint fixtures (Data-Liberation-Front/csvlint.rb features/fixtures/, MIT)', () => {
  const data = [
    ['Biff', 'Baff', 'Boff'],
    ['Qux', 'Teaspoon', 'Doge'],
  ];
  // Upstream spells the second header "Bsr" in most files and "Bar" in cr-line-endings.csv.
  const bsr = [['Foo', 'Bsr', 'Baz'], ...data];
  const expected: Record<string, string[][]> = {
    'cr-line-endings.csv': [['Foo', 'Bar', 'Baz'], ...data],
    'crlf-line-endings.csv': bsr,
    'inconsistent-line-endings.csv': bsr,
    'inconsistent-line-endings-unquoted.csv': bsr,
    'lf-line-endings.csv': bsr,
    // A title row before the header is a record of its own here; the importer skips it as preamble
    // when a later row is the header.
    'title-row.csv': [['This is a title row', '', ''], ...bsr],
    'valid.csv': [
      ['Foo', 'Bar', 'Baz'],
      ['1', '2', '3'],
      ['3', '2', '1'],
    ],
    'windows-line-endings.csv': [
      ['a', 'b', 'c'],
      ['d', 'e', 'f'],
    ],
  };

  it('has an expectation for each of its 9 files', () =>
    expect([...Object.keys(expected), 'invalid-byte-sequence.csv'].sort()).toEqual(
      csvsIn('csvlint/').sort(),
    ));

  for (const [name, rows] of Object.entries(expected)) {
    it(name, async () => {
      const got = await read(file(`csvlint/${name}`));
      expect({ encoding: got.encoding, rows: got.rows }).toEqual({ encoding: 'utf-8', rows });
      expect(got.lines).toEqual(rows.map((_, i) => i + 1));
    });
  }

  it('invalid-byte-sequence.csv: the ISO-8859-1 Brazilian bank export (CRLF) decodes as Windows-1252', async () => {
    const { encoding, rows, lines } = await read(file('csvlint/invalid-byte-sequence.csv'));
    expect(encoding).toBe('windows-1252');
    expect(rows[0]).toEqual([
      'Data',
      'Dependencia Origem',
      'Histórico',
      'Data do Balancete',
      'Número do documento',
      'Valor',
      '',
    ]);
    expect(rows).toHaveLength(24);
    expect(rows.every((r) => r.length === 7)).toBe(true);
    expect(lines).toEqual(rows.map((_, i) => i + 1));
    expect(rows[3]?.[2]).toBe('Depósito COMPE - 033 0502    27588602104 XXXXXXXXXXXXXX');
    expect(rows.map((r) => r[2])).toContain('Cobrança de I.O.F.');
    expect(JSON.stringify(rows)).not.toMatch(/\uFFFD|Ã/);
  });
});

const papaCase = z.object({
  description: z.string(),
  input: z.string(),
  config: z.record(z.string(), z.unknown()).optional(),
  config_has_function: z.boolean().optional(),
  expected: z.object({
    data: z.array(z.unknown()),
    errors: z.array(z.unknown()),
    meta: z.object({ delimiter: z.string().optional() }).loose().optional(),
  }),
});
type PapaCase = z.infer<typeof papaCase>;

describe('PapaParse parser cases (mholt/PapaParse tests/, MIT)', () => {
  // papaparse_test_cases.json is plain JSON (both lists are JSON arrays), read here like every other
  // corpus file; zod checks its shape.
  const lists = z
    .object({ CORE_PARSER_TESTS: z.array(papaCase), PARSE_TESTS: z.array(papaCase) })
    .parse(json('papaparse/papaparse_test_cases.json'));
  const all = Object.entries(lists).flatMap(([list, cases]) =>
    cases.map((c, i) => ({ ...c, name: `${list}[${i}] ${c.description}` })),
  );
  const ourDelimiters: readonly string[] = [',', ';', '\t', '|'];
  // We always skip blank lines and accept \r\n, \n and \r alike, so these options do not change what
  // we should read; a configured delimiter is only a hint that detection must reach on its own.
  const neutralOptions = new Set(['delimiter', 'newline', 'skipEmptyLines']);

  /** header mode, dynamicTyping, comments, preview, skipFirstNLines, quoteChar, escapeChar, fastMode, or a callback. */
  const usesPapaOnlyConfig = (c: PapaCase) =>
    c.config_has_function === true || Object.keys(c.config ?? {}).some((k) => !neutralOptions.has(k));
  /** ASCII 30, ASCII 31, "\n", ", ": not one of , ; tab |. */
  const usesDelimiterWeDoNotRead = (c: PapaCase) =>
    typeof c.config?.delimiter === 'string' && !ourDelimiters.includes(c.config.delimiter);

  // Where the importer differs on purpose; each is asserted below with what we do instead.
  const refused: Record<string, ErrorCode> = {
    // PapaParse reads on and reports an error; the importer refuses the file, saying which line to fix.
    'CORE_PARSER_TESTS[19] Quoted field has no closing quote': 'malformed_csv',
    'CORE_PARSER_TESTS[20] Quoted field has invalid trailing quote after delimiter with a valid closer':
      'malformed_csv',
    'CORE_PARSER_TESTS[21] Quoted field has invalid trailing quote after delimiter': 'malformed_csv',
    'CORE_PARSER_TESTS[22] Quoted field has invalid trailing quote before delimiter': 'malformed_csv',
    'CORE_PARSER_TESTS[23] Quoted field has invalid trailing quote after new line': 'malformed_csv',
    // An empty input is an empty file to the importer, not an empty table.
    'CORE_PARSER_TESTS[35] Empty input string': 'empty_file',
    'PARSE_TESTS[49] Empty input string': 'empty_file',
    'PARSE_TESTS[62] Skip empty lines, with empty input': 'empty_file',
  };
  const readOtherwise: Record<string, string[][]> = {
    // PapaParse keeps ` "B" ` as data; we trim around fields (as spreadsheet users expect), so the
    // quotes are quotes and `a, "b, c"` reads as two cells.
    'CORE_PARSER_TESTS[17] Quoted field with whitespace around quotes': [['A', 'B', 'C']],
    // PapaParse takes the first line ending as the only one; real exports mix them (csvlint's
    // inconsistent-line-endings files), so we split on \r\n, \n and \r anywhere.
    'PARSE_TESTS[9] Mixed slash n and slash r should choose first as precident': [
      ['a', 'b', 'c'],
      ['d', 'e', 'f'],
      ['g', 'h', 'i'],
    ],
  };

  const papaOnly = all.filter(usesPapaOnlyConfig);
  const otherDelimiter = all.filter((c) => !usesPapaOnlyConfig(c) && usesDelimiterWeDoNotRead(c));
  const run = all.filter((c) => !usesPapaOnlyConfig(c) && !usesDelimiterWeDoNotRead(c));
  const same = run.filter((c) => !(c.name in refused) && !(c.name in readOtherwise));

  // 160 cases: 67 configure PapaParse-only behaviour, 5 a delimiter we do not read; of the 88 run,
  // 78 give PapaParse's data (after trimming cells and dropping blank rows) and 10 differ on purpose
  // (listed above: 8 refused, 2 read our way).
  it('runs 88 of the 160 cases', () => {
    expect({ all: all.length, papaOnly: papaOnly.length, otherDelimiter: otherDelimiter.length }).toEqual({
      all: 160,
      papaOnly: 67,
      otherDelimiter: 5,
    });
    expect({ run: run.length, same: same.length }).toEqual({ run: 88, same: 78 });
    expect(run.map((c) => c.name)).toEqual(
      expect.arrayContaining([...Object.keys(refused), ...Object.keys(readOtherwise)]),
    );
  });

  for (const c of same) {
    // Compared after trimming cells and dropping blank rows: the importer trims every value and skips
    // blank lines, so `a,\tb ,c` reads as a, b, c.
    it(c.name, async () => {
      const want = asImported(z.array(z.array(z.string())).parse(c.expected.data));
      const got = await read(c.input);
      expect(asImported(got.rows)).toEqual(want);
      const delimiter = c.config?.delimiter ?? c.expected.meta?.delimiter;
      if (delimiter !== undefined && want.some((r) => r.length > 1)) expect(got.delimiter).toBe(delimiter);
    });
  }

  for (const [name, code] of Object.entries(refused)) {
    it(`${name}: refused (${code})`, async () => {
      const c = all.find((x) => x.name === name)!;
      const e = await refusal(c.input);
      expect(e.code).toBe(code);
      if (code === 'malformed_csv') {
        expect(e.details).toMatchObject({ line: 1 });
        expect(e.message).toMatch(/at line 1: .*quote/);
      }
    });
  }

  for (const [name, rows] of Object.entries(readOtherwise)) {
    it(`${name}: read our way`, async () => {
      const c = all.find((x) => x.name === name)!;
      expect(asImported((await read(c.input)).rows)).toEqual(rows);
    });
  }

  it('utf-8-bom-sample.csv: the BOM is not part of the first header', async () => {
    expect((await read(file('papaparse/utf-8-bom-sample.csv'))).rows).toEqual([
      ['A', 'B', 'C'],
      ['X', 'Y', 'Z'],
    ]);
  });
});
