import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { importText, startTestApp, tempDir, waitFor } from '../../helpers.js';
import { commandBody, FakeSlack, signingSecret, slackPost } from '../../slack/fake-slack.js';
import { FakeDns, type Zone } from './fake-dns.js';

const zones: Record<string, Zone> = {
  'mx.test': { mx: ['mail.mx.test'] },
  'nx.test': { rcode: 'NXDOMAIN' },
  // One of the default VALIDATION_PROBE_DOMAINS: the resolver works while it resolves.
  'gmail.com': { mx: ['gmail-smtp-in.l.google.com'] },
};
const probes = new Set(['gmail.com', 'outlook.com', 'yahoo.com']);
/** true: the resolver answers NXDOMAIN for every name, like this machine's. */
let broken = false;

let dns: FakeDns;
let slack: FakeSlack;
let dir: ReturnType<typeof tempDir>;
let t: Awaited<ReturnType<typeof startTestApp>>;

beforeEach(async () => {
  broken = false;
  dns = await new FakeDns((name) => (broken ? undefined : zones[name])).start();
  slack = await new FakeSlack().start();
  dir = tempDir();
  t = await startApp();
});

/** The app on this test's database, Slack stand-in and DNS server. */
const startApp = (env: Record<string, string> = {}) =>
  startTestApp(
    {
      DATABASE_PATH: join(dir.dir, 'api.db'),
      SLACK_BOT_TOKEN: slack.botToken,
      SLACK_SIGNING_SECRET: signingSecret,
      SLACK_API_URL: slack.apiUrl,
      SLACK_ADMIN_USERS: 'UADMIN',
      VALIDATION_DNS_SERVERS: dns.address,
      VALIDATION_TIMEOUT: '300ms',
      ...env,
    },
    { slackRetries: 0, scheduler: false },
  );

afterEach(async () => {
  await t.stop();
  await slack.stop();
  await dns.stop();
  dir.cleanup();
});

type ApiBody = {
  validation?: Record<string, number>;
  validationRun?: { id: string } | null;
  validationFailure?: { status: string; message: string } | null;
  failure?: { status: string; message: string };
  started?: boolean;
  run?: { id: string };
  batch?: { includeInvalidDomains: boolean };
  error?: { code: string; message: string };
};

const csv = 'email\nana@mx.test\ninfo@mx.test\nbob@nx.test\ncid@nx.test\n';

