/**
 * Advanced contact filters (REST and Slack) with cursor pagination, and the exports: a batch
 * (filtered), the suppression list and a campaign's per-recipient results — formula-safe CSV,
 * streamed over REST and sent by DM in Slack.
 */
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseFilterText } from '../../src/core/batches/contact-filter.js';
import { emailHash } from '../../src/core/contacts/email-hash.js';
import { DomainError } from '../../src/errors.js';
import { createLogger } from '../../src/logger.js';
import { createMailer } from '../../src/mail/index.js';
import { importText, startTestApp, tempDir, testClock } from '../helpers.js';
import { commandBody, FakeSlack, signingSecret, slackPost } from '../slack/fake-slack.js';
import { startSink } from '../smtp-sink.js';

let slack: FakeSlack;
let dirs: ReturnType<typeof tempDir>;
const cleanups: (() => unknown)[] = [];
const clock = testClock(Date.UTC(2026, 0, 10, 12));

beforeEach(async () => {
  slack = await new FakeSlack().start();
  dirs = tempDir();
  clock.set(Date.UTC(2026, 0, 10, 12));
});
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  await slack.stop();
  dirs.cleanup();
});

const people = [
  'email,name,company,position',
  'ana@acme.com,Ana,Acme Corp,Head of Sales',
  'bia@acme.com,Bia,Acme Corp,Engineer',
  'caio@beta.io,Caio,Beta,Head of Sales',
  'duda@sub.acme.com,Duda,Acme Labs,Sales',
  'edu@gamma.org,=HYPERLINK("http://evil"),+Gamma,@ceo',
  'joao@padaria.com.br,João Conceição,Padaria SÃO JOÃO,Sócia',
].join('\n');

async function boot(mailer?: ReturnType<typeof createMailer>) {
  const t = await startTestApp(
    {
      SLACK_BOT_TOKEN: slack.botToken,
      SLACK_SIGNING_SECRET: signingSecret,
      SLACK_API_URL: slack.apiUrl,
      DATABASE_PATH: join(dirs.dir, 'f.db'),
      MAIL_FROM: 'Sales <sales@coldbatch.test>',
      MAIL_POSTAL_ADDRESS: 'Rua Exemplo 1, São Paulo',
    },
    { slackRetries: 0, slackProgressIntervalMs: 0, scheduler: false, clock, ...(mailer ? { mailer } : {}) },
  );
  cleanups.push(t.stop);
  const batch = (await importText(t.app.services, `${people}\n`)).batch.id;
  const db = t.app.db.$client;
  db.prepare(`UPDATE contacts SET status = 'bounced' WHERE email = 'bia@acme.com'`).run();
  db.prepare(`UPDATE contacts SET validation = 'no_mail_domain' WHERE email = 'caio@beta.io'`).run();
  db.prepare(
    `UPDATE contacts SET validation = 'valid' WHERE email LIKE '%acme.com' OR email LIKE '%.br'`,
  ).run();
  db.prepare(`UPDATE contacts SET created_at = ? WHERE email = 'edu@gamma.org'`).run(Date.UTC(2026, 1, 5));
  return { ...t, batch };
}

const emails = async (url: string, batch: string, query: string) => {
  const res = await fetch(`${url}/contacts/batches/${batch}?${query}`);
  const body = (await res.json()) as { contacts?: { email: string }[]; error?: { message: string } };
  return { status: res.status, emails: body.contacts?.map((c) => c.email), body };
};

