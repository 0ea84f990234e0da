import { describe, expect, it } from 'vitest';
import { type Delimiter, detectDelimiter, detectDialect } from '../../../src/core/imports/dialect.js';
import { openTable, readRawTable, type TableRecord } from '../../../src/core/imports/table.js';
import { DomainError } from '../../../src/errors.js';
import { bytes } from '../../helpers.js';

const maxBytes = 10 * 1024 * 1024;

async function collect(records: AsyncIterable<TableRecord[]>): Promise<TableRecord[]> {
  const out: TableRecord[] = [];
  for await (const batch of records) out.push(...batch);
  return out;
}

async function openAll(content: string | Uint8Array, chunkSize?: number) {
  const table = await openTable(bytes(content, chunkSize), { maxBytes });
  return { dialect: table.dialect, records: await collect(table.records) };
}

async function refusalOf(read: () => Promise<unknown>): Promise<DomainError> {
  const e = await read().then(
    () => 'read without error',
    (err: unknown) => err,
  );
  if (!(e instanceof DomainError)) throw new Error(`expected a DomainError, got ${String(e)}`);
  return e;
}

/** Reads the whole file through openTable and returns its refusal. */
const openRefusal = (content: string, chunkSize?: number) => refusalOf(() => openAll(content, chunkSize));

describe('delimiter detection', () => {
  const files: [Delimiter, string][] = [
    [',', 'email,name,company\nana@x.com,"Silva; Ana",Acme | Co\nbia@x.com,Bia,Beta\n'],
    [';', 'email;nome;empresa\nana@x.com;Silva, Ana;Acme | Co\nbia@x.com;Bia;Beta\n'],
    ['\t', 'email\tname\tcompany\nana@x.com\tSilva, Ana; Jr\tAcme | Co\nbia@x.com\tBia\tBeta\n'],
    ['|', 'email|name|company\nana@x.com|Silva, Ana; Jr|Acme\nbia@x.com|Bia|Beta\n'],
  ];

  it.each(files)('finds %j even when the values hold the other delimiters', async (delimiter, text) => {
    expect(detectDialect(text, true).delimiter).toBe(delimiter);
    expect(detectDelimiter(text, true)).toBe(delimiter);
    const { dialect, records } = await openAll(text, 3);
    expect(dialect.header).toEqual(text.split('\n')[0]!.split(delimiter));
    expect(records.map((r) => r.cells[1])).toEqual([
      delimiter === ',' ? 'Silva; Ana' : delimiter === ';' ? 'Silva, Ana' : 'Silva, Ana; Jr',
      'Bia',
    ]);
  });

  it('finds the delimiter of a table without an e-mail column (what readRawTable reads)', () => {
    expect(detectDelimiter('a;b;c\n1;2,5;3\n4;5;6\n', true)).toBe(';');
    expect(detectDelimiter('a\tb\n1,5\t2\n', true)).toBe('\t');
    expect(() => detectDialect('a;b;c\n1;2;3\n', true)).toThrow(/No e-mail column found/);
  });

  it('judges the lines before an unclosed quote, without re-parsing the sample line by line', () => {
    const rows = Array.from({ length: 6000 }, (_, i) => `u${i}@x.co,N`).join('\n');
    const sample = `email,name\n"a@x.co,Ana\n${rows}\n`.slice(0, 64 * 1024);
    const started = performance.now();
    const dialect = detectDialect(sample, false);
    // Retrying one line shorter each time took 16 s here, blocking the event loop; one retry takes ms.
    expect(performance.now() - started).toBeLessThan(2000);
    expect(dialect).toMatchObject({ delimiter: ',', headerIndex: 0, header: ['email', 'name'] });
  });
});

