/**
 * 0008/0009 (the inbox) rebuild `suppressions` and `contacts` (drizzle-kit's `__new_<table>` copy,
 * to widen their CHECKs). A database at 0007 with contacts, sends and history must come out with
 * every row and every link: with foreign keys on, dropping the old `contacts` would have set
 * every send's and history row's contact_id to null (ON DELETE SET NULL).
 */
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { drizzle } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import { afterEach, describe, expect, it } from 'vitest';
import { emailHash } from '../../src/core/keys.js';
import { migrateDb, openDb } from '../../src/db/client.js';
import { tempDir } from '../helpers.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

/** drizzle/ as it was at migration `last` (the journal cut after it), copied into `dir`. */
function migrationsUpTo(dir: string, last: string): string {
  const folder = join(dir, 'drizzle');
  cpSync(resolve('drizzle'), folder, { recursive: true });
  const journalPath = join(folder, 'meta', '_journal.json');
  const journal = JSON.parse(readFileSync(journalPath, 'utf8')) as { entries: { tag: string }[] };
  const end = journal.entries.findIndex((e) => e.tag.startsWith(last));
  expect(end).toBeGreaterThanOrEqual(0);
  journal.entries = journal.entries.slice(0, end + 1);
  writeFileSync(journalPath, JSON.stringify(journal));
  return folder;
}

const counts = `SELECT
  (SELECT count(*) FROM contacts) AS contacts,
  (SELECT count(*) FROM sends) AS sends,
  (SELECT count(*) FROM sends WHERE contact_id IS NULL) AS unlinkedSends,
  (SELECT count(*) FROM contact_history) AS history,
  (SELECT count(*) FROM contact_history WHERE contact_id IS NULL) AS unlinkedHistory,
  (SELECT count(*) FROM suppressions) AS suppressions`;

describe('migrating a 0007 database to the latest (the inbox)', () => {
  it('keeps every contact, send, history row and suppression, with their links and statuses', () => {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const path = join(dir, 'old.db');
    const old = openDb(path);
    // openDb turns foreign keys on, as the app runs: the old migrations run the way they did.
    migrate(drizzle(old.$client), { migrationsFolder: migrationsUpTo(dir, '0007') });
    const sql = old.$client;
    const now = Date.UTC(2026, 0, 10);
    sql
      .prepare(
        `INSERT INTO batches (id, name, source, status, created_by, created_at, activated_at, contact_count)
         VALUES ('batch_0000000a_1767000000', 'Old list', 'api', 'active', 'api', ?, ?, 4)`,
      )
      .run(now, now);
    const statuses = ['active', 'inactive', 'bounced', 'unsubscribed'];
    statuses.forEach((status, i) => {
      const email = `p${i}@old.test`;
      sql
        .prepare(
          `INSERT INTO contacts (email, email_hash, name, status, batch_id, created_at, updated_at)
           VALUES (?, ?, ?, ?, 'batch_0000000a_1767000000', ?, ?)`,
        )
        .run(email, emailHash(email), `Person ${i}`, status, now, now);
    });
    sql
      .prepare(
        `INSERT INTO campaigns (id, name, subject, body, from_address, status, created_by, created_at, updated_at)
         VALUES ('cmp_old', 'Old', 's', 'b', 'sales@old.test', 'completed', 'api', ?, ?)`,
      )
      .run(now, now);
    const contacts = sql.prepare('SELECT id, email_hash, status FROM contacts ORDER BY id').all() as {
      id: number;
      email_hash: Buffer;
      status: string;
    }[];
    for (const c of contacts) {
      const sendStatus = c.status === 'bounced' ? 'bounced' : 'sent';
      sql
        .prepare(
          `INSERT INTO sends (campaign_id, contact_id, email_hash, run, status, attempts, message_id, claimed_at, updated_at)
           VALUES ('cmp_old', ?, ?, 1, ?, 1, ?, ?, ?)`,
        )
        .run(c.id, c.email_hash, sendStatus, `<m${c.id}@old.test>`, now, now);
      if (c.status !== 'active') {
        sql
          .prepare(
            `INSERT INTO contact_history (contact_id, from_status, to_status, actor, reason, at) VALUES (?, 'active', ?, 'system', 'old', ?)`,
          )
          .run(c.id, c.status, now);
        if (c.status !== 'inactive') {
          sql
            .prepare(
              `INSERT INTO suppressions (email_hash, reason, actor, created_at) VALUES (?, ?, 'system', ?)`,
            )
            .run(c.email_hash, c.status, now);
        }
      }
    }
    const before = sql.prepare(counts).get();
    const sendsBefore = sql.prepare('SELECT id, contact_id, status FROM sends ORDER BY id').all();
    const contactsBefore = sql.prepare('SELECT id, email, status, name FROM contacts ORDER BY id').all();
    const historyBefore = sql
      .prepare('SELECT id, contact_id, to_status FROM contact_history ORDER BY id')
      .all();
    expect(before).toMatchObject({ contacts: 4, sends: 4, unlinkedSends: 0, history: 3, suppressions: 2 });
    old.$client.close();

    const db = openDb(path);
    migrateDb(db);
    const s = db.$client;
    try {
      expect(s.prepare(counts).get()).toEqual(before);
      expect(s.prepare('SELECT id, contact_id, status FROM sends ORDER BY id').all()).toEqual(sendsBefore);
      expect(s.prepare('SELECT id, email, status, name FROM contacts ORDER BY id').all()).toEqual(
        contactsBefore,
      );
      expect(s.prepare('SELECT id, contact_id, to_status FROM contact_history ORDER BY id').all()).toEqual(
        historyBefore,
      );
      // The new columns and tables are there, and the widened CHECKs take the new values.
      expect(s.prepare('SELECT count(*) AS n FROM inbox_messages').get()).toEqual({ n: 0 });
      s.prepare(
        `UPDATE contacts SET status = 'replied', interest = 'interested' WHERE email = 'p0@old.test'`,
      ).run();
      s.prepare(`UPDATE contacts SET status = 'complained' WHERE email = 'p1@old.test'`).run();
      s.prepare(`UPDATE sends SET replied_at = 1, complained_at = 1, soft_bounced_at = 1 WHERE id = 1`).run();
      s.prepare(
        `INSERT INTO suppressions (email_hash, reason, actor, created_at) VALUES (?, 'soft_bounced', 'system', 1)`,
      ).run(emailHash('x@old.test'));
      expect(() => s.prepare(`UPDATE contacts SET status = 'nonsense' WHERE id = 1`).run()).toThrow(/CHECK/);
      // Foreign keys are on again, and hold.
      expect(s.pragma('foreign_keys', { simple: true })).toBe(1);
      expect(s.pragma('foreign_key_check')).toEqual([]);
      // Deleting a contact still unlinks (not deletes) its send: the keys point at the new table.
      s.prepare(`DELETE FROM contacts WHERE email = 'p3@old.test'`).run();
      expect(s.prepare('SELECT count(*) AS n FROM sends WHERE contact_id IS NULL').get()).toEqual({ n: 1 });
      expect(s.prepare('SELECT count(*) AS n FROM sends').get()).toEqual({ n: 4 });
    } finally {
      s.close();
    }
  });
});
