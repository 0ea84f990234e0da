/**
 * contacts.batch_id → batches.id, ON DELETE CASCADE, on both dialects: a declared foreign key on
 * SQLite, triggers on Postgres (pg migration 0005, which check a statement's batches once instead
 * of each row). The same outcomes on both; then what only Postgres has: another transaction
 * deleting the batch while contacts go into it, either way round.
 */
import type { PoolClient } from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { emailHash } from '../../../src/core/keys.js';
import { dialects, openTestDatabase, type TestDatabase } from '../../pg/dialects.js';
import { someoneWaitsForALock } from '../../pg/locks.js';
import { seedAt, seedBatch, seedContacts } from '../../pg/seed.js';

const A = 'batch_0000000a_1760000000';
const B = 'batch_0000000b_1760000000';

const insertContacts = (t: TestDatabase, batchId: string, emails: string[]) =>
  t.query(
    `INSERT INTO contacts (email, email_hash, status, batch_id, created_at, updated_at)
     VALUES ${emails.map((_, i) => `($${i * 2 + 1}, $${i * 2 + 2}, 'active', '${batchId}', 0, 0)`).join(', ')}`,
    emails.flatMap((e) => [e, emailHash(e)]),
  );

const emailsOf = async (t: TestDatabase, batchId: string) =>
  (
    await t.query<{ email: string }>('SELECT email FROM contacts WHERE batch_id = $1 ORDER BY id', [batchId])
  ).map((r) => r.email);

describe.each(dialects)('contacts.batch_id names a batch (%s)', (dialect) => {
  let t: TestDatabase | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it('refuses contacts of a batch that does not exist, in a statement of several rows too', async () => {
    t = await openTestDatabase(dialect);
    await seedBatch(t, A);
    await expect(insertContacts(t, B, ['x@new.test'])).rejects.toThrow(/FOREIGN KEY|foreign key/);
    // One row of three names a missing batch: the statement adds none of them.
    await expect(
      t.query(
        `INSERT INTO contacts (email, email_hash, status, batch_id, created_at, updated_at)
         VALUES ('a1@new.test', $1, 'active', $3, 0, 0), ('a2@new.test', $2, 'active', $4, 0, 0)`,
        [emailHash('a1@new.test'), emailHash('a2@new.test'), A, B],
      ),
    ).rejects.toThrow(/FOREIGN KEY|foreign key/);
    await insertContacts(t, A, ['ok1@new.test', 'ok2@new.test']);
    expect(await emailsOf(t, A)).toEqual(['ok1@new.test', 'ok2@new.test']);
  });

  it('refuses moving a contact to a batch that does not exist, and allows one that does', async () => {
    t = await openTestDatabase(dialect);
    await seedBatch(t, A);
    const [id] = await seedContacts(t, A, ['mover@new.test']);
    await expect(t.query('UPDATE contacts SET batch_id = $1 WHERE id = $2', [B, id])).rejects.toThrow(
      /FOREIGN KEY|foreign key/,
    );
    await seedBatch(t, B, { status: 'inactive' });
    await t.query('UPDATE contacts SET batch_id = $1 WHERE id = $2', [B, id]);
    expect(await emailsOf(t, B)).toEqual(['mover@new.test']);
  });

  it('deleting batches deletes their contacts and what hangs off them, and no other batch’s', async () => {
    t = await openTestDatabase(dialect);
    await seedBatch(t, A, { status: 'inactive' });
    await seedBatch(t, B);
    const [gone] = await seedContacts(t, A, ['a1@old.test', 'a2@old.test']);
    await seedContacts(t, B, ['b1@other.test']);
    await t.query(
      `INSERT INTO contact_history (contact_id, from_status, to_status, actor, at) VALUES ($1, 'active', 'bounced', 'test', $2)`,
      [gone, seedAt],
    );
    await t.query('DELETE FROM batches WHERE id = $1', [A]);
    expect(await emailsOf(t, A)).toEqual([]);
    expect(await emailsOf(t, B)).toEqual(['b1@other.test']);
    const [history] = await t.query<{ n: number }>(
      'SELECT count(*) AS n FROM contact_history WHERE contact_id = $1',
      [gone],
    );
    expect(Number(history?.n)).toBe(0);
  });
});

describe('contacts.batch_id on Postgres, with another transaction at once', () => {
  let t: TestDatabase | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  /**
   * Runs `fn` with batch A importing, `other` (a second connection inside a transaction) and the
   * test's own query function; returns how many contacts are left once it is done.
   */
  async function racing(
    fn: (other: PoolClient, query: TestDatabase['query']) => Promise<void>,
  ): Promise<number> {
    t = await openTestDatabase('postgres');
    if (t.dialect !== 'postgres') throw new Error('postgres only');
    await seedBatch(t, A, { status: 'importing' });
    const other = await t.db.$client.connect();
    try {
      await other.query('BEGIN');
      await fn(other, t.query);
    } finally {
      other.release();
    }
    const [n] = await t.query<{ n: number }>('SELECT count(*) AS n FROM contacts');
    return Number(n?.n);
  }

  it('contacts going into a batch being deleted wait for the delete, then are refused', async () => {
    const left = await racing(async (other, query) => {
      await other.query('DELETE FROM batches WHERE id = $1', [A]);
      const inserting = insertContacts(t!, A, ['late@new.test']);
      inserting.catch(() => {});
      await someoneWaitsForALock(query);
      await other.query('COMMIT');
      await expect(inserting).rejects.toThrow(/contacts_batch_id_batches_id_fk/);
    });
    expect(left).toBe(0);
  });

  it('a batch deleted while contacts go into it waits for their commit, then takes them too', async () => {
    const left = await racing(async (other, query) => {
      await other.query(
        `INSERT INTO contacts (email, email_hash, status, batch_id, created_at, updated_at) VALUES ('c1@new.test', $1, 'active', $2, 0, 0)`,
        [emailHash('c1@new.test'), A],
      );
      const deleting = query('DELETE FROM batches WHERE id = $1', [A]);
      await someoneWaitsForALock(query);
      await other.query('COMMIT');
      await deleting;
    });
    expect(left).toBe(0);
  });
});