async function api(method: string, path: string, body?: unknown, type = 'application/json') {
  const res = await fetch(`${t.url}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': type },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as ApiBody };
}

const command = async (text: string, user: string) =>
  JSON.stringify(
    (await slackPost(t.url, commandBody(text, user, slack.responseUrl('c')), { type: 'form' })).json(),
  );

describe('REST: validate and include invalid domains', () => {
  it('POST …/validate answers 202 with the run, and GET shows the counts when it is done', async () => {
    const { batch } = await importText(t.app.services, csv);
    const before = await api('GET', `/contacts/batches/${batch.id}`);
    expect(before.body.validation).toEqual({
      valid: 0,
      role: 0,
      disposable: 0,
      no_mail_domain: 0,
      unknown: 0,
      unchecked: 4,
    });

    dns.hold = (name) => !probes.has(name);
    const res = await api('POST', `/contacts/batches/${batch.id}/validate`);
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({
      started: true,
      run: { batchId: batch.id, actor: 'api', checked: 0, total: 4 },
      validation: { unchecked: 4 },
    });
    expect(res.body.run?.id).toMatch(/^val_[0-9a-f]{8}$/);
    const again = await api('POST', `/contacts/batches/${batch.id}/validate`);
    expect(again.status).toBe(202);
    expect(again.body).toMatchObject({ started: false, run: { id: res.body.run?.id } });
    const during = await api('GET', `/contacts/batches/${batch.id}`);
    expect(during.body.validationRun).toMatchObject({ id: res.body.run?.id });

    dns.hold = () => false;
    await waitFor(() => dns.queries.filter((q) => !probes.has(q.name)).length >= 2);
    dns.release();
    const after = await waitFor(async () => {
      const r = await api('GET', `/contacts/batches/${batch.id}`);
      return r.body.validationRun === null ? r : null;
    });
    expect(after.body.validation).toEqual({
      valid: 1,
      role: 1,
      disposable: 0,
      no_mail_domain: 2,
      unknown: 0,
      unchecked: 0,
    });
    expect(after.body.batch?.includeInvalidDomains).toBe(false);
    expect(after.body.validationFailure).toBeNull();

    expect((await api('POST', '/contacts/batches/batch_00000000_1700000000/validate')).status).toBe(404);
  });

  it('PATCH {includeInvalidDomains} changes who campaigns reach; bad bodies are refused with 400/415', async () => {
    const { batch } = await importText(t.app.services, csv);
    await t.app.services.validation.start(batch.id, 'test');
    await t.app.services.validation.idle();
    expect(await t.app.services.audience.count()).toBe(2);

    const on = await api('PATCH', `/contacts/batches/${batch.id}`, { includeInvalidDomains: true });
    expect(on.status).toBe(200);
    expect(on.body.batch).toMatchObject({ id: batch.id, includeInvalidDomains: true });
    expect(await t.app.services.audience.count()).toBe(4);
    const off = await api('PATCH', `/contacts/batches/${batch.id}`, { includeInvalidDomains: false });
    expect(off.body.batch?.includeInvalidDomains).toBe(false);
    expect(await t.app.services.audience.count()).toBe(2);
    // Both changes are in the batch's history, with who and why.
    expect((await t.app.services.batches.events(batch.id)).slice(-2)).toMatchObject([
      { kind: 'included_invalid_domains', actor: 'api' },
      { kind: 'excluded_invalid_domains', actor: 'api' },
    ]);

    for (const bad of [
      {},
      { includeInvalidDomains: 'yes' },
      { includeInvalidDomains: true, name: 'x' },
      [],
    ]) {
      const r = await api('PATCH', `/contacts/batches/${batch.id}`, bad);
      expect(r.status, JSON.stringify(bad)).toBe(400);
      expect(r.body.error?.code).toBe('invalid_input');
    }
    expect(
      (await api('PATCH', `/contacts/batches/${batch.id}`, '{"includeInvalidDomains":', 'application/json'))
        .status,
    ).toBe(400);
    expect(
      (await api('PATCH', `/contacts/batches/${batch.id}`, 'includeInvalidDomains=true', 'text/plain'))
        .status,
    ).toBe(415);
    const missing = await api('PATCH', '/contacts/batches/batch_00000000_1700000000', {
      includeInvalidDomains: true,
    });
    expect(missing.status).toBe(404);
    expect((await t.app.services.batches.get(batch.id)).includeInvalidDomains).toBe(false);
  });
});

const failing = `DNS lookups are failing on this server (the resolver 127.0.0.1:`;
const nxdomain = 'answered NXDOMAIN for gmail.com, outlook.com and yahoo.com); no contact was marked.';

describe('a resolver that answers NXDOMAIN for everything', () => {
  it('REST: POST …/validate answers 503 dns_unavailable, and GET says so with the counts unchanged', async () => {
    const { batch } = await importText(t.app.services, csv);
    broken = true;
    const res = await api('POST', `/contacts/batches/${batch.id}/validate`);
    expect(res.status).toBe(503);
    expect(res.body).toMatchObject({
      started: false,
      error: { code: 'dns_unavailable' },
      failure: { status: 'dns_unavailable', checked: 0 },
      validation: { no_mail_domain: 0, unchecked: 4 },
    });
    expect(res.body.error?.message).toContain(failing);
    expect(res.body.error?.message).toContain(nxdomain);
    expect(res.body.error?.message).toContain('Check VALIDATION_DNS_SERVERS');

    const got = await api('GET', `/contacts/batches/${batch.id}`);
    expect(got.body).toMatchObject({
      validationRun: null,
      validationFailure: { status: 'dns_unavailable', message: res.body.error?.message },
      validation: { valid: 0, no_mail_domain: 0, unknown: 0, unchecked: 4 },
    });
    // Nobody was left out of campaigns.
    expect(await t.app.services.audience.count()).toBe(4);

    broken = false;
    expect((await api('POST', `/contacts/batches/${batch.id}/validate`)).status).toBe(202);
    await t.app.services.validation.idle();
    expect((await api('GET', `/contacts/batches/${batch.id}`)).body).toMatchObject({
      validationFailure: null,
      validation: { valid: 1, role: 1, no_mail_domain: 2, unchecked: 0 },
    });
  });

  it('Slack: /batches validate says DNS is failing and nothing was marked; /batches show says it too', async () => {
    const { batch } = await importText(t.app.services, csv);
    broken = true;
    const answer = await command(`validate ${batch.id}`, 'UADMIN');
    expect(answer).toContain(`\`${batch.id}\` was not validated: DNS lookups are failing on this server.`);
    expect(answer).toContain('The last validation stopped');
    expect(answer).toContain(failing);
    expect(answer).toContain(nxdomain);
    expect(answer).toContain(`To validate again: \`/batches validate ${batch.id}\``);
    expect(answer).not.toContain('Checking the 4 addresses');
    expect(answer).not.toContain('"text":""'); // Slack refuses empty text objects
    const shown = await command(`show ${batch.id}`, 'UOTHER');
    expect(shown).toContain('0 no mail domain · 0 unknown · 4 not checked');
    expect(shown).toContain(nxdomain);
    expect(await t.app.services.audience.count()).toBe(4);
  });

  it('Slack: when the DNS check outlasts the ack, the ack says so and the answer follows', async () => {
    // A slow resolver: the check can take up to VALIDATION_TIMEOUT, past Slack's 3 s for an ack.
    await t.stop();
    t = await startApp({ VALIDATION_TIMEOUT: '10s' });
    const { batch } = await importText(t.app.services, csv);
    dns.hold = (name) => name === 'gmail.com';
    const acked = await command(`validate ${batch.id}`, 'UADMIN');
    expect(acked).toContain('Checking that DNS lookups work on this server');
    dns.hold = () => false;
    dns.release();
    const later = await waitFor(() =>
      slack.responses.find((r) => JSON.stringify(r.body).includes('Checking the 4')),
    );
    expect(later.body).toMatchObject({ response_type: 'ephemeral', text: 'Batches' });
    await t.app.services.validation.idle();
    expect(await t.app.services.validation.counts(batch.id)).toMatchObject({ valid: 1, unchecked: 0 });
  });
});

