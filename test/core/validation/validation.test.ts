import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config.js';
import type { Services } from '../../../src/core/index.js';
import type { ValidationResult } from '../../../src/core/types.js';
import { isDisposableDomain } from '../../../src/core/validation/disposable.js';
import { isRoleAddress } from '../../../src/core/validation/roles.js';
import { verdictOf } from '../../../src/core/validation/verdict.js';
import { createLogger } from '../../../src/logger.js';
import { createMailer } from '../../../src/mail/index.js';
import { importText, startTestApp, tempDir, testClock, testCore, waitFor } from '../../helpers.js';
import { startSink } from '../../smtp-sink.js';
import { FakeDns, type Zone } from './fake-dns.js';

/**
 * Fixed names, then generated ones: mx<N>.test has an MX, nx<N>.test does not exist, dead<N>.test
 * never answers. probe.test is the domain that tells the resolver works (VALIDATION_PROBE_DOMAINS).
 */
const fixed: Record<string, Zone> = {
  'probe.test': { mx: ['mail.probe.test'] },
  'mx.test': { mx: ['mail.mx.test'] },
  'aonly.test': { a: ['192.0.2.10'] },
  'aaaaonly.test': { aaaa: ['2001:db8::1'] },
  'nx.test': { rcode: 'NXDOMAIN' },
  'nodata.test': {},
  'nullmx.test': { mx: [''] },
  'fail.test': { rcode: 'SERVFAIL' },
  'dead.test': { silent: true },
  'mailinator.com': { mx: ['mx.mailinator.com'] },
  'inbox.33mail.com': { mx: ['mx.33mail.com'] },
};
function zone(name: string): Zone | undefined {
  if (fixed[name]) return fixed[name];
  if (/^(mx|c1-|c2-)\d+\.test$/.test(name)) return { mx: [`mail.${name}`] };
  if (/^dead\d+\.test$/.test(name)) return { silent: true };
  if (/^a\d+\.test$/.test(name)) return { a: ['192.0.2.20'] };
  return undefined;
}

const probe = { VALIDATION_PROBE_DOMAINS: 'probe.test' };
/** The queries a run sent for its contacts' domains (not the resolver checks). */
const lookups = () => dns.queries.filter((q) => q.name !== 'probe.test');

let dns: FakeDns;
let core: ReturnType<typeof testCore> | undefined;
const cleanups: (() => Promise<void> | void)[] = [];

async function setup(env: Record<string, string> = {}, opts: Parameters<typeof testCore>[0] = {}) {
  dns = await new FakeDns(zone).start();
  core = testCore({
    ...opts,
    env: { VALIDATION_DNS_SERVERS: dns.address, VALIDATION_TIMEOUT: '300ms', ...probe, ...env },
  });
  return core.services;
}

afterEach(async () => {
  await core?.services.validation.stop();
  core?.cleanup();
  core = undefined;
  for (const c of cleanups.splice(0).reverse()) await c();
  await dns?.stop();
});

const csv = (emails: string[]) => `email\n${emails.join('\n')}\n`;

function verdicts(batchId: string): Record<string, ValidationResult | null> {
  const rows = core!.db.$client
    .prepare('SELECT email, validation FROM contacts WHERE batch_id = ?')
    .all(batchId) as { email: string; validation: ValidationResult | null }[];
  return Object.fromEntries(rows.map((r) => [r.email, r.validation]));
}

async function validate(s: Services, batchId: string) {
  const t0 = performance.now();
  const started = await s.validation.start(batchId, 'test');
  await s.validation.idle();
  return { started, ms: performance.now() - t0 };
}

