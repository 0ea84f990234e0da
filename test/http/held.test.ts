/**
 * The doctor's hold through REST (PRODUCT.md §9): a campaign whose send would start while a
 * deliverability check fails is saved `held` and nothing is sent; POST /campaigns/{id}/send-anyway
 * releases it (history: sent_anyway with who and the checks); a first start held by the send
 * engine; cancel from held; the outbox never holds; POST /campaigns returns the content warnings.
 * Real app, real SMTP sink, the doctor resolving through a DNS server on loopback.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type App, buildApp } from '../../src/app.js';
import { zones } from '../core/deliverability/dns-zone.js';
import { FakeDns, type Zone } from '../core/validation/fake-dns.js';
import { testClock, testConfig, uploadCsv } from '../helpers.js';
import { startSink } from '../smtp-sink.js';

const clock = testClock(Date.UTC(2026, 2, 10, 12));
/** heldco.com: no SPF, no DMARC (both fail), only a web address (MX warns). */
const bad: Record<string, Zone> = { 'heldco.com': { a: ['203.0.113.80'] } };
/** heldco.com set up: SPF for the relay (loopback), DMARC quarantine, an MX (DKIM only warns). */
const good: Record<string, Zone> = {
  'heldco.com': { mx: ['mx.good.test'], txt: ['v=spf1 ip4:127.0.0.1 -all'] },
  '_dmarc.heldco.com': { txt: ['v=DMARC1; p=quarantine'] },
};
let zone: Record<string, Zone> = bad;
let dns: FakeDns;
const cleanups: (() => unknown)[] = [];

