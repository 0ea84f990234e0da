import { emailHash, normalizeEmail } from '../../src/core/keys.js';
import type { TestDatabase } from './dialects.js';

/**
 * Rows written straight into either database (test/pg/dialects.ts), for store tests that need a
 * batch, its contacts or a campaign to exist before the store under test acts. Portable SQL only.
 */
export const seedAt = 1_760_000_000_000;

export async function seedBatch(
  t: TestDatabase,
  id: string,
  options: { status?: 'importing' | 'active' | 'inactive'; createdAt?: number; contactCount?: number } = {},
): Promise<void> {
  await t.query(
    `INSERT INTO batches (id, name, source, status, created_by, created_at, activated_at, contact_count)
     VALUES ($1, $2, 'cli', $3, 'U_SEED', $4, $5, $6)`,
    [
      id,
      `${id}.csv`,
      options.status ?? 'active',
      options.createdAt ?? seedAt,
      (options.status ?? 'active') === 'active' ? (options.createdAt ?? seedAt) : null,
      options.contactCount ?? 0,
    ],
  );
}

/** Contacts of one batch (status active unless told), their ids in the order given; keeps the batch's count. */
export async function seedContacts(
  t: TestDatabase,
  batchId: string,
  emails: readonly string[],
  options: { status?: string; name?: string } = {},
): Promise<number[]> {
  const ids: number[] = [];
  for (const email of emails) {
    const normalized = normalizeEmail(email);
    const [row] = await t.query<{ id: number }>(
      `INSERT INTO contacts (email, email_hash, name, status, batch_id, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id`,
      [normalized, emailHash(normalized), options.name ?? null, options.status ?? 'active', batchId, seedAt],
    );
    if (!row) throw new Error('seedContacts: no id returned');
    ids.push(Number(row.id));
  }
  await t.query('UPDATE batches SET contact_count = contact_count + $1 WHERE id = $2', [
    emails.length,
    batchId,
  ]);
  return ids;
}

export async function seedCampaign(
  t: TestDatabase,
  id: string,
  options: { status?: string; steps?: string | null; createdAt?: number } = {},
): Promise<void> {
  await t.query(
    `INSERT INTO campaigns (id, name, subject, body, from_address, status, steps, created_by, created_at, updated_at)
     VALUES ($1, $2, 'Hello {{name}}', 'Hi {{name}}', 'sales@coldbatch.test', $3, $4, 'U_SEED', $5, $5)`,
    [id, `Campaign ${id}`, options.status ?? 'draft', options.steps ?? null, options.createdAt ?? seedAt],
  );
}