describe('validation settings', () => {
  it('has defaults and names the variable of a wrong value', () => {
    expect(loadConfig({}).validation).toEqual({
      dnsServers: [],
      concurrency: 20,
      timeoutMs: 5000,
      probeDomains: ['gmail.com', 'outlook.com', 'yahoo.com'],
      onImport: true,
    });
    expect(
      loadConfig({
        VALIDATION_DNS_SERVERS: ' 1.1.1.1, 127.0.0.1:5353,[::1]:53 ,::1',
        VALIDATION_CONCURRENCY: '5',
        VALIDATION_TIMEOUT: '2s',
        VALIDATE_ON_IMPORT: 'off',
        VALIDATION_PROBE_DOMAINS: ' Example.COM, mx.acme.com.br',
      }).validation,
    ).toEqual({
      dnsServers: ['1.1.1.1', '127.0.0.1:5353', '[::1]:53', '::1'],
      concurrency: 5,
      timeoutMs: 2000,
      probeDomains: ['example.com', 'mx.acme.com.br'],
      onImport: false,
    });
    expect(loadConfig({ VALIDATION_PROBE_DOMAINS: 'off' }).validation.probeDomains).toEqual([]);
    expect(loadConfig({ VALIDATION_PROBE_DOMAINS: '' }).validation.probeDomains).toHaveLength(3);
    expect(() => loadConfig({ VALIDATION_PROBE_DOMAINS: 'gmail.com,https://x' })).toThrow(
      /VALIDATION_PROBE_DOMAINS must be comma-separated domain names/,
    );
    expect(() => loadConfig({ VALIDATION_DNS_SERVERS: 'dns.google' })).toThrow(
      /VALIDATION_DNS_SERVERS must be/,
    );
    expect(() => loadConfig({ VALIDATION_DNS_SERVERS: '1.1.1.1:99999' })).toThrow(/VALIDATION_DNS_SERVERS/);
    expect(() => loadConfig({ VALIDATION_CONCURRENCY: '0' })).toThrow(/VALIDATION_CONCURRENCY/);
    expect(() => loadConfig({ VALIDATION_TIMEOUT: '10ms' })).toThrow(
      /VALIDATION_TIMEOUT must be at least 100ms/,
    );
    expect(() => loadConfig({ VALIDATE_ON_IMPORT: 'sometimes' })).toThrow(
      /VALIDATE_ON_IMPORT must be true or false/,
    );
  });
});

describe('validation rules', () => {
  it('knows role mailboxes, in any spelling, and not people', () => {
    for (const local of [
      'info',
      'Sales',
      'no-reply',
      'no_reply',
      'noreply+x',
      'do.not.reply',
      'contato',
      'suporte',
    ])
      expect(isRoleAddress(local), local).toBe(true);
    for (const local of ['ana', 'ana.souza', 'informatica', 'salesforce-admin-ana', 'j'])
      expect(isRoleAddress(local), local).toBe(false);
  });

  it('knows disposable domains from the npm list, wildcard subdomains included', () => {
    expect(isDisposableDomain('mailinator.com')).toBe(true);
    expect(isDisposableDomain('yopmail.com')).toBe(true);
    expect(isDisposableDomain('inbox.33mail.com')).toBe(true);
    expect(isDisposableDomain('gmail.com')).toBe(false);
    expect(isDisposableDomain('acme.com.br')).toBe(false);
  });

  it('picks one verdict by precedence: no_mail_domain > disposable > role > unknown > valid', () => {
    const f = { syntax: true, role: false, disposable: false, domain: 'mail' as const };
    expect(verdictOf(f)).toBe('valid');
    expect(verdictOf({ ...f, domain: 'unknown' })).toBe('unknown');
    expect(verdictOf({ ...f, role: true, domain: 'unknown' })).toBe('role');
    expect(verdictOf({ ...f, role: true, disposable: true })).toBe('disposable');
    expect(verdictOf({ ...f, role: true, disposable: true, domain: 'no_mail' })).toBe('no_mail_domain');
    expect(verdictOf({ ...f, syntax: false })).toBe('no_mail_domain');
  });
});

