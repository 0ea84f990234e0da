import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DomainError } from '../../src/errors.js';
import { importText, testCore } from '../helpers.js';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/csv/${name}`, import.meta.url));

let core: ReturnType<typeof testCore>;
beforeEach(() => {
  core = testCore();
});
afterEach(() => core.cleanup());

async function load(name: string, chunkSize?: number) {
  const r = await importText(core.services, fixture(name), {
    fileName: name,
    ...(chunkSize ? { chunkSize } : {}),
  });
  const contacts = core.services.batches
    .contacts(r.batch.id, { limit: 100 })
    .contacts.map(({ email, name, company, position }) => ({ email, name, company, position }));
  return { report: r.report, contacts };
}

describe('real-world export shapes', () => {
  it('LinkedIn 2024: skips the Notes preamble, trims fields, counts rows without e-mail as invalid', async () => {
    const { report, contacts } = await load('linkedin_connections_2024.csv', 7);
    expect(report).toMatchObject({ rows: 5, imported: 2, invalid: 3, duplicateInFile: 0 });
    expect(contacts).toEqual([
      {
        email: 'vikram.singh@example.com',
        name: 'Vikram Singh',
        company: 'Acme Ltd',
        position: 'Sr. IT Recruiter',
      },
      { email: 'jose.nunez@example.org', name: 'José Núñez 🇧🇷', company: 'Gamma™', position: 'CTO' },
    ]);
    expect(report.errors[0]).toEqual({ line: 6, reason: 'no e-mail address' });
  });

  it('LinkedIn 2018: no URL column; an urn:li:member value is an invalid address', async () => {
    const { report, contacts } = await load('linkedin_connections_2018.csv');
    expect(report).toMatchObject({ rows: 2, imported: 1, invalid: 1 });
    expect(contacts[0]).toEqual({
      email: 'ana.lima@example.com',
      name: 'Ana Lima',
      company: 'Delta',
      position: 'Founder',
    });
    expect(report.errors[0]?.reason).toMatch(/urn:li:member/);
  });

  it('Google Contacts (current): BOM, first/middle/last joined, ::: multi-values, E-mail 2 when 1 is empty', async () => {
    const { report, contacts } = await load('google_contacts_2020s.csv', 3);
    expect(report).toMatchObject({ rows: 3, imported: 2, invalid: 1 });
    expect(contacts).toEqual([
      { email: 'ana.souza@example.com', name: 'Ana Souza', company: 'Acme', position: 'CEO' },
      { email: 'bruno.reis@example.com', name: 'Bruno K. Reis', company: null, position: null },
    ]);
  });

  it('Google Contacts (legacy): Name column preferred over given/family', async () => {
    const { contacts } = await load('google_contacts_legacy.csv');
    expect(contacts).toEqual([
      { email: 'carla.dias@example.com', name: 'Carla Dias', company: null, position: null },
    ]);
  });

  it('Outlook desktop: all quoted, cp1252, CRLF; Job Title over Title; never the display-name column', async () => {
    const { report, contacts } = await load('outlook_desktop_cp1252.csv', 5);
    expect(report).toMatchObject({ rows: 2, imported: 2, invalid: 0 });
    expect(contacts).toEqual([
      { email: 'joao.araujo@example.com', name: 'João Araújo', company: 'Açúcar Ltda', position: 'Diretor' },
      { email: 'bia.goncalves@example.com', name: 'Beatriz Gonçalves', company: null, position: null },
    ]);
  });

  it('Outlook CSV written by Google', async () => {
    const { contacts } = await load('outlook_csv_by_google.csv');
    expect(contacts).toEqual([
      { email: 'eva.melo@example.com', name: 'Eva Melo', company: 'Zeta', position: 'CFO' },
    ]);
  });

  it('Mailchimp: the subscribed export imports; the unsubscribed export is refused', async () => {
    const { report, contacts } = await load('mailchimp_subscribed.csv');
    expect(report).toMatchObject({ rows: 2, imported: 2 });
    expect(contacts.map((c) => [c.email, c.name])).toEqual([
      ['fabio@example.com', 'Fábio Lopes'],
      ['gina@example.com', 'Gina'],
    ]);
    const err = (await load('mailchimp_unsubscribed.csv').catch((e: unknown) => e)) as DomainError;
    expect(err.code).toBe('opted_out_list');
  });

  it('HubSpot: quoted header and values, Associated Company', async () => {
    const { contacts } = await load('hubspot_contacts.csv');
    expect(contacts).toEqual([
      { email: 'hugo.prado@example.com', name: 'Hugo Prado', company: 'Prado & Filhos', position: null },
    ]);
  });

  it("Apollo: Email (not Contact Owner), Title, CRLF inside quotes, '' empties", async () => {
    const { report, contacts } = await load('apollo_contacts.csv', 11);
    expect(report).toMatchObject({ rows: 2, imported: 1, invalid: 1 });
    expect(contacts).toEqual([
      { email: 'ivo.ramos@example.com', name: 'Ivo Ramos', company: 'Kappa', position: 'VP Sales' },
    ]);
  });

  it('Salesforce report: the footer lines are invalid rows, not contacts', async () => {
    const { report, contacts } = await load('salesforce_report.csv');
    expect(contacts).toEqual([
      { email: 'karl.mendes@example.com', name: 'Karl Mendes', company: 'Mu Corp', position: 'Buyer' },
    ]);
    expect(report).toMatchObject({ imported: 1, invalid: 5 });
  });

  it('Brazilian Excel: ; delimiter, Windows-1252, CRLF, Nome + Sobrenome, E-mail, Empresa, Cargo', async () => {
    const { report, contacts } = await load('excel_br_semicolon_cp1252.csv', 4);
    expect(report).toMatchObject({ rows: 3, imported: 2, invalid: 1 });
    expect(contacts).toEqual([
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
  });

  it('UTF-8 with BOM', async () => {
    const { contacts } = await load('utf8_bom.csv', 1);
    expect(contacts).toEqual([
      { email: 'nina@example.com', name: 'Niña Ñandú', company: 'Ñ Corp', position: null },
    ]);
  });

  it('UTF-16LE with BOM, tab-separated (Excel "Unicode text")', async () => {
    const { contacts } = await load('utf16le_bom.tsv', 3);
    expect(contacts).toEqual([
      { email: 'olga@example.com', name: 'Olga Ørsted', company: 'Øresund AB', position: 'COO' },
      { email: 'paulo@example.com', name: 'Paulo Ümit', company: 'Ü GmbH', position: 'Dev' },
    ]);
  });

  it('Name <addr>, mailto: values and a pipe-delimited file', async () => {
    const r = await importText(
      core.services,
      'Contact|E-mail\nAna|Ana Souza <ANA@Example.com>\nBia|mailto:bia@example.com?subject=Hi\n',
    );
    expect(r.report).toMatchObject({ rows: 2, imported: 2 });
    const emails = core.services.batches.contacts(r.batch.id).contacts.map((c) => c.email);
    expect(emails).toEqual(['ana@example.com', 'bia@example.com']);
  });
});
