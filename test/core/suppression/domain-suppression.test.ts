import { afterEach, describe, expect, it } from 'vitest';
import { ZodError } from 'zod';
import type { Services } from '../../../src/core/index.js';
import {
  DomainMatcher,
  domainPatternSchema,
} from '../../../src/core/suppression/domain-suppression-service.js';
import { createLogger } from '../../../src/logger.js';
import { createMailer } from '../../../src/mail/index.js';
import { importText, refusal, testClock, testCore } from '../../helpers.js';
import { startSink } from '../../smtp-sink.js';

let core: ReturnType<typeof testCore> | undefined;
let sink: Awaited<ReturnType<typeof startSink>> | undefined;
let mailer: ReturnType<typeof createMailer> | undefined;
afterEach(async () => {
  await mailer?.close();
  core?.cleanup();
  await sink?.close();
  core = sink = mailer = undefined;
});
const clock = testClock(Date.UTC(2026, 0, 14, 12));

function setup(): Services {
  core = testCore({ clock });
  return core.services;
}

const people = [
  'ana@acme.com',
  'bob@sub.acme.com',
  'cid@deep.sub.acme.com',
  'dan@notacme.com',
  'eva@acme.com.br',
  'fay@acme.co',
  'gil@beta.io',
];
const csv = `email\n${people.join('\n')}\n`;
const emails = (_s?: Services) =>
  (core!.db.$client.prepare('SELECT email FROM contacts ORDER BY email').all() as { email: string }[]).map(
    (r) => r.email,
  );

describe('domain patterns', () => {
  it('normalizes real domains and refuses anything else', () => {
    expect(domainPatternSchema.parse(' @ACME.com ')).toBe('acme.com');
    expect(domainPatternSchema.parse('*.Acme.COM')).toBe('*.acme.com');
    expect(domainPatternSchema.parse('mail.acme.co.uk')).toBe('mail.acme.co.uk');
    for (const bad of [
      'acme',
      '*.com',
      'http://acme.com',
      'a..b.com',
      '*acme.com',
      'acme.com/x',
      '-a.com',
      'a@b.com',
      '',
    ])
      expect(domainPatternSchema.safeParse(bad).success, bad).toBe(false);
  });

  it('matches the domain after the last @, exactly or with its subdomains', () => {
    const exact = new DomainMatcher(['acme.com']);
    const wild = new DomainMatcher(['*.acme.com']);
    expect(people.filter((p) => exact.matches(p))).toEqual(['ana@acme.com']);
    expect(people.filter((p) => wild.matches(p))).toEqual([
      'ana@acme.com',
      'bob@sub.acme.com',
      'cid@deep.sub.acme.com',
    ]);
    expect(wild.matches('acme.com@evil.io')).toBe(false);
  });
});

