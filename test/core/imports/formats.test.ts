/**
 * The import engine against the shapes of real contact exports. Fixtures in test/fixtures/csv are
 * synthetic (see its README) and follow test/fixtures/corpora/csv/export-headers.json; the first block
 * checks that they still do. Every import goes through the real engine and a migrated SQLite file, and the
 * outcome is read back: the report counts and the stored contacts.
 */
import { readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { ImportReport } from '../../../src/core/batches/batch.js';
import { DomainError } from '../../../src/errors.js';
import { importText, testCore } from '../../helpers.js';

const fixture = (name: string): Buffer =>
  readFileSync(new URL(`../../fixtures/csv/${name}`, import.meta.url));

const headerList = z.array(z.string()).min(1);
const facts = z
  .object({
    linkedin_connections: z.object({ header: headerList, preamble_exact: z.string() }),
    google_contacts_2020s: z.object({ header: headerList }),
    google_contacts_legacy: z.object({ header: headerList }),
    outlook_csv_written_by_google: z.object({ header: headerList }),
    outlook_desktop: z.object({ header: headerList }),
    mailchimp_audience: z.object({ header: headerList }),
    hubspot_contacts: z.object({ header: headerList }),
    apollo_io: z.object({ header_2024_01: headerList, header_2024_08: headerList }),
    salesforce_report_classic: z.object({ footer_exact_lines: z.array(z.string()) }),
  })
  .parse(
    JSON.parse(
      readFileSync(new URL('../../fixtures/corpora/csv/export-headers.json', import.meta.url), 'utf8'),
    ),
  );

// Streaming decode: Node 20's one-shot TextDecoder('windows-1252') reads 0x80–0x9F as Latin-1
// (nodejs/node#56542). The UTF-8 decoder keeps a BOM, so tests can see it.
const cp1252 = { decode: (b: Uint8Array) => new TextDecoder('windows-1252').decode(b, { stream: true }) };
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Every record of a text, as a strict RFC 4180 reader sees it. */
const records = (text: string, delimiter = ','): string[][] =>
  z.array(z.array(z.string())).parse(parse(text, { delimiter, relax_column_count: true, bom: true }));

// Windows-1252 bytes 0x80–0x9F ('\0' where the code page leaves a byte undefined).
const cp1252High = '€\0‚ƒ„…†‡ˆ‰Š‹Œ\0Ž\0\0‘’“”•–—˜™š›œ\0žŸ';

/** Text as Excel's "CSV (Comma delimited)" writes it in a Western locale. */
function toCp1252(text: string): Buffer {
  return Buffer.from(
    [...text].map((c) => {
      const code = c.codePointAt(0) ?? 0;
      if (code < 0x80 || (code >= 0xa0 && code <= 0xff)) return code;
      const high = cp1252High.indexOf(c);
      if (high < 0 || c === '\0') throw new Error(`${c} has no Windows-1252 byte`);
      return 0x80 + high;
    }),
  );
}

let core: ReturnType<typeof testCore>;
beforeEach(() => {
  core = testCore();
});
afterEach(() => core.cleanup());

type Stored = { email: string; name: string | null; company: string | null; position: string | null };

/** Every contact of a batch, in file order, through the service the transports use. */
async function storedContacts(batchId: string): Promise<Stored[]> {
  const out: Stored[] = [];
  let cursor: string | undefined;
  do {
    const page = await core.services.batches.contacts(batchId, { limit: 500, cursor });
    for (const { email, name, company, position } of page.contacts)
      out.push({ email, name, company, position });
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return out;
}

const counts = ({ rows, imported, invalid, duplicateInFile, existing, suppressed }: ImportReport) => ({
  rows,
  imported,
  invalid,
  duplicateInFile,
  existing,
  suppressed,
});

async function load(content: string | Uint8Array, opts: { fileName?: string; chunkSize?: number } = {}) {
  const r = await importText(core.services, content, opts);
  return { counts: counts(r.report), errors: r.report.errors, contacts: await storedContacts(r.batch.id) };
}

async function refusal(content: string | Uint8Array, fileName?: string): Promise<DomainError> {
  const err = await importText(core.services, content, { fileName }).catch((e: unknown) => e);
  if (!(err instanceof DomainError)) throw new Error(`expected a DomainError, got ${String(err)}`);
  // A refusal changes nothing.
  expect((await core.services.batches.list()).batches).toEqual([]);
  expect(core.db.$client.prepare('SELECT count(*) AS n FROM contacts').get()).toEqual({ n: 0 });
  return err;
}

const none = { duplicateInFile: 0, existing: 0, suppressed: 0 };

describe('the fixtures follow corpora/csv/export-headers.json', () => {
  const firstRecord = (name: string) => records(utf8.decode(fixture(name)))[0];

  it('LinkedIn 2024: exact preamble, then the header; LF, no BOM, no trailing newline', () => {
    const text = utf8.decode(fixture('linkedin_connections_2024.csv'));
    const { preamble_exact, header } = facts.linkedin_connections;
    expect(text.startsWith(`${preamble_exact}${header.join(',')}\n`)).toBe(true);
    expect(text).not.toMatch(/\r|^\uFEFF/);
    expect(text.endsWith('\n')).toBe(false);
  });

  it('LinkedIn 2018: the same header without URL; the re-saved copy wraps each record in one field', () => {
    const without = facts.linkedin_connections.header.filter((h) => h !== 'URL');
    expect(firstRecord('linkedin_connections_2018.csv')).toEqual(without);
    expect(firstRecord('linkedin_connections_resaved_broken.csv')).toEqual([
      facts.linkedin_connections.header.join(','),
    ]);
  });

  it('Google Contacts: current header after a UTF-8 BOM; legacy header', () => {
    const current = fixture('google_contacts_2020s.csv');
    expect([...current.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    expect(firstRecord('google_contacts_2020s.csv')).toEqual(facts.google_contacts_2020s.header);
    expect(firstRecord('google_contacts_legacy.csv')).toEqual(facts.google_contacts_legacy.header);
    expect(firstRecord('google_contacts_legacy_google_csv.csv')).toEqual(facts.google_contacts_legacy.header);
  });

  it('Outlook: the Google-written header; the desktop files are cp1252, CRLF, every field quoted', () => {
    expect(firstRecord('outlook_csv_by_google.csv')).toEqual(facts.outlook_csv_written_by_google.header);
    for (const name of ['outlook_desktop_cp1252.csv', 'outlook_desktop_exchange_cp1252.csv']) {
      const bytes = fixture(name);
      expect(() => utf8.decode(bytes), `${name} is not UTF-8`).toThrow();
      const text = cp1252.decode(bytes);
      expect(records(text)[0]).toEqual(facts.outlook_desktop.header);
      expect(text.endsWith('\r\n')).toBe(true);
      // Every line break outside a quoted field is CRLF, and every field is quoted.
      const outside = text.replace(/"(?:[^"]|"")*"/g, '');
      expect(outside.replace(/\r\n/g, '')).toMatch(/^,*$/);
    }
  });

  it('Mailchimp: merge fields, then the system columns; opted-out exports add UNSUB_* or CLEAN_*', () => {
    const header = facts.mailchimp_audience.header;
    const system = header.slice(3);
    expect(firstRecord('mailchimp_subscribed.csv')).toEqual(header);
    expect(firstRecord('mailchimp_subscribed_tags.csv')).toEqual([
      ...header.slice(0, 3),
      'Company',
      'Phone Number',
      ...system,
      'TAGS',
    ]);
    expect(firstRecord('mailchimp_unsubscribed.csv')).toEqual([
      ...header,
      'UNSUB_TIME',
      'UNSUB_CAMPAIGN_TITLE',
      'UNSUB_CAMPAIGN_ID',
      'UNSUB_REASON',
      'UNSUB_REASON_OTHER',
    ]);
    expect(firstRecord('mailchimp_cleaned.csv')).toEqual([
      ...header,
      'CLEAN_TIME',
      'CLEAN_CAMPAIGN_TITLE',
      'CLEAN_CAMPAIGN_ID',
    ]);
    // Header names with spaces are quoted, the others not.
    expect(utf8.decode(fixture('mailchimp_subscribed_tags.csv'))).toMatch(
      /^"Email Address","First Name","Last Name",Company,"Phone Number",MEMBER_RATING,/,
    );
  });

  it('HubSpot: the default view (one file adds Job Title), quoted', () => {
    const header = facts.hubspot_contacts.header;
    expect(firstRecord('hubspot_contacts.csv')).toEqual(header);
    expect(firstRecord('hubspot_crm_exports_all_contacts.csv')).toEqual([
      ...header.slice(0, 5),
      'Job Title',
      ...header.slice(5),
    ]);
    expect(utf8.decode(fixture('hubspot_crm_exports_all_contacts.csv'))).toMatch(
      /^"Record ID","First Name",/,
    );
  });

  it('Apollo: both 2024 headers; LF record ends with CRLF inside quoted text', () => {
    expect(firstRecord('apollo_contacts.csv')).toEqual(facts.apollo_io.header_2024_08);
    expect(firstRecord('apollo_contacts_export_2024-01.csv')).toEqual(facts.apollo_io.header_2024_01);
    const text = utf8.decode(fixture('apollo_contacts_export_2024-01.csv'));
    expect(text).toContain('\r\n');
    expect(text.replace(/"(?:[^"]|"")*"/g, '')).not.toContain('\r');
  });

  it('Salesforce: the documented footer after two empty lines', () => {
    const text = utf8.decode(fixture('salesforce_report.csv'));
    const footer = facts.salesforce_report_classic.footer_exact_lines;
    const lines = text.trimEnd().split('\n');
    const tail = lines.slice(-footer.length);
    footer.forEach((pattern, i) => {
      const re = new RegExp(`^${pattern.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/<[^>]+>/g, '.+')}$`);
      expect(tail[i]).toMatch(re);
    });
    expect(utf8.decode(fixture('salesforce_report_grand_totals.csv'))).toMatch(
      /\n\n\n"Grand Totals \(2 records\)"\n.*\n"Copyright © 2000-\d{4} salesforce\.com, inc\. All rights reserved\."\n/,
    );
  });

  it('Brazilian Excel: ; and cp1252 with CRLF; Excel "Unicode text" is UTF-16LE with a BOM and tabs', () => {
    const br = fixture('excel_br_semicolon_cp1252.csv');
    expect(() => utf8.decode(br)).toThrow();
    expect(br.includes(Buffer.from([0xe3]))).toBe(true); // ã in cp1252
    expect(records(cp1252.decode(br), ';')[0]).toEqual(['Nome', 'Sobrenome', 'E-mail', 'Empresa', 'Cargo']);
    expect(cp1252.decode(br).split('\r\n').length).toBeGreaterThan(4);
    const utf16 = fixture('utf16le_bom.tsv');
    expect([...utf16.subarray(0, 2)]).toEqual([0xff, 0xfe]);
    expect(records(new TextDecoder('utf-16le').decode(utf16), '\t')[0]).toEqual([
      'E-mail Address',
      'Full Name',
      'Organization',
      'Job Title',
    ]);
  });
});

describe('Google Contacts', () => {
  it('current export: BOM, First/Middle/Last joined, multi-line Notes, ::: values, E-mail 2 when 1 is empty', async () => {
    const r = await load(fixture('google_contacts_2020s.csv'), { chunkSize: 7 });
    expect(r.counts).toEqual({ rows: 3, imported: 2, invalid: 1, ...none });
    expect(r.contacts).toEqual([
      // "ana.souza@example.com ::: ana@personal.example.net": the first valid address.
      { email: 'ana.souza@example.com', name: 'Ana Souza', company: 'Acme', position: 'CEO' },
      { email: 'bruno.reis@example.com', name: 'Bruno K. Reis', company: null, position: null },
    ]);
    // The phone-only contact; its line counts the line break inside Ana's Notes.
    expect(r.errors).toEqual([{ line: 5, reason: 'no e-mail address' }]);
  });

  it('legacy "Google CSV": Name first, Given + Family when Name is empty, Occupation as position', async () => {
    const r = await load(fixture('google_contacts_legacy_google_csv.csv'), { chunkSize: 7 });
    expect(r.counts).toEqual({ rows: 4, imported: 2, invalid: 2, ...none });
    expect(r.contacts).toEqual([
      { email: 'diego.alves@example.com', name: 'Diego Alves', company: null, position: 'Architect' },
      { email: 'eva.rocha@example.org', name: 'Eva Rocha', company: null, position: null },
    ]);
    expect(r.errors).toEqual([
      { line: 5, reason: 'invalid e-mail address "fernando.lima(at)example.com"' },
      { line: 6, reason: 'no e-mail address' },
    ]);
  });

  it('legacy, smallest shape', async () => {
    const r = await load(fixture('google_contacts_legacy.csv'));
    expect(r.counts).toEqual({ rows: 1, imported: 1, invalid: 0, ...none });
    expect(r.contacts).toEqual([
      { email: 'carla.dias@example.com', name: 'Carla Dias', company: null, position: null },
    ]);
  });
});

describe('Outlook', () => {
  it('desktop: every value quoted, cp1252, CRLF; Job Title; the address, never E-mail Display Name', async () => {
    const r = await load(fixture('outlook_desktop_cp1252.csv'), { chunkSize: 5 });
    expect(r.counts).toEqual({ rows: 2, imported: 2, invalid: 0, ...none });
    expect(r.contacts).toEqual([
      { email: 'joao.araujo@example.com', name: 'João Araújo', company: 'Açúcar Ltda', position: 'Diretor' },
      // Display name "Bia (bia@example.com)" sits beside the real address.
      { email: 'bia.goncalves@example.com', name: 'Beatriz Gonçalves', company: null, position: null },
    ]);
  });

  it('desktop with Exchange entries: display name alone is no address, EX falls back to E-mail 2', async () => {
    const r = await load(fixture('outlook_desktop_exchange_cp1252.csv'), { chunkSize: 7 });
    expect(r.counts).toEqual({
      rows: 5,
      imported: 3,
      invalid: 1,
      duplicateInFile: 1,
      existing: 0,
      suppressed: 0,
    });
    expect(r.contacts).toEqual([
      // cp1252 0x92 (’) and a CRLF inside the quoted street.
      {
        email: 'renee.obrien@example.com',
        name: 'Renée O’Brien',
        company: 'Brasserie Éclair',
        position: 'Head of Purchasing',
      },
      // E-mail Address holds an Exchange X.500 path (type EX); "Ms." in Title is not a position.
      { email: 'dana.wu@example.org', name: 'Dana Wu', company: 'Contoso Ltd', position: null },
      {
        email: 'zoe.aberg@example.com',
        name: 'Zoë M. Åberg',
        company: 'Fjällräven Trading AB',
        position: 'Key Account Manager',
      },
    ]);
    // Chris Ng has only "Chris Ng (chris.ng@example.com)" in E-mail Display Name.
    expect(r.errors).toEqual([{ line: 4, reason: 'no e-mail address' }]);
    expect(r.contacts.map((c) => c.email)).not.toContain('chris.ng@example.com');
  });

  it('"Outlook CSV" written by Google Contacts', async () => {
    const r = await load(fixture('outlook_csv_by_google.csv'));
    expect(r.counts).toEqual({ rows: 1, imported: 1, invalid: 0, ...none });
    expect(r.contacts).toEqual([
      { email: 'eva.melo@example.com', name: 'Eva Melo', company: 'Zeta', position: 'CFO' },
    ]);
  });
});

describe('LinkedIn', () => {
  const linkedin2024 = {
    counts: { rows: 5, imported: 2, invalid: 3, ...none },
    contacts: [
      // Unquoted "Vikram " and "Sr. IT Recruiter " lose their spaces.
      {
        email: 'vikram.singh@example.com',
        name: 'Vikram Singh',
        company: 'Acme Ltd',
        position: 'Sr. IT Recruiter',
      },
      { email: 'jose.nunez@example.org', name: 'José Núñez 🇧🇷', company: 'Gamma™', position: 'CTO' },
    ],
    // Most e-mails are empty; ",,,,,,03 Feb 2021" (a deleted member) is a row without one.
    errors: [
      { line: 6, reason: 'no e-mail address' },
      { line: 7, reason: 'no e-mail address' },
      { line: 9, reason: 'no e-mail address' },
    ],
  };

  it('2024: skips the Notes: preamble, reads the last record without a trailing newline', async () => {
    expect(await load(fixture('linkedin_connections_2024.csv'), { chunkSize: 7 })).toEqual(linkedin2024);
  });

  it('2024 with a BOM and CRLF line ends (as some copies arrive): same outcome', async () => {
    const text = utf8.decode(fixture('linkedin_connections_2024.csv')).replace(/\n/g, '\r\n');
    expect(await load(`\uFEFF${text}`, { chunkSize: 7 })).toEqual(linkedin2024);
  });

  it('2018: no URL column, no preamble; an urn:li:member value is an invalid address', async () => {
    const r = await load(fixture('linkedin_connections_2018.csv'));
    expect(r.counts).toEqual({ rows: 2, imported: 1, invalid: 1, ...none });
    expect(r.contacts).toEqual([
      { email: 'ana.lima@example.com', name: 'Ana Lima', company: 'Delta', position: 'Founder' },
    ]);
    expect(r.errors).toEqual([{ line: 3, reason: 'invalid e-mail address "urn:li:member:12345"' }]);
  });

  it('re-saved through a spreadsheet (each record in one quoted field): refused, naming what was found', async () => {
    const err = await refusal(fixture('linkedin_connections_resaved_broken.csv'));
    expect(err.code).toBe('no_email_column');
    expect(err.message).toContain('First Name,Last Name,URL,Email Address');
  });
});

describe('HubSpot', () => {
  it('quoted header and values; Associated Company; case-variant duplicates; a dotless domain', async () => {
    const r = await load(fixture('hubspot_crm_exports_all_contacts.csv'), { chunkSize: 7 });
    expect(r.counts).toEqual({
      rows: 5,
      imported: 2,
      invalid: 2,
      duplicateInFile: 1,
      existing: 0,
      suppressed: 0,
    });
    expect(r.contacts).toEqual([
      {
        email: 'helena.prado@example.com',
        name: 'Helena Prado',
        company: 'Prado & Filhos',
        position: 'Procurement Manager',
      },
      { email: 'igor.santos@example.net', name: 'Igor Santos', company: null, position: null },
    ]);
    expect(r.errors).toEqual([
      { line: 5, reason: 'invalid e-mail address "julia.reyes@example"' },
      { line: 6, reason: 'no e-mail address' },
    ]);
  });

  it('default view', async () => {
    const r = await load(fixture('hubspot_contacts.csv'));
    expect(r.counts).toEqual({ rows: 1, imported: 1, invalid: 0, ...none });
    expect(r.contacts).toEqual([
      { email: 'hugo.prado@example.com', name: 'Hugo Prado', company: 'Prado & Filhos', position: null },
    ]);
  });
});

describe('Mailchimp', () => {
  it('subscribed members export imports', async () => {
    const r = await load(fixture('mailchimp_subscribed.csv'));
    expect(r.counts).toEqual({ rows: 2, imported: 2, invalid: 0, ...none });
    expect(r.contacts).toEqual([
      { email: 'fabio@example.com', name: 'Fábio Lopes', company: null, position: null },
      { email: 'gina@example.com', name: 'Gina', company: null, position: null },
    ]);
  });

  it('newer subscribed export: merge fields (Company), quoted TAGS list, a case-variant duplicate', async () => {
    const r = await load(fixture('mailchimp_subscribed_tags.csv'), { chunkSize: 7 });
    expect(r.counts).toEqual({
      rows: 3,
      imported: 2,
      invalid: 0,
      duplicateInFile: 1,
      existing: 0,
      suppressed: 0,
    });
    expect(r.contacts).toEqual([
      {
        email: 'lara.mendes@example.com',
        name: 'Lara Mendes',
        company: 'Mendes Arquitetura',
        position: null,
      },
      { email: 'noah.kim@example.net', name: 'Noah Kim', company: null, position: null },
    ]);
  });

  it.each([
    ['unsubscribed_members_export_2f8a1c.csv', 'mailchimp_unsubscribed.csv'],
    ['cleaned_members_export_2f8a1c.csv', 'mailchimp_cleaned.csv'],
  ])('%s (UNSUB_* / CLEAN_* columns) is refused: opted_out_list', async (fileName, name) => {
    const err = await refusal(fixture(name), fileName);
    expect(err.code).toBe('opted_out_list');
    expect(err.message).toMatch(/subscribed members file/);
  });
});

describe('Apollo', () => {
  it('2024-08: Email, never Contact Owner; \' phones; "" empties; CRLF inside quoted text', async () => {
    const r = await load(fixture('apollo_contacts.csv'), { chunkSize: 11 });
    expect(r.counts).toEqual({ rows: 2, imported: 1, invalid: 1, ...none });
    expect(r.contacts).toEqual([
      { email: 'ivo.ramos@example.com', name: 'Ivo Ramos', company: 'Kappa', position: 'VP Sales' },
    ]);
    expect(r.errors).toEqual([{ line: 4, reason: 'no e-mail address' }]);
  });

  it('2024-01: Title as position, Company over Company Name for Emails, owners never imported', async () => {
    const r = await load(fixture('apollo_contacts_export_2024-01.csv'), { chunkSize: 7 });
    expect(r.counts).toEqual({ rows: 4, imported: 3, invalid: 1, ...none });
    expect(r.contacts).toEqual([
      {
        email: 'maya.patel@example.com',
        name: 'Maya Patel',
        company: 'Brightline Analytics',
        position: 'Head of Growth',
      },
      {
        email: 'lucia.fernandez@example.org',
        name: 'Lucía Fernández',
        company: 'Andes Retail',
        position: 'VP Sales',
      },
      { email: 'tom.becker@example.net', name: 'Tom Becker', company: 'Becker Logistics', position: null },
    ]);
    // Omar Haddad: Email Status "Unavailable", only the owner's address on the row.
    expect(r.errors).toEqual([{ line: 4, reason: 'no e-mail address' }]);
  });
});

describe('Salesforce report', () => {
  // The footer lines are read as rows without an address: counted invalid, never contacts.
  it('Classic footer after two empty lines', async () => {
    const r = await load(fixture('salesforce_report.csv'));
    expect(r.counts).toEqual({ rows: 6, imported: 1, invalid: 5, ...none });
    expect(r.contacts).toEqual([
      { email: 'karl.mendes@example.com', name: 'Karl Mendes', company: 'Mu Corp', position: 'Buyer' },
    ]);
    expect(r.errors.map((e) => e.line)).toEqual([5, 6, 7, 8, 9]);
  });

  it('newer footer (©, Grand Totals); bare LF in a street, CRLF in a text area', async () => {
    const r = await load(fixture('salesforce_report_grand_totals.csv'), { chunkSize: 7 });
    expect(r.counts).toEqual({ rows: 8, imported: 2, invalid: 6, ...none });
    expect(r.contacts).toEqual([
      { email: 'karin.meyer@example.com', name: 'Karin Meyer', company: 'Nordwind GmbH', position: 'Buyer' },
      {
        email: 'luis.ortega@example.org',
        name: 'Luis Ortega',
        company: 'Ortega y Hijos',
        position: 'Operations Director',
      },
    ]);
  });
});

describe('Excel', () => {
  it('Brazilian: ; delimiter, Windows-1252, CRLF, Nome + Sobrenome, E-mail, Empresa, Cargo', async () => {
    const r = await load(fixture('excel_br_semicolon_cp1252.csv'), { chunkSize: 4 });
    // ";;;;" is a blank line, not a row.
    expect(r.counts).toEqual({ rows: 3, imported: 2, invalid: 1, ...none });
    expect(r.contacts).toEqual([
      {
        email: 'joao.conceicao@example.com.br',
        name: 'João Conceição',
        company: 'Açúcar & Cia',
        position: 'Gerente',
      },
      {
        email: 'marcia.avila@example.com.br',
        name: 'Márcia Ávila',
        company: 'Pão de Queijo Ltda',
        position: 'Diretora de Operações',
      },
    ]);
    expect(r.errors).toEqual([{ line: 5, reason: 'no e-mail address' }]);
  });

  it('Windows-1252 punctuation (bytes 0x80–0x9F: ’ “ ” – €) in a small file keeps its characters', async () => {
    const text =
      'Nome;E-mail;Empresa;Cargo\r\nAna D’Ávila;ana@example.com.br;“Pão & Cia” €;Diretora – Vendas\r\n';
    const r = await load(toCp1252(text));
    expect(r.contacts).toEqual([
      {
        email: 'ana@example.com.br',
        name: 'Ana D’Ávila',
        company: '“Pão & Cia” €',
        position: 'Diretora – Vendas',
      },
    ]);
  });

  it('"CSV UTF-8": BOM', async () => {
    const r = await load(fixture('utf8_bom.csv'), { chunkSize: 1 });
    expect(r.counts).toEqual({ rows: 1, imported: 1, invalid: 0, ...none });
    expect(r.contacts).toEqual([
      { email: 'nina@example.com', name: 'Niña Ñandú', company: 'Ñ Corp', position: null },
    ]);
  });

  it('"Unicode text": UTF-16LE with BOM, tab-separated, CRLF', async () => {
    const r = await load(fixture('utf16le_bom.tsv'), { chunkSize: 3 });
    expect(r.counts).toEqual({ rows: 2, imported: 2, invalid: 0, ...none });
    expect(r.contacts).toEqual([
      { email: 'olga@example.com', name: 'Olga Ørsted', company: 'Øresund AB', position: 'COO' },
      { email: 'paulo@example.com', name: 'Paulo Ümit', company: 'Ü GmbH', position: 'Dev' },
    ]);
  });
});

describe('files larger than the 64 KB sample, streamed in 7-byte chunks', () => {
  const people = (n: number) =>
    Array.from({ length: n }, (_, i) => ({
      first: `João${i}`,
      last: 'Conceição',
      email: `joao.${i}@example.com.br`,
      company: 'Açúcar & Cia',
      position: 'Gerente de Operações',
    }));

  it('UTF-16LE with BOM, tab-separated: a code unit split across chunks still decodes', async () => {
    const list = people(1500);
    const text = [
      'E-mail Address\tFirst Name\tLast Name\tCompany\tJob Title',
      ...list.map((p) => [p.email, p.first, p.last, p.company, p.position].join('\t')),
    ].join('\r\n');
    const bytes = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(`${text}\r\n`, 'utf16le')]);
    expect(bytes.length).toBeGreaterThan(128 * 1024);
    const r = await load(bytes, { chunkSize: 7 });
    expect(r.counts).toEqual({ rows: 1500, imported: 1500, invalid: 0, ...none });
    expect(r.contacts.at(-1)).toEqual({
      email: 'joao.1499@example.com.br',
      name: 'João1499 Conceição',
      company: 'Açúcar & Cia',
      position: 'Gerente de Operações',
    });
    expect(r.contacts.filter((c) => c.name?.includes('\uFFFD'))).toEqual([]);
  });

  it('Windows-1252 with ;, CRLF and quoted CRLF, accents from the first row', async () => {
    const list = people(2000);
    const text = [
      'Nome;Sobrenome;E-mail;Empresa;Cargo;Observações',
      ...list.map((p) =>
        [p.first, p.last, p.email, p.company, p.position, '"Ligar às 10h;\r\nfalar com a Sônia"'].join(';'),
      ),
    ].join('\r\n');
    const bytes = Buffer.from(`${text}\r\n`, 'latin1');
    expect(bytes.length).toBeGreaterThan(128 * 1024);
    const r = await load(bytes, { chunkSize: 7 });
    expect(r.counts).toEqual({ rows: 2000, imported: 2000, invalid: 0, ...none });
    expect(r.contacts.at(-1)).toEqual({
      email: 'joao.1999@example.com.br',
      name: 'João1999 Conceição',
      company: 'Açúcar & Cia',
      position: 'Gerente de Operações',
    });
  });

  // Known failure outside this file set (sniff.ts / table.ts): the encoding is chosen from the first
  // 64 KB only, so a cp1252 file whose first accented byte comes later is read as UTF-8 and its names
  // get U+FFFD. Flip to `it` once fixed (see the report of this change).
  it('Windows-1252 whose first accent comes after the sample keeps its names', async () => {
    const ascii = Array.from({ length: 3000 }, (_, i) => `Ana${i};Silva;ana.${i}@example.com.br;Acme;Dev`);
    const text = [
      'Nome;Sobrenome;E-mail;Empresa;Cargo',
      ...ascii,
      'João;Conceição;joao@example.com.br;Açúcar;Gerente',
    ];
    const bytes = Buffer.from(`${text.join('\r\n')}\r\n`, 'latin1');
    expect(bytes.length).toBeGreaterThan(64 * 1024);
    const r = await load(bytes, { chunkSize: 4096 });
    expect(r.contacts.at(-1)).toEqual({
      email: 'joao@example.com.br',
      name: 'João Conceição',
      company: 'Açúcar',
      position: 'Gerente',
    });
  });
});

describe('values and headers', () => {
  it('Name <addr>, mailto:, Excel text marker, a value quoted twice, Google ::: (pipe-delimited file)', async () => {
    const r = await load(
      [
        'Name|E-mail',
        'Ana|Ana Souza <ANA@Example.com>',
        'Bia|mailto:bia@example.com?subject=Ol%C3%A1',
        "Caio|'caio@example.com",
        'Duda|"""DUDA@EXAMPLE.COM """',
        'Enzo|enzo(at)example.com ::: enzo@example.org',
        'Fábio|"""Fábio"" <fabio@example.net>"',
        '',
      ].join('\n'),
    );
    expect(r.counts).toEqual({ rows: 6, imported: 6, invalid: 0, ...none });
    expect(r.contacts.map((c) => [c.email, c.name])).toEqual([
      ['ana@example.com', 'Ana'],
      ['bia@example.com', 'Bia'],
      ['caio@example.com', 'Caio'],
      ['duda@example.com', 'Duda'],
      ['enzo@example.org', 'Enzo'],
      ['fabio@example.net', 'Fábio'],
    ]);
  });

  it('names: a full-name column wins, else first + middle + last joined, blanks skipped', async () => {
    const r = await load(
      [
        'Name,First Name,Middle Name,Last Name,Email',
        'Ana Maria Souza,Ana,,Souza,ana@example.com',
        ',Bruno,K.,Reis,bruno@example.com',
        ',Carla,,,carla@example.com',
        ',,,Dias,dias@example.com',
        ',,,,nobody@example.com',
      ].join('\n'),
      { chunkSize: 7 },
    );
    expect(r.contacts.map((c) => c.name)).toEqual([
      'Ana Maria Souza',
      'Bruno K. Reis',
      'Carla',
      'Dias',
      null,
    ]);
  });

  it.each([
    ['email', 'full name', 'company', 'position'],
    ['E-MAIL', 'NAME', 'ORGANIZATION', 'JOB TITLE'],
    ['É-mail', 'Nome completo', 'Organização', 'Função'],
    ['e_mail', 'full_name', 'company_name', 'job-title'],
    ['Email Address', 'Contact Name', 'Organisation', 'Title'],
    ['"E-mail Address"', 'Display Name', 'Empresa', 'Cargo'],
    ['E-mail 1 - Value', 'Name', 'Organization Name', 'Organization Title'],
    ['Endereço de e-mail', 'Nome', 'Nome da empresa', 'Profissão'],
    ['Correio Eletrônico:', 'NOME', 'EMPRESA', 'CARGO'],
    [' Email ', 'Full-Name', 'Company.', 'Position'],
  ])('headers %s / %s / %s / %s are matched', async (email, name, company, position) => {
    const header = [email, name, company, position, 'Origem'].join(',');
    const r = await load(`${header}\nANA@EXAMPLE.COM,Ana Souza,Açúcar Ltda,Diretora,Feira 2024\n`);
    expect(r.contacts).toEqual([
      { email: 'ana@example.com', name: 'Ana Souza', company: 'Açúcar Ltda', position: 'Diretora' },
    ]);
  });

  it('Nome + Sobrenome: Nome is the first name; Nome alone is the full name', async () => {
    const joined = await load('Nome;Sobrenome;E-mail\nMárcia;Ávila;marcia@example.com.br\n');
    expect(joined.contacts[0]?.name).toBe('Márcia Ávila');
    core.cleanup();
    core = testCore();
    const alone = await load('Nome;E-mail\nMárcia Ávila;marcia@example.com.br\n');
    expect(alone.contacts[0]?.name).toBe('Márcia Ávila');
  });

  it('an unknown header set is refused, naming the headers found', async () => {
    const err = await refusal('Full Name,Phone,Company\nAna,+55 11 5555-0101,Acme\n');
    expect(err.code).toBe('no_email_column');
    expect(err.details).toEqual({ headersFound: ['Full Name', 'Phone', 'Company'] });
  });
});

describe('across exports: existing and suppressed addresses', () => {
  it('a second export counts the addresses already imported and the suppressed ones', async () => {
    const google = await importText(core.services, fixture('google_contacts_2020s.csv'), {
      fileName: 'contacts.csv',
    });
    // Bruno asked to be forgotten: deleted, his address stays suppressed.
    const bruno = (await core.services.batches.contacts(google.batch.id)).contacts.find(
      (c) => c.email === 'bruno.reis@example.com',
    );
    if (!bruno) throw new Error('bruno was imported');
    await core.services.contacts.delete(bruno.id, 'test', 'asked to be forgotten');

    const header = facts.outlook_csv_written_by_google.header;
    const row = (values: Record<string, string>) => header.map((h) => values[h] ?? '').join(',');
    const outlook = [
      header.join(','),
      row({ 'First Name': 'Ana', 'Last Name': 'Souza', 'E-mail Address': 'Ana.Souza@Example.com' }),
      row({ 'First Name': 'Bruno', 'Last Name': 'Reis', 'E-mail Address': 'BRUNO.REIS@example.com' }),
      row({
        'First Name': 'Caio',
        'Last Name': 'Nunes',
        'E-mail Address': 'caio.nunes@example.com',
        Company: 'Acme',
      }),
      row({ 'First Name': 'Caio', 'Last Name': 'Nunes', 'E-mail 2 Address': 'caio.nunes@example.com' }),
    ].join('\n');
    const r = await importText(core.services, outlook, { fileName: 'outlook.csv', chunkSize: 7 });
    expect(counts(r.report)).toEqual({
      rows: 4,
      imported: 1,
      invalid: 0,
      duplicateInFile: 1,
      existing: 1,
      suppressed: 1,
    });
    expect(await storedContacts(r.batch.id)).toEqual([
      { email: 'caio.nunes@example.com', name: 'Caio Nunes', company: 'Acme', position: null },
    ]);
    expect(r.replaced?.id).toBe(google.batch.id);
  });
});
