import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startTestApp, testClock, uploadCsv } from '../helpers.js';
import { startSink } from '../smtp-sink.js';

let url: string;
let stop: () => Promise<void>;
let app: Awaited<ReturnType<typeof startTestApp>>['app'];
let sink: Awaited<ReturnType<typeof startSink>>;
let failing = true;
const clock = testClock(Date.UTC(2026, 0, 14, 12));

beforeEach(async () => {
  failing = true;
  clock.set(Date.UTC(2026, 0, 14, 12));
  sink = await startSink({ reject: (to) => (failing && to.startsWith('f') ? 451 : undefined) });
  const t = await startTestApp(
    {
      MAIL_FROM: 'Sales <sales@coldbatch.test>',
      MAIL_POSTAL_ADDRESS: 'Av. Paulista 1000, São Paulo',
      SMTP_URL: sink.url,
    },
    { scheduler: false, clock },
  );
  ({ url, stop, app } = t);
});
afterEach(async () => {
  await stop();
  await sink.close();
});

/** The fields these tests read from the JSON answers. */
type Answer = {
  error: { code: string; message: string };
  rules: { pattern: string }[];
  rule: { pattern: string };
  campaign: { id: string; status: string };
};

const call = async (method: string, path: string, body?: unknown) => {
  const res = await fetch(`${url}${path}`, {
    method,
    ...(body === undefined
      ? {}
      : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as Answer };
};

describe('REST domain suppressions', () => {
  it('adds (suppressing contacts held), lists and deletes rules; refuses bad patterns and duplicates', async () => {
    await uploadCsv(url, 'email\nana@acme.com\nbob@eu.acme.com\ncai@notacme.com\n');
    const added = await call('POST', '/contacts/suppressions/domains', {
      pattern: '*.ACME.com',
      reason: 'client',
    });
    expect(added.status).toBe(201);
    expect(added.body).toMatchObject({
      rule: { pattern: '*.acme.com', actor: 'api', reason: 'client' },
      suppressedContacts: 2,
    });
    expect(await app.services.contacts.isSuppressed('bob@eu.acme.com')).toBe(true);
    expect(await app.services.contacts.isSuppressed('cai@notacme.com')).toBe(false);

    const bad = await call('POST', '/contacts/suppressions/domains', { pattern: 'acme' });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatchObject({ code: 'invalid_input' });
    expect(bad.body.error.message).toContain('pattern');
    expect((await call('POST', '/contacts/suppressions/domains', { reason: 'x' })).status).toBe(400);
    expect((await call('POST', '/contacts/suppressions/domains', { pattern: '*.acme.com' })).status).toBe(
      409,
    );

    const list = await call('GET', '/contacts/suppressions/domains');
    expect(list.body.rules.map((r) => r.pattern)).toEqual(['*.acme.com']);

    const imported = await uploadCsv(url, 'email\nnew@acme.com\nnew@other.io\n');
    expect(imported.body).toMatchObject({ report: { imported: 1, suppressed: 1 } });

    const del = await call('DELETE', `/contacts/suppressions/domains/${encodeURIComponent('*.acme.com')}`);
    expect(del.status).toBe(200);
    expect(del.body.rule.pattern).toBe('*.acme.com');
    expect((await call('DELETE', '/contacts/suppressions/domains/acme.com')).status).toBe(404);
    expect((await call('GET', '/contacts/suppressions/domains')).body.rules).toEqual([]);
    // Removing a rule keeps the contacts it suppressed suppressed.
    expect(await app.services.contacts.isSuppressed('ana@acme.com')).toBe(true);
  });
});

describe('REST retry-failed', () => {
  it('re-queues failed recipients only; unknown ones need the confirmation', async () => {
    await uploadCsv(url, 'email\nok@x.com\nf1@x.com\nf2@x.com\n');
    const created = await call('POST', '/campaigns', { name: 'c', subject: 's', body: 'b', sendAt: 'now' });
    const id = String(created.body.campaign.id);
    const tick = async () => {
      for (let i = 0; i < 20 && (await app.services.campaigns.get(id)).status !== 'completed'; i++) {
        await app.services.sending.runDue();
        clock.advance(2 * 3_600_000);
      }
    };
    expect((await call('POST', `/campaigns/${id}/retry-failed`, {})).status).toBe(409); // still sending
    await tick();
    expect(await app.services.campaigns.counts(id)).toMatchObject({ sent: 1, failed: 2 });

    const noConfirm = await call('POST', `/campaigns/${id}/retry-failed`, { includeUnknown: true });
    expect(noConfirm.status).toBe(400);
    expect(noConfirm.body.error.message).toContain('resend-unknown');
    const wrongConfirm = await call('POST', `/campaigns/${id}/retry-failed`, {
      includeUnknown: true,
      confirm: 'yes',
    });
    expect(wrongConfirm.status).toBe(400);
    expect((await app.services.campaigns.get(id)).status).toBe('completed');

    failing = false;
    const r = await call('POST', `/campaigns/${id}/retry-failed`);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ requeued: 2, campaign: { status: 'sending' } });
    await tick();
    expect(sink.received.map((m) => m.to).sort()).toEqual(['f1@x.com', 'f2@x.com', 'ok@x.com']);
    expect(await app.services.campaigns.counts(id)).toMatchObject({ sent: 3, failed: 0 });
  });
});