describe('a validation run against a DNS server on loopback', () => {
  it('gives each address its verdict (MX, A/AAAA fallback, NXDOMAIN, no records, null MX, SERVFAIL, timeout)', async () => {
    const s = await setup();
    const expected: Record<string, ValidationResult> = {
      'ana@mx.test': 'valid',
      'bob@aonly.test': 'valid',
      'cid@aaaaonly.test': 'valid',
      'dan@nx.test': 'no_mail_domain',
      'eve@nodata.test': 'no_mail_domain',
      'fay@nullmx.test': 'no_mail_domain',
      'gus@fail.test': 'unknown',
      'hal@dead.test': 'unknown',
      'info@mx.test': 'role',
      'no-reply@aonly.test': 'role',
      'joe@mailinator.com': 'disposable',
      'kim@inbox.33mail.com': 'disposable',
      'info@nx.test': 'no_mail_domain',
      'contato@mailinator.com': 'disposable',
      'support@fail.test': 'role',
      'sales@dead.test': 'role',
    };
    const { batch } = await importText(s, csv(Object.keys(expected)));
    const before = await s.validation.counts(batch.id);
    expect(before).toEqual({
      valid: 0,
      role: 0,
      disposable: 0,
      no_mail_domain: 0,
      unknown: 0,
      unchecked: 16,
    });
    const { started, ms } = await validate(s, batch.id);
    expect(started.kind).toBe('started');
    expect(verdicts(batch.id)).toEqual(expected);
    expect(await s.validation.counts(batch.id)).toEqual({
      valid: 3,
      role: 4,
      disposable: 3,
      no_mail_domain: 4,
      unknown: 2,
      unchecked: 0,
    });
    // The silent domain costs one timeout (300 ms), not a hang.
    expect(ms).toBeLessThan(2000);
    const summary = await s.validation.summary(batch.id);
    expect(summary.run).toBeNull();
    expect(summary.lastValidatedAt).not.toBeNull();
    // stored per contact with its time
    const dated = core!.db.$client
      .prepare('SELECT count(*) AS n FROM contacts WHERE batch_id = ? AND validated_at IS NOT NULL')
      .get(batch.id) as { n: number };
    expect(dated.n).toBe(16);

    // Deleting a contact (its suppression stays) lowers the batch's counts exactly.
    const dan = core!.db.$client.prepare('SELECT id FROM contacts WHERE email = ?').get('dan@nx.test') as {
      id: number;
    };
    await s.contacts.delete(dan.id, 'api');
    expect(await s.validation.counts(batch.id)).toMatchObject({ no_mail_domain: 3, unchecked: 0 });
  });

  it('looks each domain up once per run, however many contacts share it', async () => {
    const s = await setup();
    const emails = Array.from({ length: 200 }, (_, i) => `p${i}@mx${i % 10}.test`);
    emails.push(...Array.from({ length: 20 }, (_, i) => `q${i}@aonly.test`));
    const { batch } = await importText(s, csv(emails));
    await validate(s, batch.id);
    const counts = dns.counts();
    for (let d = 0; d < 10; d++) expect(counts.get(`mx${d}.test/MX`)).toBe(1);
    expect(counts.get('aonly.test/MX')).toBe(1);
    expect(counts.get('aonly.test/A')).toBe(1);
    expect(counts.has('aonly.test/AAAA')).toBe(false); // an A record ends the fallback
    expect(lookups()).toHaveLength(12);
    expect((await s.validation.counts(batch.id)).valid).toBe(220);

    // A new run looks again (records change), once per domain again.
    await validate(s, batch.id);
    expect(lookups()).toHaveLength(24);
    expect(dns.counts().get('mx3.test/MX')).toBe(2);
    expect(await s.validation.counts(batch.id)).toMatchObject({ valid: 220, unchecked: 0 });
  });

  it('never has more than VALIDATION_CONCURRENCY lookups in flight', async () => {
    const s = await setup({ VALIDATION_CONCURRENCY: '5' });
    dns.delayMs = 40;
    const { batch } = await importText(s, csv(Array.from({ length: 60 }, (_, i) => `p@mx${i}.test`)));
    const { ms } = await validate(s, batch.id);
    expect(lookups()).toHaveLength(60);
    expect(dns.maxInFlight).toBe(5);
    // 60 lookups of 40 ms, 5 at a time: about 12 rounds.
    expect(ms).toBeGreaterThanOrEqual(11 * 40);
    expect((await s.validation.counts(batch.id)).valid).toBe(60);
  });

  it('ends lookups that get no answer within the timeout, as unknown', async () => {
    const s = await setup({ VALIDATION_CONCURRENCY: '20', VALIDATION_TIMEOUT: '250ms' });
    const { batch } = await importText(s, csv(Array.from({ length: 30 }, (_, i) => `p@dead${i}.test`)));
    const { ms } = await validate(s, batch.id);
    expect(await s.validation.counts(batch.id)).toMatchObject({ unknown: 30, unchecked: 0 });
    // 30 silent domains, 20 at a time: two rounds of one 250 ms timeout each.
    expect(ms).toBeGreaterThanOrEqual(2 * 250 - 20);
    expect(ms).toBeLessThan(2500);
    expect(lookups()).toHaveLength(30); // one try each
  });

  it('validates 2,000 contacts over 50 domains and the counts add up', async () => {
    const s = await setup();
    // 50 domains: 40 with MX, 4 with only an A record, 4 that do not exist, one disposable, one SERVFAIL.
    const domains = [
      ...Array.from({ length: 40 }, (_, i) => `mx${i}.test`),
      ...Array.from({ length: 4 }, (_, i) => `a${i}.test`),
      ...Array.from({ length: 4 }, (_, i) => `nx${i}.test`),
      'mailinator.com',
      'fail.test',
    ];
    const emails = Array.from({ length: 2000 }, (_, i) => {
      const local = i % 10 === 0 ? `sales+${i}` : `lead${i}`;
      return `${local}@${domains[i % 50]}`;
    });
    const expected = { valid: 0, role: 0, disposable: 0, no_mail_domain: 0, unknown: 0, unchecked: 0 };
    for (const e of emails) {
      const [local = '', domain = ''] = e.split('@');
      if (domain.startsWith('nx')) expected.no_mail_domain++;
      else if (domain === 'mailinator.com') expected.disposable++;
      else if (local.startsWith('sales+')) expected.role++;
      else if (domain === 'fail.test') expected.unknown++;
      else expected.valid++;
    }
    const { batch } = await importText(s, csv(emails));
    const { ms } = await validate(s, batch.id);
    const counts = await s.validation.counts(batch.id);
    expect(counts).toEqual(expected);
    expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(2000);
    const stored = core!.db.$client
      .prepare('SELECT validation, count(*) AS n FROM contacts WHERE batch_id = ? GROUP BY validation')
      .all(batch.id) as { validation: string; n: number }[];
    expect(Object.fromEntries(stored.map((r) => [r.validation, r.n]))).toEqual({
      valid: expected.valid,
      role: expected.role,
      disposable: expected.disposable,
      no_mail_domain: expected.no_mail_domain,
      unknown: expected.unknown,
    });
    expect(
      new Set(
        lookups()
          .filter((q) => q.type === 'MX')
          .map((q) => q.name),
      ).size,
    ).toBe(50);
    expect(lookups().filter((q) => q.type === 'MX')).toHaveLength(50);
    console.log(
      `validation: 2,000 contacts over 50 domains in ${Math.round(ms)} ms, ${dns.queries.length} DNS queries`,
    );
    expect(ms).toBeLessThan(5000);
  });

  it('starts by itself when an import finishes (VALIDATE_ON_IMPORT)', async () => {
    const s = await setup({ VALIDATE_ON_IMPORT: 'true' });
    const { batch } = await importText(s, csv(['ana@mx.test', 'dan@nx.test', 'info@mx.test']));
    await waitFor(
      async () =>
        (await s.validation.counts(batch.id)).unchecked === 0 && !(await s.validation.summary(batch.id)).run,
    );
    expect(await s.validation.counts(batch.id)).toMatchObject({ valid: 1, no_mail_domain: 1, role: 1 });
    expect(verdicts(batch.id)['dan@nx.test']).toBe('no_mail_domain');
  });

  it('keeps contacts whose domain receives no mail out of the audience and of a real send, until an admin includes them', async () => {
    const sink = await startSink();
    cleanups.push(() => sink.close());
    const mailer = createMailer({
      smtpUrl: sink.url,
      outboxDir: '/nonexistent',
      log: createLogger('silent'),
    });
    cleanups.push(() => mailer.close());
    const clock = testClock(Date.UTC(2026, 0, 14, 12));
    const s = await setup({}, { clock, mailer });
    const { batch } = await importText(
      s,
      csv([
        'ana@mx.test',
        'info@mx.test',
        'bob@nx.test',
        'cid@nullmx.test',
        'joe@mailinator.com',
        'hal@fail.test',
      ]),
    );
    expect(await s.audience.count()).toBe(6); // not checked yet: nobody is left out
    await validate(s, batch.id);
    expect(await s.audience.count()).toBe(4); // role, disposable and unknown are still mailed
    const expectedTo = ['ana@mx.test', 'hal@fail.test', 'info@mx.test', 'joe@mailinator.com'];
    const emails: string[] = [];
    for await (const r of s.audience.iterate()) emails.push(r.email);
    expect(emails.sort()).toEqual(expectedTo);

    expect(
      (await s.validation.setIncludeInvalidDomains(batch.id, true, 'UADMIN')).includeInvalidDomains,
    ).toBe(true);
    expect(await s.audience.count()).toBe(6);
    expect(
      (await s.validation.setIncludeInvalidDomains(batch.id, false, 'UADMIN')).includeInvalidDomains,
    ).toBe(false);
    expect(await s.audience.count()).toBe(4);

    const c = await s.campaigns.create(
      { name: 'v', subject: 'Hi', body: 'Hello {{unsubscribe_url}}', sendAt: 'now' },
      'U1',
    );
    for (let i = 0; i < 20 && (await s.campaigns.get(c.id)).status !== 'completed'; i++)
      await s.sending.runDue();
    expect((await s.campaigns.get(c.id)).status).toBe('completed');
    expect(sink.received.map((m) => m.to).sort()).toEqual(expectedTo);
  });

  it('refuses unknown batches and answers the run under way when asked twice', async () => {
    const s = await setup();
    await expect(s.validation.start('batch_00000000_1700000000', 'test')).rejects.toThrow(/No batch/);
    dns.hold = (name) => name === 'mx.test';
    const { batch } = await importText(s, csv(['ana@mx.test']));
    const first = await s.validation.start(batch.id, 'test');
    const second = await s.validation.start(batch.id, 'test');
    expect(first.kind === 'started' && second.kind === 'running').toBe(true);
    if (first.kind === 'dns_unavailable') throw new Error('DNS works here');
    expect(second).toMatchObject({ kind: 'running', run: { id: first.run.id, total: 1, checked: 0 } });
    await waitFor(() => lookups().length === 1);
    dns.release();
    await s.validation.idle();
    expect(await s.validation.counts(batch.id)).toMatchObject({ valid: 1, unchecked: 0 });
  });
});