describe('preamble before the header', () => {
  // LinkedIn's Connections.csv (2024), preamble as in test/fixtures/corpora/csv/export-headers.json.
  const linkedIn =
    'Notes:\n' +
    '"When exporting your connection data, you may notice that some of the email addresses are missing. ' +
    'You will only see email addresses for connections who have allowed their connections to see or download ' +
    'their email address using this setting https://www.linkedin.com/psettings/privacy/email. ' +
    'You can learn more here https://www.linkedin.com/help/linkedin/answer/261"\n' +
    '\n' +
    'First Name,Last Name,URL,Email Address,Company,Position,Connected On\n' +
    'Vikram ,Singh,https://www.linkedin.com/in/vsingh,vikram.singh@example.com,Acme Ltd,Sr. IT Recruiter ,02 Jun 2022\n' +
    'José,"Núñez, MBA",https://www.linkedin.com/in/jnunez,jose.nunez@example.org,Gamma™,CTO,11 Mar 2024';

  it.each([1, 7, 64 * 1024])(
    "skips LinkedIn's Notes: line, quoted sentence and blank line (chunks of %i bytes)",
    async (chunkSize) => {
      const { dialect, records } = await openAll(linkedIn, chunkSize);
      expect(dialect).toMatchObject({ delimiter: ',', headerIndex: 2 });
      expect(dialect.header[3]).toBe('Email Address');
      expect(records).toEqual([
        {
          line: 5,
          cells: [
            'Vikram',
            'Singh',
            'https://www.linkedin.com/in/vsingh',
            'vikram.singh@example.com',
            'Acme Ltd',
            'Sr. IT Recruiter',
            '02 Jun 2022',
          ],
        },
        {
          line: 6,
          cells: [
            'José',
            'Núñez, MBA',
            'https://www.linkedin.com/in/jnunez',
            'jose.nunez@example.org',
            'Gamma™',
            'CTO',
            '11 Mar 2024',
          ],
        },
      ]);
    },
  );

  it('openTable hands over the same records readRawTable reads, after the preamble and header', async () => {
    const raw = await collect((await readRawTable(bytes(linkedIn, 5), { maxBytes })).records);
    const { records } = await openAll(linkedIn, 5);
    expect(raw.slice(3)).toEqual(records);
  });
});

describe('line numbers', () => {
  it('an unclosed quote is refused at the line where the quote opens, not where the file ends', async () => {
    for (const eol of ['\n', '\r\n', '\r']) {
      const text = ['email,name', 'a@x.com,Ana', '"b@x.com,Bia', 'c@x.com,Caio', 'd@x.com,Dani', ''].join(
        eol,
      );
      for (const chunkSize of [1, 3, 64 * 1024]) {
        const e = await openRefusal(text, chunkSize);
        expect(e.code).toBe('malformed_csv');
        expect(e.details).toEqual({ line: 3, parserCode: 'CSV_QUOTE_NOT_CLOSED' });
        expect(e.message).toMatch(/at line 3: a quoted field is never closed/);
      }
    }
  });

  it('blank lines and CRLF inside earlier quoted fields do not shift the line of a broken record', async () => {
    const text = 'email,note\r\na@x.com,"two\r\nlines"\r\n\r\n\r\nb@x.com,"Ana "Bia" Silva"\r\n';
    const e = await openRefusal(text, 2);
    expect(e.details).toEqual({ line: 6, parserCode: 'CSV_NON_TRIMABLE_CHAR_AFTER_CLOSING_QUOTE' });
    expect(e.message).toMatch(/at line 6: .*quote inside a value must be doubled/);
  });

  it('a broken record after thousands of good ones in the same chunk is placed after them', async () => {
    const good = Array.from({ length: 2000 }, (_, i) => `u${i}@example.com,Name ${i}`).join('\n');
    const text = `email,name\n${good}\nbad@x.com,"Ana "Bia" Silva"\nz@x.com,Z\n`;
    expect((await openRefusal(text)).details).toMatchObject({ line: 2002 });
  });

  it('a record longer than 1 MB (a quote that swallows the file) is refused at its line', async () => {
    const text = `email,note\na@x.com,ok\nb@x.com,"${'x'.repeat(1024 * 1024 + 10)}\nc@x.com,z\n`;
    const e = await openRefusal(text);
    expect(e.details).toEqual({ line: 3, parserCode: 'CSV_MAX_RECORD_SIZE' });
    expect(e.message).toMatch(/CSV at line 3: a record is longer than 1048576 characters/);
  });

  it('records carry the line they start on, across every line ending, blank line and chunk boundary', async () => {
    // Seeded generator: the same 6,000 records (about 120 KB, beyond the 64 KB sample) every run.
    let seed = 7;
    const pick = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    const eols = ['\n', '\r\n', '\r'];
    const eol = () => eols[pick(3)]!;
    let text = 'email,note,city\n';
    const want: TableRecord[] = [];
    for (let i = 0; i < 6000; i++) {
      while (pick(5) === 0) text += (pick(2) ? '  ' : '') + eol();
      const note = pick(3) === 0 ? `multi${eol()}line ção${eol()}x` : `note ${i} é`;
      const cells = [`u${i}@example.com`, note, 'São Paulo'];
      want.push({ line: 1 + (text.match(/\r\n|\r|\n/g) ?? []).length, cells });
      text += `${cells[0]},${/[\r\n]/.test(note) || pick(2) ? `"${note}"` : note},${cells[2]}${eol()}`;
    }
    for (const chunkSize of [1, 7, 4096]) {
      expect((await openAll(text, chunkSize)).records).toEqual(want);
    }
  });
});
