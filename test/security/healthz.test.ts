/**
 * /healthz is public (load balancers call it without credentials): without the API token it says
 * only whether the parts are up; the sending identities (host:port:user, counts, caps) need the token.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startTestApp } from '../helpers.js';
import { startSink } from '../smtp-sink.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const token = 'api-token-0123456789abcdef';

describe('GET /healthz', () => {
  it('shows statuses to anyone, the SMTP accounts only with the API token', async () => {
    const sink = await startSink();
    cleanups.push(sink.close);
    const t = await startTestApp(
      {
        API_TOKEN: token,
        SMTP_URLS: `smtp://alice:pw-alice@127.0.0.1:${sink.port},smtp://bob:pw-bob@127.0.0.1:${sink.port}#cap=50`,
      },
      { scheduler: false },
    );
    cleanups.push(t.stop);

    const open = await fetch(`${t.url}/healthz`);
    expect(open.status).toBe(200);
    const text = await open.text();
    expect(Object.keys(JSON.parse(text)).sort()).toEqual(['db', 'ok', 'slack', 'smtp']);
    expect(text).not.toMatch(/alice|bob|127\.0\.0\.1|cap/);

    const wrong = await fetch(`${t.url}/healthz`, { headers: { authorization: 'Bearer nope' } });
    expect(Object.keys((await wrong.json()) as object)).not.toContain('identities');

    const authed = await fetch(`${t.url}/healthz`, { headers: { authorization: `Bearer ${token}` } });
    const body = (await authed.json()) as {
      ok: boolean;
      identities?: { key: string; capToday: number | null }[];
    };
    expect(body.ok).toBe(true);
    expect(body.identities?.map((i) => i.key)).toEqual([
      `127.0.0.1:${sink.port}:alice`,
      `127.0.0.1:${sink.port}:bob`,
    ]);
  });
});