describe('a resolver that fails', () => {
  const emails = ['ana@mx.test', 'info@mx.test', 'bob@aonly.test', 'joe@mailinator.com'];

  for (const [broken, answered] of [
    [{ rcode: 'NXDOMAIN' }, 'answered NXDOMAIN for gmail.com, outlook.com and yahoo.com'],
    [{ rcode: 'SERVFAIL' }, 'answered SERVFAIL for gmail.com, outlook.com and yahoo.com'],
    [{ silent: true }, 'gave no answer within 300ms for gmail.com, outlook.com and yahoo.com'],
  ] as const) {
    it(`stops the run as dns_unavailable and marks no contact (${answered.split(' for')[0]})`, async () => {
      // Every name gets the same failure, as from this machine's resolver; the default probe domains.
      dns = await new FakeDns(() => broken).start();
      core = testCore({ env: { VALIDATION_DNS_SERVERS: dns.address, VALIDATION_TIMEOUT: '300ms' } });
      const s = core.services;
      const { batch } = await importText(s, csv(emails));

      const result = await s.validation.start(batch.id, 'test');
      expect(result.kind).toBe('dns_unavailable');
      if (result.kind !== 'dns_unavailable') return;
      expect(result.failure.message).toBe(
        `DNS lookups are failing on this server (the resolver ${dns.address} ${answered}); no contact was marked. ` +
          'Check VALIDATION_DNS_SERVERS (empty: the system resolvers in /etc/resolv.conf) and that this server can reach them, ' +
          'then validate again (this check looks up VALIDATION_PROBE_DOMAINS).',
      );
      expect(result.failure).toMatchObject({ status: 'dns_unavailable', checked: 0 });
      expect(result.counts).toMatchObject({ no_mail_domain: 0, unknown: 0, unchecked: 4 });
      // Only the resolver check was sent: no contact's domain was looked up, none was marked.
      expect(new Set(dns.queries.map((q) => q.name))).toEqual(
        new Set(['gmail.com', 'outlook.com', 'yahoo.com']),
      );
      expect(Object.values(verdicts(batch.id))).toEqual([null, null, null, null]);
      const summary = await s.validation.summary(batch.id);
      expect(summary).toMatchObject({ run: null, lastValidatedAt: null, failure: result.failure });
      expect(await s.audience.count()).toBe(4);
    });
  }

  it('keeps the earlier verdicts, then clears the failure once DNS works and a run completes', async () => {
    let broken = false;
    dns = await new FakeDns((name) => (broken ? undefined : zone(name))).start();
    core = testCore({ env: { VALIDATION_DNS_SERVERS: dns.address, VALIDATION_TIMEOUT: '300ms', ...probe } });
    const s = core.services;
    const { batch } = await importText(s, csv([...emails, 'dan@nx.test']));
    await validate(s, batch.id);
    const before = verdicts(batch.id);
    expect(before['ana@mx.test']).toBe('valid');

    broken = true;
    const failed = await s.validation.start(batch.id, 'test');
    expect(failed.kind).toBe('dns_unavailable');
    expect(verdicts(batch.id)).toEqual(before);
    expect((await s.validation.summary(batch.id)).failure?.message).toContain(
      `the resolver ${dns.address} answered NXDOMAIN for probe.test`,
    );

    broken = false;
    const { started } = await validate(s, batch.id);
    expect(started.kind).toBe('started');
    expect(await s.validation.summary(batch.id)).toMatchObject({ failure: null, run: null });
    expect(verdicts(batch.id)).toEqual(before);
  });

  it('stops a run whose resolver breaks in the middle: the chunks written stay, the rest is not marked', async () => {
    // 1,000 contacts: the first chunk of 500 on c1-* domains, the second on c2-* domains. From the
    // first c2-* query on, the resolver answers NXDOMAIN for everything.
    let broken = false;
    dns = await new FakeDns((name) => {
      if (name.startsWith('c2-')) broken = true;
      return broken ? undefined : zone(name);
    }).start();
    core = testCore({ env: { VALIDATION_DNS_SERVERS: dns.address, VALIDATION_TIMEOUT: '300ms', ...probe } });
    const s = core.services;
    const emails = Array.from({ length: 1000 }, (_, i) => `p${i}@${i < 500 ? 'c1' : 'c2'}-${i % 10}.test`);
    const { batch } = await importText(s, csv(emails));
    await validate(s, batch.id);

    expect(await s.validation.counts(batch.id)).toEqual({
      valid: 500,
      role: 0,
      disposable: 0,
      no_mail_domain: 0,
      unknown: 0,
      unchecked: 500,
    });
    const summary = await s.validation.summary(batch.id);
    expect(summary.run).toBeNull();
    expect(summary.failure).toMatchObject({ status: 'dns_unavailable', checked: 500 });
    expect(summary.failure?.message).toContain(
      `DNS lookups started failing on this server during the run (the resolver ${dns.address} answered NXDOMAIN for probe.test); ` +
        'the 500 contacts checked before that keep their verdicts, the other 500 were not marked.',
    );
    // The resolver was checked again before the second chunk was written.
    expect(dns.counts().get('probe.test/MX')).toBe(2);
  });

  it('still marks unknown (not no_mail_domain) the domains that fail while the resolver works', async () => {
    const s = await setup();
    const { batch } = await importText(
      s,
      csv(['a@fail.test', 'b@dead.test', ...Array.from({ length: 8 }, (_, i) => `p@dead${i}.test`)]),
    );
    await validate(s, batch.id);
    expect(await s.validation.counts(batch.id)).toMatchObject({
      unknown: 10,
      no_mail_domain: 0,
      unchecked: 0,
    });
    expect((await s.validation.summary(batch.id)).failure).toBeNull();
  });

  it('after an import (VALIDATE_ON_IMPORT), keeps the failure in the summary and marks nobody', async () => {
    dns = await new FakeDns(() => undefined).start();
    core = testCore({
      env: { VALIDATION_DNS_SERVERS: dns.address, VALIDATION_TIMEOUT: '300ms', VALIDATE_ON_IMPORT: 'true' },
    });
    const s = core.services;
    const { batch } = await importText(s, csv(emails));
    await s.validation.idle();
    expect(await s.validation.summary(batch.id)).toMatchObject({
      run: null,
      counts: { unchecked: 4, no_mail_domain: 0 },
      failure: { status: 'dns_unavailable', checked: 0 },
    });
    expect(Object.values(verdicts(batch.id))).toEqual([null, null, null, null]);
  });
});

