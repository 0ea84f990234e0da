/**
 * A sequence's figures per step and variant (ProgressService.detail → `steps`, `followUps`): a
 * ledger built row by row in the test database (steps, variants, statuses, the mailbox's marks,
 * unsubscribes, interested contacts, people waiting) against a naive recount of the same rows,
 * inline and in the counting thread; a one-step campaign asks for nothing more.
 */
import { dirname } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { FigureRequest } from '../../../src/core/audience/audience-service.js';
import type { Campaign, CampaignCounts } from '../../../src/core/campaigns/campaign.js';
import { ProgressService } from '../../../src/core/campaigns/progress.js';
import type { SequenceStep } from '../../../src/core/campaigns/sequence.js';
import { stepFigures, withStepFigures } from '../../../src/core/campaigns/step-figures.js';
import { CountReader } from '../../../src/db/sqlite/count-reader.js';
import { importText, testClock, testCore } from '../../helpers.js';

let cores: ReturnType<typeof testCore>[] = [];
afterEach(() => {
  for (const c of cores) c.cleanup();
  cores = [];
});

const t0 = Date.UTC(2026, 2, 2, 9);

/** Step 1 with 2 variants, step 2 plain, step 3 with 3 variants. */
const steps: SequenceStep[] = [
  { subject: 'Hi', body: 'Hello', delayDays: 0, variants: [{ subject: 'Hi A' }, { subject: 'Hi B' }] },
  { body: 'Following up', delayDays: 2 },
  { body: 'Last one', delayDays: 3, variants: [{ body: 'v1' }, { body: 'v2' }, { body: 'v3' }] },
];

type Row = {
  contact: number;
  step: number;
  variant: number | null;
  status: string;
  replied: boolean;
  complained: boolean;
  softBounced: boolean;
  unsubscribed: boolean;
};

const statuses = ['sent', 'sent', 'sent', 'sent', 'bounced', 'failed', 'unknown', 'claimed', 'retry'];

/**
 * `people` contacts; the first `reached` of them have ledger rows: step 1 for all, step 2 for
 * two in three of those, step 3 for half of those again; statuses, marks and interest spread by
 * a fixed rule so every figure is non-zero somewhere. The others are still to go (pending).
 */
async function ledger(opts: { people: number; reached: number; plainStep1?: boolean }) {
  const core = testCore({ clock: testClock(t0) });
  cores.push(core);
  const s = core.services;
  const sqlite = core.db.$client;
  const emails = Array.from({ length: opts.people }, (_, i) => `p${i}@x.com`);
  const r = await importText(s, `email\n${emails.join('\n')}\n`);
  if (r.kind !== 'imported') throw new Error('import failed');
  const c = await s.campaigns.create({ name: 'Seq', subject: 'Hi', body: 'Hello' }, 'U1');
  const defined: SequenceStep[] = opts.plainStep1
    ? [{ subject: 'Hi', body: 'Hello', delayDays: 0 }, ...steps.slice(1)]
    : steps;
  sqlite.prepare('UPDATE campaigns SET steps = ? WHERE id = ?').run(JSON.stringify(defined), c.id);
  const ids = sqlite
    .prepare<[], { id: number }>('SELECT id FROM contacts ORDER BY id')
    .all()
    .map((x) => x.id);
  const rows: Row[] = [];
  const insert = sqlite.prepare(
    `INSERT INTO sends (campaign_id, contact_id, email_hash, run, step, variant, status, claimed_at, updated_at,
       replied_at, complained_at, soft_bounced_at, unsubscribed_at)
     VALUES (@campaign, @contact, randomblob(8), 1, @step, @variant, @status, @at, @at, @replied, @complained, @soft, @unsub)`,
  );
  const person = sqlite.prepare(
    `INSERT INTO sequence_people (campaign_id, contact_id, step, next_due_at, stop_reason, stopped_at, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?)`,
  );
  let k = 0;
  for (const [i, contact] of ids.slice(0, opts.reached).entries()) {
    const last = i % 3 === 0 ? 1 : i % 2 === 0 ? 3 : 2;
    for (let step = 1; step <= last; step++) {
      k++;
      const nVariants = defined[step - 1]?.variants?.length ?? 0;
      const row: Row = {
        contact,
        step,
        variant: nVariants > 0 ? ((contact + step) % nVariants) + 1 : null,
        // Earlier steps were sent (a later one follows only a sent step).
        status: step < last ? 'sent' : (statuses[(i * 7 + step) % statuses.length] ?? 'sent'),
        replied: step === last && i % 4 === 1,
        complained: k % 11 === 3,
        softBounced: k % 7 === 2,
        unsubscribed: step === last && k % 5 === 4,
      };
      rows.push(row);
      const at = (on: boolean) => (on ? t0 + k : null);
      insert.run({
        campaign: c.id,
        contact,
        step,
        variant: row.variant,
        status: row.status,
        at: t0,
        replied: at(row.replied),
        complained: at(row.complained),
        soft: at(row.softBounced),
        unsub: at(row.unsubscribed),
      });
    }
    // Waiting for the next step (due later, one every hour), stopped, or finished.
    const waiting = last < 3 && i % 5 !== 0;
    person.run(
      c.id,
      contact,
      last,
      waiting ? t0 + (i + 1) * 3_600_000 : null,
      !waiting && i % 5 === 0 ? 'replied' : null,
      !waiting && i % 5 === 0 ? t0 : null,
      t0,
    );
  }
  // Interest of some repliers (and of one who never replied: not counted).
  sqlite.prepare(`UPDATE contacts SET interest = 'interested' WHERE id % 3 = 0`).run();
  return { core, s, sqlite, campaignId: c.id, rows, ids };
}

