import { afterEach, describe, expect, it } from 'vitest';
import { dialects, openTestDatabase, type TestDatabase, toSqlitePlaceholders } from '../pg/dialects.js';
import { seedBatch, seedCampaign, seedContacts } from '../pg/seed.js';

describe.each(dialects)('test databases (%s)', (dialect) => {
  let t: TestDatabase | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it('seeds a batch, its contacts and a campaign with the same SQL on both', async () => {
    t = await openTestDatabase(dialect);
    await seedBatch(t, 'batch_00000001_1760000000');
    const ids = await seedContacts(t, 'batch_00000001_1760000000', ['A@Example.com', 'b@example.com']);
    await seedCampaign(t, 'cmp_1');
    expect(ids).toHaveLength(2);
    expect(ids[1]).toBeGreaterThan(ids[0] ?? Number.POSITIVE_INFINITY);
    const rows = await t.query<{ email: string; n: number; active: boolean | number }>(
      `SELECT c.email, b.contact_count AS n, b.include_invalid_domains AS active
       FROM contacts c JOIN batches b ON b.id = c.batch_id WHERE c.id = $1`,
      [ids[0]],
    );
    expect(rows).toEqual([{ email: 'a@example.com', n: 2, active: dialect === 'sqlite' ? 0 : false }]);
    await expect(seedContacts(t, 'batch_00000001_1760000000', ['a@example.com'])).rejects.toThrow(/unique/i);
  });
});

describe('placeholders', () => {
  it('turns $n into ? with the values in order, repeats included', () => {
    expect(toSqlitePlaceholders('a = $2 AND b = $1 OR c = $2', ['x', 'y'])).toEqual({
      text: 'a = ? AND b = ? OR c = ?',
      values: ['y', 'x', 'y'],
    });
  });
});
