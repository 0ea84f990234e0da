/** A date filter that is not a real day is refused (400, saying what to write), not an empty page. */
import { afterEach, describe, expect, it } from 'vitest';
import { parseFilterText } from '../../../src/core/batches/contact-filter.js';
import { importText, refusal, startTestApp } from '../../helpers.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('contact filter dates', () => {
  it('REST: createdFrom=2026-13-45 or 2026-02-30 → 400 naming the field; a real day filters', async () => {
    const t = await startTestApp({}, { scheduler: false });
    cleanups.push(t.stop);
    const r = await importText(t.app.services, 'email\nana@x.com\n');
    const id = r.batch.id;
    for (const bad of ['2026-13-45', '2026-02-30', 'yesterday']) {
      for (const path of [`/contacts/batches/${id}`, `/contacts/batches/${id}/export`]) {
        const res = await fetch(`${t.url}${path}?createdFrom=${bad}`);
        expect(res.status).toBe(400);
        const body = (await res.json()) as { error: { code: string; message: string } };
        expect(body.error.code).toBe('invalid_input');
        expect(body.error.message).toContain('createdFrom');
        expect(body.error.message).toContain(`"${bad}" is not a date`);
      }
    }
    const ok = await fetch(`${t.url}/contacts/batches/${id}?createdFrom=2000-02-29&createdTo=2999-12-31`);
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { contacts: unknown[] }).contacts).toHaveLength(1);
  });

  it('Slack filter text: after:2026-13-45 is refused with the help text', () => {
    const e = refusal(() => parseFilterText('after:2026-13-45 company:acme'));
    expect(e.message).toMatch(/"2026-13-45" is not a date/);
    expect(parseFilterText('after:2026-01-31').createdFrom).toBe(Date.UTC(2026, 0, 31));
  });
});