describe('a restart in the middle of a validation', () => {
  it('continues from the last chunk written, without checking or counting anything twice', async () => {
    dns = await new FakeDns(zone).start();
    const dir = tempDir();
    cleanups.push(() => dir.cleanup());
    const env = {
      DATABASE_PATH: join(dir.dir, 'restart.db'),
      VALIDATION_DNS_SERVERS: dns.address,
      VALIDATION_TIMEOUT: '300ms',
      ...probe,
    };
    // 2,000 contacts: the first chunk of 500 on c1-* domains, the rest on c2-* domains, whose answers are held.
    const emails = Array.from({ length: 2000 }, (_, i) =>
      i < 500 ? `p${i}@c1-${i % 10}.test` : `p${i}@c2-${i % 10}.test`,
    );
    dns.hold = (name) => name.startsWith('c2-');

    const first = await startTestApp(env, { scheduler: false });
    const { batch } = await importText(first.app.services, csv(emails));
    await first.app.services.validation.start(batch.id, 'test');
    await waitFor(async () => (await first.app.services.validation.summary(batch.id)).run?.checked === 500);
    await waitFor(() => dns.queries.some((q) => q.name.startsWith('c2-')));
    await first.stop(); // mid-chunk: the second chunk's lookups are in flight
    expect(dns.queries.filter((q) => q.name.startsWith('c1-'))).toHaveLength(10);

    dns.hold = () => false;
    const second = await startTestApp(env, { scheduler: false });
    cleanups.push(() => second.stop());
    const v = second.app.services.validation;
    await waitFor(async () => (await v.summary(batch.id)).run === null, 10_000);
    expect(await v.counts(batch.id)).toEqual({
      valid: 2000,
      role: 0,
      disposable: 0,
      no_mail_domain: 0,
      unknown: 0,
      unchecked: 0,
    });
    // The first chunk was not looked up again: the run went on from its cursor.
    expect(dns.queries.filter((q) => q.name.startsWith('c1-'))).toHaveLength(10);
    expect(dns.counts().get('c2-3.test/MX')).toBe(2); // asked by the stopped run, then by the resumed one

    // And a run can always be started again: same counts, nothing counted twice.
    const again = await v.start(batch.id, 'test');
    expect(again.kind).toBe('started');
    await v.idle();
    expect(await v.counts(batch.id)).toMatchObject({ valid: 2000, unchecked: 0 });
  });
});

