import { readdirSync, readlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startTestApp, tempDir, testCore, uploadCsv } from '../helpers.js';

const csv = 'email\na@x.com\nb@x.com\nc@x.com\nd@nomx.test\n';
const campaign = { name: 'Intro', subject: 'Hi {{first_name|there}}', body: 'Hello', sendAt: 'now' };

/** How many files this process holds open on `path`, deleted or not (Linux: /proc/self/fd). */
function openOn(path: string): number {
  let n = 0;
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      const target = readlinkSync(`/proc/self/fd/${fd}`);
      if (target === path || target === `${path} (deleted)`) n++;
    } catch {
      // closed meanwhile
    }
  }
  return n;
}

describe('campaign figures in the app (counted in a worker thread)', () => {
  it('GET /campaigns/{id} shows what the inline count shows, with countedAt; stop ends the counting thread', async () => {
    const dir = tempDir();
    const t = await startTestApp(
      {
        MAIL_FROM: 'Sales <sales@coldbatch.test>',
        MAIL_POSTAL_ADDRESS: 'Av. Paulista 1000, São Paulo',
        MAIL_OUTBOX_DIR: join(dir.dir, 'outbox'),
      },
      { scheduler: false },
    );
    const dbFile = resolve(t.app.config.databasePath);
    try {
      await uploadCsv(t.url, csv, { fileName: 'leads.csv' });
      t.app.db.$client
        .prepare(`UPDATE contacts SET validation = 'no_mail_domain' WHERE email LIKE '%@nomx.test'`)
        .run();
      const created = await fetch(`${t.url}/campaigns`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(campaign),
      });
      expect(created.status).toBe(201);
      const { campaign: c } = (await created.json()) as { campaign: { id: string } };
      const got = (await (await fetch(`${t.url}/campaigns/${c.id}`)).json()) as {
        campaign: { counts: unknown; audience: unknown; countedAt: string };
      };
      expect(got.campaign).toMatchObject({
        counts: { total: 3, pending: 3, sent: 0 },
        audience: { count: 3, excluded: { no_mail_domain: 1 } },
      });
      expect(Number.isNaN(Date.parse(got.campaign.countedAt))).toBe(false);

      // The same figures counted inline, on a connection of this thread.
      const inline = testCore({ at: { path: dbFile, dir: dir.dir } });
      try {
        const d = await inline.services.progress.detail(c.id);
        expect(got.campaign).toMatchObject({ counts: d.counts, audience: d.audience });
      } finally {
        inline.cleanup();
      }
      if (process.platform === 'linux') expect(openOn(dbFile)).toBeGreaterThanOrEqual(2);
    } finally {
      await t.stop();
    }
    // Nothing holds the database open any more: neither the main connection nor the counting thread's.
    if (process.platform === 'linux') expect(openOn(dbFile)).toBe(0);
    dir.cleanup();
  });
});