/** The CampaignCounts of some rows, counted one by one. */
function recount(rows: Row[], interested: Set<number>): CampaignCounts {
  const k: CampaignCounts = {
    total: rows.length,
    pending: 0,
    sent: 0,
    failed: 0,
    bounced: 0,
    unsubscribed: 0,
    unknown: 0,
    replied: 0,
    complained: 0,
    softBounced: 0,
    interested: 0,
  };
  for (const r of rows) {
    if (r.status === 'sent' || r.status === 'failed' || r.status === 'bounced' || r.status === 'unknown')
      k[r.status]++;
    else k.pending++;
    if (r.unsubscribed) k.unsubscribed++;
    if (r.replied) k.replied++;
    if (r.complained) k.complained++;
    if (r.softBounced) k.softBounced++;
    if (r.replied && interested.has(r.contact)) k.interested++;
  }
  return k;
}

const rate = (part: number, whole: number) =>
  whole > 0 ? Math.round((part / whole) * 10_000) / 10_000 : null;
const rates = (k: CampaignCounts) => ({
  reply: { rate: rate(k.replied, k.sent), people: k.sent },
  interested: { rate: rate(k.interested, k.replied), people: k.replied },
});

/** What detail's `steps` should be, from the rows (and who is still to go, pending at step 1). */
function expected(rows: Row[], toGo: number, interested: Set<number>, variantsPerStep: number[]) {
  return variantsPerStep.map((nv, i) => {
    const own = rows.filter((r) => r.step === i + 1);
    const counts = recount(own, interested);
    if (i === 0) {
      counts.pending += toGo;
      counts.total += toGo;
    }
    return {
      index: i + 1,
      counts,
      rates: rates(counts),
      ...(nv > 0
        ? {
            variants: Array.from({ length: nv }, (_, v) => {
              const vc = recount(
                own.filter((r) => r.variant === v + 1),
                interested,
              );
              return { index: v + 1, counts: vc, rates: rates(vc) };
            }),
          }
        : {}),
    };
  });
}

const interestedOf = (ids: number[]) => new Set(ids.filter((id) => id % 3 === 0));