describe('Slack: /batches validate and include-invalid (signed requests to the real receiver)', () => {
  it('lets admins validate and include invalid domains, refuses everyone else, and shows the counts', async () => {
    const { batch } = await importText(t.app.services, csv);
    const v = t.app.services.validation;

    expect(await command(`validate ${batch.id}`, 'UOTHER')).toMatch(
      /Only coldbatch admins may validate addresses.*<@UADMIN>/,
    );
    expect((await v.summary(batch.id)).run).toBeNull();
    expect(dns.queries).toHaveLength(0);

    const started = await command(`validate ${batch.id}`, 'UADMIN');
    expect(started).toContain('Checking the 4 addresses');
    expect(started).toContain('E-mail validation');
    await waitFor(
      async () => (await v.summary(batch.id)).run === null && (await v.counts(batch.id)).unchecked === 0,
    );

    const shown = await command(`show ${batch.id}`, 'UOTHER');
    expect(shown).toContain('1 valid · 1 role · 0 disposable · 2 no mail domain · 0 unknown · 0 not checked');
    expect(shown).toContain(`/batches include-invalid ${batch.id} on`);

    expect(await command(`include-invalid ${batch.id} on`, 'UOTHER')).toMatch(
      /Only coldbatch admins may include or exclude invalid domains/,
    );
    expect((await t.app.services.batches.get(batch.id)).includeInvalidDomains).toBe(false);
    expect(await command(`include-invalid ${batch.id} maybe`, 'UADMIN')).toContain('Say on or off');
    expect(await command('validate', 'UADMIN')).toContain('Say which batch');

    const on = await command(`include-invalid ${batch.id} on`, 'UADMIN');
    expect(on).toContain('now also reach');
    expect(on).toContain('are included');
    expect((await t.app.services.batches.get(batch.id)).includeInvalidDomains).toBe(true);
    expect(await t.app.services.audience.count()).toBe(4);
    await command(`include-invalid ${batch.id} off`, 'UADMIN');
    expect((await t.app.services.batches.get(batch.id)).includeInvalidDomains).toBe(false);
    expect(await t.app.services.audience.count()).toBe(2);

    expect(await command('help', 'UOTHER')).toContain('/batches validate');
  });
});