describe('contact filters', () => {
  it('narrow by status, company, position, domain, validation, created range and free text, with cursors', async () => {
    const { url, batch } = await boot();
    expect((await emails(url, batch, 'company=acme')).emails).toEqual([
      'ana@acme.com',
      'bia@acme.com',
      'duda@sub.acme.com',
    ]);
    expect((await emails(url, batch, 'company=acme&status=bounced')).emails).toEqual(['bia@acme.com']);
    expect((await emails(url, batch, 'position=head%20of')).emails).toEqual(['ana@acme.com', 'caio@beta.io']);
    expect((await emails(url, batch, 'domain=acme.com')).emails).toEqual(['ana@acme.com', 'bia@acme.com']);
    expect((await emails(url, batch, 'validation=no_mail_domain')).emails).toEqual(['caio@beta.io']);
    expect((await emails(url, batch, 'validation=unchecked')).emails).toEqual(['edu@gamma.org']);
    expect((await emails(url, batch, 'createdFrom=2026-02-01')).emails).toEqual(['edu@gamma.org']);
    expect((await emails(url, batch, 'createdTo=2026-02-01&q=sales')).emails).toEqual([
      'ana@acme.com',
      'caio@beta.io',
      'duda@sub.acme.com',
    ]);
    // Case and accents aside, as a Brazilian team types: sao finds SÃO, conceicao finds Conceição.
    expect((await emails(url, batch, 'company=sao%20joao')).emails).toEqual(['joao@padaria.com.br']);
    expect((await emails(url, batch, `q=${encodeURIComponent('CONCEIÇÃO')}`)).emails).toEqual([
      'joao@padaria.com.br',
    ]);
    expect((await emails(url, batch, 'position=socia')).emails).toEqual(['joao@padaria.com.br']);
    // Typed decomposed (c + cedilla, a + tilde), as some keyboards send it: the same search.
    const decomposed = encodeURIComponent('Conceic\u0327a\u0303o');
    expect((await emails(url, batch, `q=${decomposed}`)).emails).toEqual(['joao@padaria.com.br']);
    // LIKE wildcards are literal.
    expect((await emails(url, batch, 'company=%25')).emails).toEqual([]);
    // Cursor pagination under a filter.
    const first = await fetch(`${url}/contacts/batches/${batch}?company=acme&limit=2`);
    const page1 = (await first.json()) as { contacts: { email: string }[]; nextCursor: string };
    expect(page1.contacts.map((c) => c.email)).toEqual(['ana@acme.com', 'bia@acme.com']);
    const page2 = await emails(url, batch, `company=acme&limit=2&cursor=${page1.nextCursor}`);
    expect(page2.emails).toEqual(['duda@sub.acme.com']);
    // Bad filters: 400 naming the field.
    const bad = await emails(url, batch, 'validation=maybe');
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain('validation');
    expect((await emails(url, batch, 'createdFrom=yesterday')).status).toBe(400);
  });

  it('reads the Slack syntax, quotes included, and refuses unknown keys saying which exist', () => {
    expect(parseFilterText('company:acme status:bounced "head of" sales')).toEqual({
      company: 'acme',
      status: 'bounced',
      q: 'head of sales',
    });
    expect(parseFilterText('position:"head of sales" after:2026-01-01')).toEqual({
      position: 'head of sales',
      createdFrom: Date.UTC(2026, 0, 1),
    });
    expect(parseFilterText('')).toEqual({});
    for (const bad of ['colour:red', 'status:gone', 'after:soon']) {
      let e: unknown;
      try {
        parseFilterText(bad);
      } catch (err) {
        e = err;
      }
      expect(e).toBeInstanceOf(DomainError);
      expect((e as DomainError).message).toContain('status:bounced');
    }
  });

  it('/batches show <id> with filters lists the matching contacts and says which filter', async () => {
    const { url, batch } = await boot();
    const res = await slackPost(
      url,
      commandBody(`show ${batch} company:acme status:bounced`, 'U1', slack.responseUrl()),
      {
        type: 'form',
      },
    );
    const text = JSON.stringify(res.json());
    expect(text).toContain('bia@acme.com');
    expect(text).not.toContain('ana@acme.com');
    expect(text).toContain('status bounced, company ~ acme');

    const accents = await slackPost(url, commandBody(`show ${batch} "sao joao"`, 'U1', slack.responseUrl()), {
      type: 'form',
    });
    const found = JSON.stringify(accents.json());
    expect(found).toContain('joao@padaria.com.br');
    expect(found).not.toContain('ana@acme.com');
  });
});

