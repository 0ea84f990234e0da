/**
 * `/campaigns doctor` through the Slack stand-in: a signed slash command from anyone (not only
 * admins), answered through the response_url with the doctor's report, resolved through
 * DNS_SERVERS (the test DNS server).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startZoneDns } from '../core/deliverability/dns-zone.js';
import type { FakeDns } from '../core/validation/fake-dns.js';
import { startTestApp, waitFor } from '../helpers.js';
import { commandBody, FakeSlack, signingSecret, slackPost } from './fake-slack.js';

let slack: FakeSlack;
let dns: FakeDns;
let t: Awaited<ReturnType<typeof startTestApp>>;

beforeAll(async () => {
  slack = await new FakeSlack().start();
  dns = await startZoneDns();
  t = await startTestApp(
    {
      SLACK_BOT_TOKEN: slack.botToken,
      SLACK_SIGNING_SECRET: signingSecret,
      SLACK_API_URL: slack.apiUrl,
      SLACK_ADMIN_USERS: 'UADMIN',
      DNS_SERVERS: dns.address,
      MAIL_FROM: 'Sales <sales@bad.test>',
    },
    { slackRetries: 0, slackProgressIntervalMs: 0, scheduler: false },
  );
});
afterAll(async () => {
  await t.stop();
  await slack.stop();
  await dns.stop();
});

async function ask(text: string, respond: string): Promise<string> {
  const body = commandBody(text, 'UOTHER', slack.responseUrl(respond), '/campaigns');
  const res = await slackPost(t.url, body, { type: 'form' });
  expect(res.status).toBe(200);
  const answer = await waitFor(() => slack.responses.find((r) => r.path === `/respond/${respond}`), 10_000);
  expect(answer.body.response_type).toBe('ephemeral');
  return JSON.stringify(answer.body.blocks);
}

describe('/campaigns doctor', () => {
  it('shows anyone each check of the From domain with what to do, and the setup checks', async () => {
    const blocks = await ask('doctor', 'doc');
    expect(blocks).toContain(':x: *Domain doctor:* 3 failed, 3 warned.');
    expect(blocks).toContain('*bad.test*');
    expect(blocks).toContain(':x: *SPF* bad.test has no SPF record');
    expect(blocks).toContain('_What to do:_ Add one TXT record at bad.test');
    expect(blocks).toContain(':warning: *DKIM* Cannot check DKIM');
    expect(blocks).toContain(':x: *DMARC*');
    // testConfig sets no MAIL_POSTAL_ADDRESS: the law wants one
    expect(blocks).toContain(':x: *Postal address (MAIL_POSTAL_ADDRESS)*');
  });

  it('`doctor fresh` checks again (new DNS queries); the help lists it', async () => {
    await ask('doctor', 'kept');
    const before = dns.queries.length;
    await ask('doctor', 'kept2');
    expect(dns.queries.length).toBe(before);
    await ask('doctor fresh', 'again');
    expect(dns.queries.length).toBeGreaterThan(before);
    expect(await ask('help', 'help')).toContain('/campaigns doctor');
  });
});
