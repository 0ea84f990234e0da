/**
 * `npm run doctor` in a child process, resolving through the test DNS server (DNS_SERVERS): one
 * line per check, exit 1 when a check fails, 0 when only warnings, --json gives the report.
 */
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keys, startZoneDns } from '../core/deliverability/dns-zone.js';
import type { FakeDns } from '../core/validation/fake-dns.js';
import { tempDir } from '../helpers.js';
import { runCli } from './run-cli.js';

let dns: FakeDns;
const dirs = tempDir();
beforeAll(async () => {
  dns = await startZoneDns();
});
afterAll(async () => {
  await dns.stop();
  dirs.cleanup();
});

const env = (more: Record<string, string>) => ({
  DATABASE_PATH: `${dirs.dir}/doctor.db`,
  DNS_SERVERS: dns.address,
  PUBLIC_URL: 'https://coldbatch.test',
  MAIL_POSTAL_ADDRESS: 'Rua Exemplo 100, São Paulo, Brasil',
  INBOX_URL: '',
  MAIL_BOUNCE_ADDRESS: '',
  DKIM_PRIVATE_KEY: '',
  DKIM_SELECTOR: '',
  DKIM_DOMAIN: '',
  ...more,
});

describe('npm run doctor', () => {
  it('a well-configured domain: a PASS line per DNS check, exit 0 (warnings do not fail it)', async () => {
    const r = await runCli(
      'doctor',
      [],
      env({
        MAIL_FROM: 'Sales <sales@good.test>',
        SMTP_URL: 'smtp://u:p@smtp.relay.test:587',
        // coldbatch signs: the doctor checks the published key is the public half of this one
        DKIM_PRIVATE_KEY: keys.private2048,
        DKIM_SELECTOR: 's1',
        DKIM_DOMAIN: 'good.test',
      }),
    );
    expect(r.stderr).toBe('');
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toBe('good.test: MAIL_FROM via smtp.relay.test');
    for (const title of ['SPF', 'DKIM', 'DMARC', 'MX (replies)'])
      expect(lines.some((l) => l.startsWith(`PASS  good.test ${title}: `))).toBe(true);
    expect(lines.find((l) => l.startsWith('PASS  good.test DKIM: '))).toBe(
      'PASS  good.test DKIM: Found a 2048-bit RSA key at s1._domainkey.good.test. It is the public half of DKIM_PRIVATE_KEY: coldbatch signatures verify.',
    );
    // https://coldbatch.test does not exist: the unsubscribe page is a warning, not a failure
    expect(lines.find((l) => l.includes('Unsubscribe page'))).toMatch(
      /^WARN {2}setup .*could not be reached/,
    );
    expect(lines.at(-1)).toBe('0 failed, 1 warned, 5 passed.');
    expect(r.code).toBe(0);
    // it needs no database, and makes none
    expect(existsSync(`${dirs.dir}/doctor.db`)).toBe(false);
  });

  it('a badly configured domain: FAIL lines with what to do, exit 1', async () => {
    const r = await runCli('doctor', [], env({ MAIL_FROM: 'x@bad.test', MAIL_POSTAL_ADDRESS: '' }));
    expect(r.code).toBe(1);
    const lines = r.stdout.trim().split('\n');
    expect(lines.find((l) => l.startsWith('FAIL  bad.test SPF:'))).toContain(
      'Fix: Add one TXT record at bad.test',
    );
    expect(lines.find((l) => l.startsWith('FAIL  bad.test DMARC:'))).toContain('_dmarc.bad.test');
    expect(lines.find((l) => l.startsWith('FAIL  setup Postal address'))).toContain(
      'Set MAIL_POSTAL_ADDRESS',
    );
    expect(lines.at(-1)).toMatch(
      /^3 failed, .* A campaign will not start while a check fails, unless an admin confirms\.$/,
    );
  });

  it('--json prints the report GET /doctor gives; an unknown option exits 2 with the usage', async () => {
    const r = await runCli('doctor', ['--json'], env({ MAIL_FROM: 'x@bad.test' }));
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout) as {
      worst: string;
      domains: { domain: string; checks: { name: string; result: string }[] }[];
    };
    expect(report.worst).toBe('fail');
    expect(report.domains[0]?.checks.map((c) => [c.name, c.result])).toEqual([
      ['spf', 'fail'],
      ['dkim', 'warn'],
      ['dmarc', 'fail'],
      ['mx', 'warn'],
    ]);
    const bad = await runCli('doctor', ['--frobnicate'], env({}));
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('Usage: npm run doctor');
  });
});