describe('exports', () => {
  it('a batch filtered, over REST: streamed CSV, formula cells neutralised', async () => {
    const { url, batch } = await boot();
    const res = await fetch(`${url}/contacts/batches/${batch}/export?domain=gamma.org`);
    expect(res.headers.get('content-type')).toContain('text/csv');
    expect(res.headers.get('content-disposition')).toContain(`${batch}.csv`);
    const rows = parse(await res.text(), { columns: true }) as Record<string, string>[];
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      email: 'edu@gamma.org',
      name: `'=HYPERLINK("http://evil")`,
      company: "'+Gamma",
      position: "'@ceo",
      validation: '',
    });
    const all = parse(await (await fetch(`${url}/contacts/batches/${batch}/export`)).text(), {
      columns: true,
    });
    expect(all).toHaveLength(6);
  });

  it('the suppression list (hashes) and a campaign per-recipient results, over REST and by DM in Slack', async () => {
    const sink = await startSink({ reject: (to) => (to === 'duda@sub.acme.com' ? 550 : undefined) });
    cleanups.push(() => sink.close());
    const mailer = createMailer({ smtpUrl: sink.url, outboxDir: dirs.dir, log: createLogger('silent') });
    cleanups.push(() => mailer.close());
    const { url, app } = await boot(mailer);
    const s = app.services;
    const campaign = await s.campaigns.create(
      { name: 'Q1', subject: 'Hi', body: 'Hello', sendAt: 'now' },
      'U1',
    );
    for (let i = 0; i < 10 && (await s.campaigns.get(campaign.id)).status !== 'completed'; i++)
      await s.sending.runDue();

    const results = parse(await (await fetch(`${url}/campaigns/${campaign.id}/export`)).text(), {
      columns: true,
    }) as Record<string, string>[];
    const byEmail = Object.fromEntries(results.map((r) => [r.email, r]));
    expect(byEmail['ana@acme.com']).toMatchObject({ status: 'sent', attempts: expect.any(String) });
    expect(byEmail['ana@acme.com']!.message_id).toMatch(/^<.+@.+>$/);
    expect(byEmail['ana@acme.com']!.sent_at).toMatch(/^2026-01-10T/);
    expect(byEmail['duda@sub.acme.com']).toMatchObject({ status: 'bounced', sent_at: '' });
    expect(byEmail['bia@acme.com']).toBeUndefined(); // bounced before: not in the audience
    expect((await fetch(`${url}/campaigns/cmp_nope/export`)).status).toBe(404);

    const suppressions = parse(await (await fetch(`${url}/contacts/suppressions/export`)).text(), {
      columns: true,
    }) as Record<string, string>[];
    expect(suppressions).toEqual([
      expect.objectContaining({
        email_sha256: emailHash('duda@sub.acme.com').toString('hex'),
        reason: 'bounced',
      }),
    ]);

    // Slack: both arrive by DM as uploads.
    for (const text of [
      'export-suppressions',
      `export ${(await app.services.batches.getActive())!.id} status:active`,
    ]) {
      await slackPost(url, commandBody(text, 'U1', slack.responseUrl()), { type: 'form' });
    }
    const r = await slackPost(
      url,
      commandBody(`export ${campaign.id}`, 'U1', slack.responseUrl('cx'), '/campaigns'),
      { type: 'form' },
    );
    expect(r.status).toBe(200);
    const deadline = Date.now() + 5000;
    while (slack.uploads.length < 3 && Date.now() < deadline) await new Promise((res) => setTimeout(res, 50));
    // Each upload is the multipart body of files.uploadV2's upload step.
    const uploaded = slack.uploads.map((u) => u.bytes.toString('utf8'));
    expect(uploaded.some((u) => u.includes('email_sha256,reason,actor,created_at'))).toBe(true);
    expect(uploaded.some((u) => u.includes('email,name,status,attempts,message_id'))).toBe(true);
    const batchCsv = uploaded.find((u) => u.includes('email,name,company'))!;
    expect(batchCsv).toContain('ana@acme.com');
    expect(batchCsv).not.toContain('duda@sub.acme.com'); // bounced now: the status filter leaves it out
  });
});
