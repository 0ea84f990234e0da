/**
 * "Forget" must erase the address from the bytes on disk, not only from query results: deleted
 * rows are zeroed (secure_delete) and the WAL, which holds earlier copies of the pages, is reset.
 * Read back with the equivalent of `strings coldbatch.db | grep`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { importText, testCore } from '../helpers.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const target = 'forget.me@leads-example.com';
const onDisk = (path: string) =>
  [path, `${path}-wal`]
    .filter((f) => existsSync(f))
    .map((f) => readFileSync(f).toString('latin1'))
    .join('\n');

describe('forget erases the address from the database file', () => {
  it('after a forget, neither the database file nor its WAL holds the address', async () => {
    const core = testCore({
      env: { WEBHOOK_URLS: 'https://crm.example/hook', WEBHOOK_SECRET: 'x'.repeat(24) },
    });
    cleanups.push(core.cleanup, () => core.services.webhooks.stop());
    const s = core.services;
    const others = Array.from({ length: 300 }, (_, i) => `other${i}@leads-example.com,Other ${i}`);
    await importText(
      s,
      `email,name\n${others.slice(0, 150).join('\n')}\n${target},Forget Me\n${others.slice(150).join('\n')}\n`,
    );
    const c = await s.campaigns.create(
      { name: 'Intro', subject: 'Hi', body: 'Hello {{name}}', sendAt: 'now' },
      'U1',
    );
    for (let i = 0; i < 20 && (await s.campaigns.get(c.id)).status !== 'completed'; i++)
      await s.sending.runDue();
    core.db.$client.pragma('wal_checkpoint(PASSIVE)'); // some copies in the file, some in the WAL
    expect(onDisk(core.path)).toContain(target);

    await s.people.forgetPerson(target, 'U1');

    expect(onDisk(core.path)).not.toContain(target);
    expect(onDisk(core.path)).toContain('other299@leads-example.com'); // the others are still there
    expect(core.db.$client.prepare('SELECT count(*) FROM contacts').pluck().get()).toBe(300);
  });
});