beforeAll(async () => {
  dns = await new FakeDns((name) => zone[name] ?? zones[name]).start();
});
afterAll(() => dns.stop());
afterEach(async () => {
  zone = bad;
  clock.set(Date.UTC(2026, 2, 10, 12));
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** The real app with the doctor's hold on (testConfig turns it off), sending through an SMTP sink unless `outbox`. */
async function start(opts: { outbox?: boolean } = {}) {
  const sink = await startSink();
  cleanups.push(() => sink.close());
  const config = testConfig({
    MAIL_FROM: 'Sales <sales@heldco.com>',
    MAIL_POSTAL_ADDRESS: 'Rua Exemplo 100, São Paulo',
    DNS_SERVERS: dns.address,
    ...(opts.outbox ? {} : { SMTP_URL: sink.url }),
  });
  config.campaigns.holdOnDoctor = true;
  const app: App = buildApp(config, { scheduler: false, clock });
  const { port } = await app.start();
  cleanups.push(() => app.stop());
  const url = `http://127.0.0.1:${port}`;
  await uploadCsv(url, 'email,name\nana@acme.com,Ana\nbia@acme.com,Bia\n');
  return { app, url, sink };
}

type History = { at: string; actor: string; kind: string; detail: string | null }[];
type Body = {
  campaign: {
    id: string;
    status: string;
    statusReason: string | null;
    heldReason: string | null;
    heldChecks: { name: string; domain: string | null; detail: string }[] | null;
    history: History;
    historyOmitted: number;
  };
  warnings: { code: string; message: string }[];
  error: { code: string; message: string };
};

const call = async (url: string, method: string, path: string, body?: unknown) => {
  const res = await fetch(`${url}${path}`, {
    method,
    ...(body === undefined
      ? {}
      : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as Body };
};

const send = { name: 'Spring', subject: 'Hello {{first_name|there}}', body: 'A short note.' };

describe('a campaign held by the domain doctor', () => {
  it('is saved held with the failing checks, sends nothing, and goes out once an admin sends it anyway', async () => {
    const { app, url, sink } = await start();
    const created = await call(url, 'POST', '/campaigns', { ...send, sendAt: 'now' });
    expect(created.status).toBe(201);
    const c = created.body.campaign;
    expect(c.status).toBe('held');
    expect(c.heldReason).toBe('doctor');
    expect(c.heldChecks?.map((k) => [k.name, k.domain])).toEqual([
      ['spf', 'heldco.com'],
      ['dmarc', 'heldco.com'],
    ]);
    expect(c.statusReason).toContain('Send anyway');
    expect(c.history.map((e) => [e.kind, e.actor])).toEqual([
      ['created', 'api'],
      ['held', 'api'],
    ]);
    expect(c.history[1]?.detail).toContain('SPF (heldco.com)');

    await app.services.sending.runDue();
    expect(sink.received).toHaveLength(0);
    expect((await call(url, 'GET', `/campaigns/${c.id}`)).body.campaign.status).toBe('held');
    // Held is not paused: resume and schedule say what it is.
    const resume = await call(url, 'POST', `/campaigns/${c.id}/resume`);
    expect(resume.status).toBe(409);

    clock.advance(60_000);
    const released = await call(url, 'POST', `/campaigns/${c.id}/send-anyway`);
    expect(released.status).toBe(200);
    expect(released.body.campaign.status).toBe('scheduled');
    expect(released.body.campaign.heldReason).toBeNull();
    const last = released.body.campaign.history.at(-1);
    expect(last).toMatchObject({
      kind: 'sent_anyway',
      actor: 'api',
      at: new Date(clock.now()).toISOString(),
    });
    expect(last?.detail).toContain('SPF (heldco.com)');
    expect(last?.detail).toContain('DMARC (heldco.com)');
    // Twice is a conflict that says why.
    const again = await call(url, 'POST', `/campaigns/${c.id}/send-anyway`);
    expect(again.status).toBe(409);
    expect(again.body.error.message).toContain('only a held campaign can be sent anyway');

    // Its first start is not held again: the admin decided.
    await app.services.sending.runDue();
    expect(sink.received.map((m) => m.to).sort()).toEqual(['ana@acme.com', 'bia@acme.com']);
    const done = (await call(url, 'GET', `/campaigns/${c.id}`)).body.campaign;
    expect(done.status).toBe('completed');
    expect(done.history.map((e) => e.kind)).toEqual([
      'created',
      'held',
      'sent_anyway',
      'started',
      'completed',
    ]);
    expect(done.historyOmitted).toBe(0);
  });

  it('can be cancelled; sending anyway an unknown campaign is a 404', async () => {
    const { url, sink } = await start();
    const { body } = await call(url, 'POST', '/campaigns', { ...send, sendAt: 'now' });
    const cancelled = await call(url, 'POST', `/campaigns/${body.campaign.id}/cancel`);
    expect(cancelled.body.campaign.status).toBe('cancelled');
    expect(cancelled.body.campaign.history.map((e) => e.kind)).toEqual(['created', 'held', 'cancelled']);
    expect((await call(url, 'POST', `/campaigns/${body.campaign.id}/send-anyway`)).status).toBe(409);
    expect((await call(url, 'POST', '/campaigns/cmp_nope/send-anyway')).status).toBe(404);
    expect(sink.received).toHaveLength(0);
  });

  it('a draft is never held; scheduling it is', async () => {
    const { url } = await start();
    const draft = await call(url, 'POST', '/campaigns', send);
    expect(draft.body.campaign.status).toBe('draft');
    const scheduled = await call(url, 'POST', `/campaigns/${draft.body.campaign.id}/schedule`, {
      sendAt: 'now',
    });
    expect(scheduled.status).toBe(200);
    expect(scheduled.body.campaign.status).toBe('held');
    expect(scheduled.body.campaign.history.map((e) => [e.kind, e.actor])).toEqual([
      ['created', 'api'],
      ['held', 'api'],
    ]);
  });

  it('a domain whose checks pass (warns only) is not held; its first start is held when a check fails by then', async () => {
    zone = good;
    const { app, url, sink } = await start();
    const later = new Date(clock.now() + 3_600_000).toISOString();
    const { body } = await call(url, 'POST', '/campaigns', { ...send, sendAt: later });
    expect(body.campaign.status).toBe('scheduled');
    expect(body.campaign.heldChecks).toBeNull();

    // The DNS breaks before the send time; the doctor's kept report (5 min) is out of date by then.
    zone = bad;
    clock.advance(3_600_000);
    await app.services.sending.runDue();
    const held = (await call(url, 'GET', `/campaigns/${body.campaign.id}`)).body.campaign;
    expect(held.status).toBe('held');
    expect(held.heldChecks?.map((k) => k.name)).toEqual(['spf', 'dmarc']);
    expect(held.history.map((e) => [e.kind, e.actor])).toEqual([
      ['created', 'api'],
      ['held', 'system'],
    ]);
    expect(sink.received).toHaveLength(0);

    // Released after its time: it goes now.
    clock.advance(10 * 60_000);
    await call(url, 'POST', `/campaigns/${body.campaign.id}/send-anyway`);
    await app.services.sending.runDue();
    expect(sink.received).toHaveLength(2);
  });

  it('the outbox never holds: nothing leaves the machine', async () => {
    const { app, url } = await start({ outbox: true });
    const { body } = await call(url, 'POST', '/campaigns', { ...send, sendAt: 'now' });
    expect(body.campaign.status).toBe('scheduled');
    await app.services.sending.runDue();
    expect((await call(url, 'GET', `/campaigns/${body.campaign.id}`)).body.campaign.status).toBe('completed');
  });
});

describe('POST /campaigns warnings', () => {
  it('a shouty, link-heavy message gets warnings (never a refusal); a clean one none', async () => {
    const { url } = await start({ outbox: true });
    const links = [
      'https://a.example.org/1',
      'https://b.example.org/2',
      'https://c.example.org/3',
      'https://bit.ly/x',
    ];
    const loud = await call(url, 'POST', '/campaigns', {
      name: 'Loud',
      subject: 'ACT NOW BEFORE IT ENDS',
      body: `Hello!\n${links.join('\n')}`,
    });
    expect(loud.status).toBe(201);
    expect(loud.body.warnings.map((w) => w.code)).toEqual([
      'too_many_links',
      'link_shortener',
      'all_caps_subject',
      'spam_words',
    ]);
    expect(loud.body.warnings[0]?.message).toMatch(/^4 links/);

    const clean = await call(url, 'POST', '/campaigns', send);
    expect(clean.status).toBe(201);
    expect(clean.body.warnings).toEqual([]);
  });

  it('says which step and variant a warning is about', async () => {
    const { url } = await start({ outbox: true });
    const { body } = await call(url, 'POST', '/campaigns', {
      name: 'Seq',
      steps: [
        { subject: 'Hello', body: 'A short note.', delayDays: 0 },
        {
          body: 'Following up.',
          delayDays: 2,
          variants: [{ subject: 'FREE MONEY NOW' }, { subject: 'Checking in' }],
        },
      ],
    });
    expect(body.warnings.map((w) => w.message.split(':')[0])).toContain('step 2, variant 1');
    expect(body.warnings.every((w) => w.message.startsWith('step 2, variant 1: '))).toBe(true);
  });
});
