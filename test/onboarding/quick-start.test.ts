import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseEnv } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { configVariables, loadConfig } from '../../src/config.js';
import { importText, memoryLog, startTestApp, tempDir, testCore, uploadCsv } from '../helpers.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const envExample = readFileSync(join(root, '.env.example'), 'utf8');
const contactsCsv = readFileSync(join(root, 'examples/contacts.csv'));

/** Names in .env.example, set (NAME=…) or shown with their default (# NAME=…). */
const documented = [...envExample.matchAll(/^#?\s*([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1]);
/** What `cp .env.example .env` sets. */
const shipped = parseEnv(envExample);

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('.env.example', () => {
  it('documents every variable the configuration reads, and no other', () => {
    expect(configVariables.length).toBeGreaterThan(30);
    const missing = configVariables.filter((v) => !documented.includes(v));
    expect(missing, 'variables config.ts reads that .env.example does not mention').toEqual([]);
    const unknown = documented.filter((v) => !configVariables.includes(v ?? ''));
    expect(unknown, 'names in .env.example that config.ts does not read').toEqual([]);
  });

  it('explains each variable in a comment right above it', () => {
    const lines = envExample.split('\n');
    for (const name of configVariables) {
      const at = lines.findIndex((l) => new RegExp(`^#?\\s*${name}=`).test(l));
      expect(lines[at - 1], `the line above ${name}`).toMatch(/^# \S/);
    }
  });

  it('as shipped, loads and sets what a campaign needs (the outbox: nothing leaves the machine)', () => {
    expect(Object.keys(shipped).sort()).toEqual(['MAIL_FROM', 'MAIL_POSTAL_ADDRESS']);
    const config = loadConfig(shipped);
    expect(config.mail).toMatchObject({
      smtpUrl: undefined,
      accounts: [],
      from: 'Sales <sales@example.com>',
    });
    expect(config.mail.postalAddress).toBeTruthy();
  });
});

describe('examples/contacts.csv', () => {
  it('imports cleanly through the import engine: every row a contact, with its columns', async () => {
    const core = testCore();
    cleanups.push(core.cleanup);
    const r = await importText(core.services, contactsCsv, { fileName: 'contacts.csv' });
    expect(r.report).toMatchObject({ rows: 12, imported: 12, invalid: 0, duplicateInFile: 0, errors: [] });
    const contacts = core.db.$client
      .prepare<[string], { email: string; name: string; company: string; position: string }>(
        'SELECT email, name, company, position FROM contacts WHERE batch_id = ?',
      )
      .all(r.batch.id);
    expect(contacts).toHaveLength(12);
    expect(contacts.every((c) => /@example\.(com|org)$/.test(c.email))).toBe(true);
    expect(contacts.find((c) => c.email === 'd.okafor@example.com')).toMatchObject({
      name: 'David Okafor',
      company: 'Okafor, Reyes & Partners',
      position: 'Managing Partner',
    });
    expect(contacts.find((c) => c.email === 'ana.silva@example.com')?.company).toBe('Acme Logística');
  });
});

describe('the quick start', () => {
  it('with .env.example and examples/contacts.csv, the README campaign example writes e-mails to the outbox', async () => {
    const dir = tempDir();
    cleanups.push(dir.cleanup);
    const outbox = join(dir.dir, 'outbox');
    const t = await startTestApp(
      { ...shipped, MAIL_OUTBOX_DIR: outbox, PUBLIC_URL: '' },
      { scheduler: false },
    );
    cleanups.push(t.stop);
    expect((await uploadCsv(t.url, contactsCsv, { fileName: 'contacts.csv' })).status).toBe(201);
    const res = await fetch(`${t.url}/campaigns`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        name: 'Intro',
        subject: 'Quick question, {{first_name|there}}',
        body: 'Hi {{first_name|there}}, ...',
        sendAt: 'now',
        ratePerMinute: 30,
      }),
    });
    expect(res.status).toBe(201);
    await t.app.services.sending.runDue();
    const files = readdirSync(outbox).filter((f) => f.endsWith('.eml'));
    expect(files.length).toBeGreaterThan(0);
    const first = readFileSync(join(outbox, files[0]!), 'utf8').replace(/=\r?\n/g, ''); // quoted-printable line breaks
    expect(first).toContain('Example Ltd, 1 Example Street');
    expect(first).toContain('http://localhost:'); // the outbox may keep localhost links
  });
});

describe('start warnings', () => {
  const warnings = (lines: Record<string, unknown>[]) =>
    lines.filter((l) => l.level === 40 && typeof l.variable === 'string');

  it('one line for each thing a campaign will need that is missing', async () => {
    const log = memoryLog();
    const t = await startTestApp(
      { PUBLIC_URL: '', LOG_LEVEL: 'info' },
      { scheduler: false, logDestination: log.stream },
    );
    cleanups.push(t.stop);
    const w = warnings(log.lines());
    expect(w.map((l) => l.variable)).toEqual(['MAIL_FROM', 'MAIL_POSTAL_ADDRESS', 'PUBLIC_URL']);
    expect(w[0]?.msg).toMatch(/^MAIL_FROM not set: .*set MAIL_FROM/);
    expect(w[1]?.msg).toMatch(/^MAIL_POSTAL_ADDRESS not set: no campaign can start/);
    expect(w[2]?.msg).toMatch(
      /http:\/\/localhost:\d+.*real mail \(SMTP_URL\) needs PUBLIC_URL set to an https URL/,
    );
  });

  it('none when mail is ready', async () => {
    const log = memoryLog();
    const t = await startTestApp(
      {
        MAIL_FROM: 'Sales <sales@coldbatch.test>',
        MAIL_POSTAL_ADDRESS: 'Rua Exemplo 1, São Paulo',
        LOG_LEVEL: 'info',
      },
      { scheduler: false, logDestination: log.stream },
    );
    cleanups.push(t.stop);
    const lines = log.lines();
    expect(
      lines.some(
        (l) => l.msg === 'REST API listening on 127.0.0.1 only: set API_TOKEN to accept other hosts',
      ),
    ).toBe(true);
    expect(warnings(lines)).toEqual([]);
  });
});
