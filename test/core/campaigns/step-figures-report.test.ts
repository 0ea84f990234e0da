/**
 * The batch report of a sequence with A/B variants: each variant's figures for the batch's
 * contacts equal a naive recount of the ledger, whether the campaign reached this batch alone
 * (counted from the index) or two batches (joined to the contact's batch row by row); people sent
 * count each person once though a sequence has a row per step.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { SequenceStep } from '../../../src/core/campaigns/sequence.js';
import { importText, testCore } from '../../helpers.js';

let cores: ReturnType<typeof testCore>[] = [];
afterEach(() => {
  for (const c of cores) c.cleanup();
  cores = [];
});

const steps: SequenceStep[] = [
  { subject: 'Hi', body: 'Hello', delayDays: 0, variants: [{ subject: 'A' }, { subject: 'B' }] },
  { body: 'Bump', delayDays: 2 },
  { body: 'Last', delayDays: 2, variants: [{ body: '1' }, { body: '2' }, { body: '3' }] },
];

type Row = {
  contact: number;
  step: number;
  variant: number | null;
  status: string;
  replied: boolean;
  unsub: boolean;
};

async function scenario(twoBatches: boolean) {
  const core = testCore();
  cores.push(core);
  const s = core.services;
  const sql = core.db.$client;
  const first = await importText(
    s,
    `email\n${Array.from({ length: 30 }, (_, i) => `a${i}@x.com`).join('\n')}\n`,
  );
  if (first.kind !== 'imported') throw new Error('import failed');
  const second = await importText(
    s,
    `email\n${Array.from({ length: 10 }, (_, i) => `b${i}@x.com`).join('\n')}\n`,
    {
      fileName: 'more.csv',
    },
  );
  if (second.kind !== 'imported') throw new Error('import failed');
  const c = await s.campaigns.create({ name: 'Seq', steps }, 'U1');
  const ids = sql
    .prepare<[string], { id: number }>('SELECT id FROM contacts WHERE batch_id = ? ORDER BY id')
    .all(first.batch.id)
    .map((r) => r.id);
  const others = sql
    .prepare<[string], { id: number }>('SELECT id FROM contacts WHERE batch_id = ? ORDER BY id')
    .all(second.batch.id)
    .map((r) => r.id);
  const insert = sql.prepare(
    `INSERT INTO sends (campaign_id, contact_id, email_hash, run, step, variant, status, claimed_at, updated_at,
       replied_at, unsubscribed_at)
     VALUES (?, ?, randomblob(8), 1, ?, ?, ?, 1, 1, ?, ?)`,
  );
  const rows: Row[] = [];
  const people = twoBatches ? [...ids, ...others] : ids;
  for (const [i, contact] of people.entries()) {
    const last = (i % 3) + 1;
    for (let step = 1; step <= last; step++) {
      const nv = steps[step - 1]?.variants?.length ?? 0;
      const row: Row = {
        contact,
        step,
        variant: nv > 0 ? (Math.floor(i / 3) % nv) + 1 : null,
        status: step < last ? 'sent' : ['sent', 'bounced', 'sent', 'retry'][i % 4]!,
        replied: step === last && i % 5 === 1,
        unsub: step === last && i % 7 === 2,
      };
      rows.push(row);
      insert.run(c.id, contact, step, row.variant, row.status, row.replied ? 2 : null, row.unsub ? 2 : null);
    }
  }
  sql.prepare(`UPDATE contacts SET interest = 'interested' WHERE id % 2 = 0`).run();
  const ours = new Set(ids);
  return { s, batchId: first.batch.id, rows: rows.filter((r) => ours.has(r.contact)) };
}

/** Each variant's figures for the batch, counted one row at a time. */
function naive(rows: Row[]) {
  const keys = [
    ...new Set(rows.filter((r) => r.variant !== null).map((r) => `${r.step}:${r.variant}`)),
  ].sort();
  return keys.map((key) => {
    const [step, variant] = key.split(':').map(Number) as [number, number];
    const own = rows.filter((r) => r.step === step && r.variant === variant);
    const sent = own.filter((r) => r.status === 'sent').length;
    const replied = own.filter((r) => r.replied).length;
    const interested = own.filter((r) => r.replied && r.contact % 2 === 0).length;
    return {
      step,
      variant,
      reached: own.length,
      sent,
      bounced: own.filter((r) => r.status === 'bounced').length,
      pending: own.filter((r) => r.status === 'retry').length,
      unsubscribed: own.filter((r) => r.unsub).length,
      replied,
      interested,
    };
  });
}

describe('the batch report per variant', () => {
  for (const twoBatches of [false, true]) {
    it(`equals a naive recount (${twoBatches ? 'a campaign over two batches: joined' : 'this batch alone: from the index'})`, async () => {
      const { s, batchId, rows } = await scenario(twoBatches);
      const r = await s.reports.build(batchId);
      expect(r.campaigns).toHaveLength(1);
      const variants = r.campaigns[0]?.variants ?? [];
      const want = naive(rows);
      expect(variants).toHaveLength(5);
      expect(variants).toEqual(want.map((w) => expect.objectContaining(w)));
      for (const v of variants) {
        expect(v.rates.reply).toBe(v.sent > 0 ? Math.round((v.replied / v.sent) * 10_000) / 10_000 : null);
      }
      // Every row of the batch counts once in the campaign; people sent count each person once.
      expect(r.campaigns[0]?.reached).toBe(rows.length);
      const sentPeople = new Set(rows.filter((x) => x.status === 'sent').map((x) => x.contact));
      expect(r.funnel.sent).toBe(sentPeople.size);
    });
  }
});