describe('npm run import', () => {
  /** Imports four contacts with the CLI against a DNS server answering from `zoneOf`; its output. */
  async function runImport(zoneOf: (name: string) => Zone | undefined): Promise<string> {
    dns = await new FakeDns(zoneOf).start();
    const dir = tempDir();
    cleanups.push(() => dir.cleanup());
    const file = join(dir.dir, 'leads.csv');
    writeFileSync(file, csv(['ana@mx.test', 'info@mx.test', 'bob@nx.test', 'joe@mailinator.com']));
    const root = fileURLToPath(new URL('../../..', import.meta.url));
    // Asynchronous: the fake DNS server answers from this process's event loop.
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/import.ts', file], {
      cwd: root,
      env: {
        ...process.env,
        DATABASE_PATH: join(dir.dir, 'cli.db'),
        LOG_LEVEL: 'silent',
        VALIDATION_DNS_SERVERS: dns.address,
        VALIDATE_ON_IMPORT: 'true',
        ...probe,
      },
    });
    let out = '';
    child.stdout.on('data', (d) => {
      out += String(d);
    });
    child.stderr.on('data', (d) => {
      out += String(d);
    });
    const code = await new Promise((resolve) => child.once('exit', resolve));
    expect(code, out).toBe(0);
    expect(out).toContain('Imported 4 contacts');
    return out;
  }

  it('validates the new batch and prints the counts', async () => {
    const out = await runImport(zone);
    expect(out).toContain(
      'Validation: 1 valid, 1 role, 1 disposable, 1 without a mail domain (not mailed), 0 unknown',
    );
    expect(out).not.toContain('Validation stopped');
  });

  it('says so when DNS lookups fail, and marks nobody', async () => {
    const out = await runImport(() => undefined);
    expect(out).toContain(
      'Validation: 0 valid, 0 role, 0 disposable, 0 without a mail domain (not mailed), 0 unknown',
    );
    expect(out).toContain('4 not checked');
    expect(out).toContain(
      `Validation stopped: DNS lookups are failing on this server (the resolver ${dns.address} answered NXDOMAIN for probe.test); no contact was marked.`,
    );
  });
});
