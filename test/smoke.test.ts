import { afterEach, describe, expect, it } from 'vitest';
import { startTestApp, testDialect } from './helpers.js';

describe('app', () => {
  let stop: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await stop?.();
  });

  it('serves /healthz with the state of each part', async () => {
    const t = await startTestApp();
    stop = t.stop;
    const res = await fetch(`${t.url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      ok: true,
      db: { engine: testDialect(), ok: true },
      slack: 'disabled',
      smtp: 'outbox',
    });
  });
});
