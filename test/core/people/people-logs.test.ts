/**
 * A person's export and forget each leave one log line with the first 12 hex digits of the
 * address's SHA-256 and the contact id (never the address), as the README promises.
 */
import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { importText, memoryLog, startTestApp } from '../../helpers.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('people: export and forget are logged by hash and contact id', () => {
  it('GET /contacts/export and DELETE /contacts/person each log one line, without the address', async () => {
    const log = memoryLog();
    const t = await startTestApp({ LOG_LEVEL: 'info' }, { scheduler: false, logDestination: log.stream });
    cleanups.push(t.stop);
    await importText(t.app.services, 'email,name\nana@x.com,Ana\nbia@x.com,Bia\n');
    const id = t.app.db.$client.prepare(`SELECT id FROM contacts WHERE email = 'ana@x.com'`).pluck().get();
    const hash = createHash('sha256').update('ana@x.com').digest('hex').slice(0, 12);

    const exported = await fetch(`${t.url}/contacts/export?email=${encodeURIComponent('Ana@X.com')}`);
    expect(exported.status).toBe(200);
    const gone = await fetch(`${t.url}/contacts/person?email=ana%40x.com`, { method: 'DELETE' });
    expect(gone.status).toBe(200);

    const lines = log.lines();
    expect(lines.filter((l) => l.msg === 'person exported')).toEqual([
      expect.objectContaining({ hash, contactId: id, actor: 'api' }),
    ]);
    expect(lines.filter((l) => l.msg === 'person forgotten')).toEqual([
      expect.objectContaining({ hash, contactId: id, actor: 'api', contacts: 1 }),
    ]);
    expect(JSON.stringify(lines).toLowerCase()).not.toContain('ana@x.com');
  });
});