describe('figures per step and variant', () => {
  it('equal a naive recount of the ledger, step 1 with its variants and who is still to go', async () => {
    const { s, campaignId, rows, ids } = await ledger({ people: 120, reached: 100 });
    const d = await s.progress.detail(campaignId);
    const want = expected(rows, 20, interestedOf(ids), [2, 0, 3]);
    expect(d.steps).toEqual(want);
    // The steps add up to the campaign; every status and mark shows up somewhere.
    const sum = (key: keyof CampaignCounts) => d.steps.reduce((a, st) => a + st.counts[key], 0);
    for (const key of Object.keys(d.counts) as (keyof CampaignCounts)[]) expect(sum(key)).toBe(d.counts[key]);
    for (const key of ['sent', 'failed', 'bounced', 'unknown', 'pending', 'replied', 'interested'] as const)
      expect([key, d.counts[key]]).not.toEqual([key, 0]);
    expect(d.counts.pending).toBeGreaterThan(20);
    // Variants hold only their ledger rows: step 1's are its rows, without who is still to go.
    const v1 = d.steps[0]?.variants ?? [];
    expect(v1.reduce((a, v) => a + v.counts.total, 0)).toBe(100);
  });

  it('step 1 without variants is the campaign minus the later steps', async () => {
    const { s, campaignId, rows, ids } = await ledger({ people: 60, reached: 50, plainStep1: true });
    const d = await s.progress.detail(campaignId);
    expect(d.steps).toEqual(expected(rows, 10, interestedOf(ids), [0, 0, 3]));
    expect(d.steps[0]).not.toHaveProperty('variants');
  });

  it('who waits for a follow-up, and when the first is due', async () => {
    const { s, campaignId, sqlite } = await ledger({ people: 30, reached: 30 });
    const naive = sqlite
      .prepare<[string], { n: number; next: number }>(
        `SELECT count(*) AS n, min(next_due_at) AS next FROM sequence_people
          WHERE campaign_id = ? AND next_due_at IS NOT NULL AND stop_reason IS NULL`,
      )
      .get(campaignId)!;
    expect(naive.n).toBeGreaterThan(0);
    const d = await s.progress.detail(campaignId);
    expect(d.followUps).toEqual({ waiting: naive.n, nextDueAt: new Date(naive.next).toISOString() });
    expect((await s.progress.get(campaignId)).followUps).toEqual(d.followUps);
  });

  it('the counting thread answers the same, also after a count without steps was kept', async () => {
    const { core, campaignId } = await ledger({ people: 80, reached: 70 });
    const inline = await core.services.progress.detail(campaignId);
    const threaded = testCore({ at: { path: core.path, dir: dirname(core.path) }, countsOffThread: true });
    cores.push(threaded);
    // A count of the ledger alone is kept first: the steps are then counted, not taken from it.
    const plain = await threaded.services.audience.figures(campaignId, {
      audience: true,
      maxStaleMs: 60_000,
      now: t0,
    });
    expect(plain.sequence).toBeNull();
    const d = await threaded.services.progress.detail(campaignId);
    expect(d.steps).toEqual(inline.steps);
    expect(d.followUps).toEqual(inline.followUps);
    expect(d.counts).toEqual(inline.counts);
  });

  it('a one-step campaign asks for no step counts; its one step is the campaign', async () => {
    const { s, sqlite } = await ledger({ people: 5, reached: 0 });
    const one = await s.campaigns.create({ name: 'One', subject: 'Hi', body: 'Hello', sendAt: 'now' }, 'U1');
    await s.sending.runDue();
    const asked: FigureRequest[] = [];
    const progress = new ProgressService(
      { clock: { now: () => t0 } },
      {
        campaigns: s.campaigns,
        audience: {
          figures: (id, req) => {
            asked.push(req);
            return s.audience.figures(id, req);
          },
          reach: (now) => s.audience.reach(now),
        },
      },
    );
    const d = await progress.detail(one.id);
    expect(asked).toEqual([expect.objectContaining({ sequence: false })]);
    expect(d.steps).toEqual([{ index: 1, counts: d.counts, rates: rates(d.counts) }]);
    expect(d.followUps).toBeNull();
    expect(d.counts.sent).toBe(5);
    // The counting reader adds nothing to a one-step campaign's figures unless asked.
    expect(new CountReader(sqlite).figures(one.id, true)).not.toHaveProperty('sequence');
  });
});

describe('withStepFigures', () => {
  it('merges the figures into the definition by index, zero where nothing was counted', async () => {
    const zero = stepFigures([], { ...recount([], new Set()) }, null)[0]!;
    const defs: Campaign['steps'] = [
      { index: 1, subject: 'Hi', body: 'b', delayDays: 0 },
      { index: 2, body: 'f', delayDays: 2, variants: [{ index: 1, body: 'x' }, { index: 2 }] },
    ];
    const figures = stepFigures([0, 2], { ...zero.counts, total: 3, pending: 3 }, []);
    const merged = withStepFigures(defs, figures);
    expect(merged[0]).toMatchObject({ index: 1, subject: 'Hi', counts: { total: 3, pending: 3 } });
    expect(merged[1]?.variants).toEqual([
      { index: 1, body: 'x', counts: zero.counts, rates: zero.rates },
      { index: 2, counts: zero.counts, rates: zero.rates },
    ]);
  });
});