describe('domain suppression at import', () => {
  it('an exact rule counts that domain suppressed and imports look-alikes', async () => {
    const s = setup();
    await s.domainSuppressions.add({ pattern: '@acme.com', reason: 'asked us' }, 'U1');
    const r = await importText(s, csv);
    expect(r.report).toMatchObject({ rows: 7, imported: 6, suppressed: 1 });
    expect(emails(s)).not.toContain('ana@acme.com');
    expect(emails(s)).toContain('bob@sub.acme.com');
    expect(emails(s)).toContain('dan@notacme.com');
  });

  it('a wildcard rule covers the domain and every subdomain, not notacme.com', async () => {
    const s = setup();
    await s.domainSuppressions.add({ pattern: '*.acme.com' }, 'U1');
    const r = await importText(s, csv);
    expect(r.report).toMatchObject({ rows: 7, imported: 4, suppressed: 3 });
    expect(emails(s)).toEqual(['dan@notacme.com', 'eva@acme.com.br', 'fay@acme.co', 'gil@beta.io']);
  });

  it('a removed rule lets later imports add the domain again', async () => {
    const s = setup();
    await s.domainSuppressions.add({ pattern: 'acme.com' }, 'U1');
    expect((await s.domainSuppressions.list()).map((r) => r.pattern)).toEqual(['acme.com']);
    expect((await s.domainSuppressions.remove('ACME.com', 'U1')).pattern).toBe('acme.com');
    expect(await s.domainSuppressions.list()).toEqual([]);
    expect((await refusal(() => s.domainSuppressions.remove('acme.com', 'U1'))).code).toBe('not_found');
    const r = await importText(s, csv);
    expect(r.report).toMatchObject({ imported: 7, suppressed: 0 });
  });

  it('refuses a duplicate rule and an invalid pattern', async () => {
    const s = setup();
    await s.domainSuppressions.add({ pattern: 'acme.com' }, 'U1');
    expect((await refusal(() => s.domainSuppressions.add({ pattern: 'ACME.com' }, 'U1'))).code).toBe(
      'conflict',
    );
    await expect(s.domainSuppressions.add({ pattern: 'not a domain' }, 'U1')).rejects.toThrow(ZodError);
    expect(await s.domainSuppressions.list()).toHaveLength(1);
  });
});

describe('domain suppression of contacts already held', () => {
  it('adding a rule suppresses matching contacts and a campaign skips them; removing it does not un-suppress', async () => {
    sink = await startSink();
    mailer = createMailer({ smtpUrl: sink.url, outboxDir: '/nonexistent', log: createLogger('silent') });
    core = testCore({ clock, mailer });
    const s = core.services;
    await importText(s, csv);
    const added = await s.domainSuppressions.add({ pattern: '*.acme.com', reason: 'customer' }, 'U1');
    expect(added.suppressedContacts).toBe(3);
    expect(added.rule).toMatchObject({ pattern: '*.acme.com', actor: 'U1', reason: 'customer' });
    expect(await s.contacts.isSuppressed('bob@sub.acme.com')).toBe(true);
    expect(await s.contacts.isSuppressed('dan@notacme.com')).toBe(false);
    // An exact rule inside the wildcard finds nobody new.
    expect((await s.domainSuppressions.add({ pattern: 'acme.com' }, 'U1')).suppressedContacts).toBe(0);
    await s.domainSuppressions.remove('*.acme.com', 'U1');
    await s.domainSuppressions.remove('acme.com', 'U1');
    expect(await s.contacts.isSuppressed('ana@acme.com')).toBe(true);

    const c = await s.campaigns.create({ name: 'c', subject: 's', body: 'b', sendAt: 'now' }, 'U1');
    for (let i = 0; i < 10 && (await s.campaigns.get(c.id)).status !== 'completed'; i++)
      await s.sending.runDue();
    expect((await s.campaigns.get(c.id)).status).toBe('completed');
    expect(sink.received.map((m) => m.to).sort()).toEqual([
      'dan@notacme.com',
      'eva@acme.com.br',
      'fay@acme.co',
      'gil@beta.io',
    ]);
  });
});

describe('domain rules at import scale', () => {
  it('checks 200,000 rows against the rules without per-row SQL', async () => {
    const s = setup();
    for (const pattern of ['*.blocked.io', 'acme.com', '*.other.net', 'x.example.org'])
      await s.domainSuppressions.add({ pattern }, 'U1');
    const lines = ['email,first name,company'];
    for (let i = 0; i < 200_000; i++)
      lines.push(`p${i}@${i % 10 === 0 ? 'mail.blocked.io' : 'example.com'},First${i},Company ${i % 100}`);
    const started = performance.now();
    const r = await importText(s, `${lines.join('\n')}\n`);
    const seconds = (performance.now() - started) / 1000;
    console.log(`200k-row import with 4 domain rules: ${seconds.toFixed(2)} s`);
    expect(r.report).toMatchObject({ rows: 200_000, imported: 180_000, suppressed: 20_000 });
  });
});
