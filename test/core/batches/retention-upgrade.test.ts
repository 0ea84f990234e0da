import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { Db } from '../../../src/db/client.js';
import { undoInboxMigrations } from '../../db/undo-inbox.js';
import { importText, testClock, testCore } from '../../helpers.js';

/*
 * Before retention_proposals (migration 0007_retention_proposals), retention remembered when it
 * proposed a batch for deletion as `retention.proposed.<batch id>` in `settings`. A database of
 * that version keeps those proposals after the upgrade (those of batches still there), and settings
 * keeps only the other features' keys.
 */

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0).reverse()) c();
});

const day = 86_400_000;

/** Turns a database of today's schema back into one of the version before retention_proposals. */
function backToSettingsVersion(db: Db, proposals: Record<string, number>): void {
  const s = db.$client;
  undoInboxMigrations(s); // and the inbox's (0008–0010)
  s.exec('DROP TABLE retention_proposals');
  // The migrator applies every migration newer than the last one it recorded: forget 0007 onwards.
  const journal = z
    .object({ entries: z.array(z.object({ tag: z.string(), when: z.number() })) })
    .parse(JSON.parse(readFileSync(new URL('../../../drizzle/meta/_journal.json', import.meta.url), 'utf8')));
  const since = journal.entries.find((e) => e.tag === '0007_retention_proposals')?.when;
  expect(since).toBeDefined();
  s.prepare('DELETE FROM __drizzle_migrations WHERE created_at >= ?').run(since);
  const put = s.prepare('INSERT INTO settings (key, value) VALUES (?, ?)');
  for (const [batchId, at] of Object.entries(proposals)) put.run(`retention.proposed.${batchId}`, String(at));
}

describe('upgrading a database that kept retention proposals in settings', () => {
  it('carries the proposals of existing batches into retention_proposals, and a deleted batch forgets its own', async () => {
    const clock = testClock(Date.UTC(2026, 0, 1));
    const old = testCore({ clock });
    cleanups.push(() => old.cleanup());
    const a = (await importText(old.services, 'email\na@x.com\n', { fileName: 'a.csv' })).batch.id;
    const b = (await importText(old.services, 'email\nb@x.com\n', { fileName: 'b.csv' })).batch.id;
    await importText(old.services, 'email\nc@x.com\n', { fileName: 'c.csv' }); // the active one
    const settingsBefore = old.db.$client.prepare('SELECT key, value FROM settings ORDER BY key').all();
    const proposedA = clock.now() + 40 * day;
    backToSettingsVersion(old.db, {
      [a]: proposedA,
      // A batch deleted since: its proposal has nothing to keep.
      batch_00000000_1700000000: clock.now(),
    });
    old.db.$client.close();

    clock.set(Date.UTC(2026, 0, 1) + 45 * day);
    const now = testCore({ clock, at: { path: old.path, dir: dirname(old.path) } });
    cleanups.push(() => now.db.$client.close());
    const s = now.db.$client;
    expect(s.prepare('SELECT batch_id AS batchId, proposed_at AS at FROM retention_proposals').all()).toEqual(
      [{ batchId: a, at: proposedA }],
    );
    // Other features' settings are untouched; retention's moved out.
    expect(s.prepare('SELECT key, value FROM settings ORDER BY key').all()).toEqual(settingsBefore);

    // a was proposed 5 days ago: not again within 30 days; b never was.
    const retention = now.services.retention;
    expect((await retention.due(30)).map((p) => p.batchId)).toEqual([b]);

    await retention.deleteBatch(a, 'U1');
    expect(s.prepare('SELECT count(*) AS n FROM retention_proposals WHERE batch_id = ?').get(a)).toEqual({
      n: 0,
    });
  });
});
