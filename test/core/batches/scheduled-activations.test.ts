import { afterEach, describe, expect, it } from 'vitest';
import { buildApp } from '../../../src/app.js';
import { parseActivationTime } from '../../../src/core/batches/scheduled-activations.js';
import { importText, refusal, testClock, testConfig, testCore, waitFor } from '../../helpers.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const noon = Date.UTC(2026, 0, 15, 12);
const hour = 3_600_000;

describe('activation times people write', () => {
  it('reads relative, ISO and local times with a timezone (DST included)', () => {
    expect(parseActivationTime('in 2h', noon)).toBe(noon + 2 * hour);
    expect(parseActivationTime('in 30m', noon)).toBe(noon + 30 * 60_000);
    expect(parseActivationTime('in 1 day', noon)).toBe(noon + 24 * hour);
    expect(parseActivationTime('2026-12-01T09:00-03:00', noon)).toBe(Date.UTC(2026, 11, 1, 12));
    expect(parseActivationTime('2026-12-01T09:00Z', noon)).toBe(Date.UTC(2026, 11, 1, 9));
    expect(parseActivationTime('2026-12-01 09:00', noon)).toBe(Date.UTC(2026, 11, 1, 9));
    expect(parseActivationTime('2026-12-01 09:00 America/Sao_Paulo', noon)).toBe(Date.UTC(2026, 11, 1, 12));
    // Lisbon is UTC+1 in summer, UTC+0 in winter.
    expect(parseActivationTime('2026-07-01 09:00 Europe/Lisbon', noon)).toBe(Date.UTC(2026, 6, 1, 8));
    expect(parseActivationTime('2026-01-20 09:00 Europe/Lisbon', noon)).toBe(Date.UTC(2026, 0, 20, 9));
  });

  it('refuses what it cannot read, saying how to write it', () => {
    for (const bad of [
      'tomorrow',
      '2026-02-30 09:00',
      '2026-12-01 25:00',
      '2026-12-01 09:00 Mars/Base',
      '',
    ]) {
      const e = refusal(() => parseActivationTime(bad, noon));
      expect(e.code).toBe('invalid_input');
      expect(e.message).toMatch(/2026-12-01 09:00|timezone|real date/);
    }
  });
});

describe('scheduled activations', () => {
  async function setup() {
    const clock = testClock(noon);
    const core = testCore({ clock });
    cleanups.push(core.cleanup);
    const s = core.services;
    const a = await importText(s, 'email\na@x.com\n', { fileName: 'a.csv' });
    const b = await importText(s, 'email\nb@x.com\n', { fileName: 'b.csv' }); // b is active
    return { clock, core, s, a: a.batch.id, b: b.batch.id };
  }

  it('applies at its time, not before, in one step with the activation, and says who scheduled it', async () => {
    const { clock, s, a, b } = await setup();
    const scheduled = await s.scheduledActivations.schedule(a, noon + hour, 'U1');
    expect(scheduled).toMatchObject({ batchId: a, state: 'pending', createdBy: 'U1', batchName: 'a.csv' });
    clock.set(noon + hour - 1);
    expect(await s.scheduledActivations.applyDue()).toEqual([]);
    expect((await s.batches.getActive())?.id).toBe(b);
    clock.set(noon + hour + 30_000);
    const [outcome] = await s.scheduledActivations.applyDue();
    expect(outcome).toMatchObject({
      applied: true,
      replaced: b,
      schedule: { state: 'applied', doneBy: 'scheduler' },
    });
    expect((await s.batches.getActive())?.id).toBe(a);
    expect((await s.batches.events(a)).at(-1)).toMatchObject({ kind: 'activated', actor: 'schedule:U1' });
    expect(await s.scheduledActivations.applyDue()).toEqual([]); // once
  });

  it('keeps one pending per batch: scheduling again replaces it; cancel; list soonest first', async () => {
    const { s, a, b } = await setup();
    await s.scheduledActivations.schedule(a, noon + 5 * hour, 'U1');
    await s.scheduledActivations.schedule(a, noon + 3 * hour, 'U2');
    await s.scheduledActivations.schedule(b, noon + 4 * hour, 'U1');
    expect((await s.scheduledActivations.listPending()).map((p) => [p.batchId, p.createdBy])).toEqual([
      [a, 'U2'],
      [b, 'U1'],
    ]);
    const cancelled = await s.scheduledActivations.cancel(a, 'U3');
    expect(cancelled).toMatchObject({ state: 'cancelled', doneBy: 'U3' });
    expect((await refusal(() => s.scheduledActivations.cancel(a, 'U3'))).code).toBe('not_found');
    expect((await s.scheduledActivations.listPending()).map((p) => p.batchId)).toEqual([b]);
  });

  it('refuses a time in the past, a year ahead, an unknown batch, and a batch still importing', async () => {
    const { core, s, a } = await setup();
    expect((await refusal(() => s.scheduledActivations.schedule(a, noon - 1, 'U1'))).message).toMatch(
      /has passed/,
    );
    expect((await refusal(() => s.scheduledActivations.schedule(a, noon + 400 * 24 * hour, 'U1'))).code).toBe(
      'invalid_input',
    );
    expect(
      (await refusal(() => s.scheduledActivations.schedule('batch_nope_1', noon + hour, 'U1'))).code,
    ).toBe('not_found');
    core.db.$client.prepare(`UPDATE batches SET status = 'importing' WHERE id = ?`).run(a);
    expect((await refusal(() => s.scheduledActivations.schedule(a, noon + hour, 'U1'))).code).toBe(
      'conflict',
    );
  });

  it('several due at once apply in time order (the latest wins); one that cannot apply is marked failed', async () => {
    const { clock, core, s, a, b } = await setup();
    const c = (await importText(s, 'email\nc@x.com\n', { fileName: 'c.csv', activate: false })).batch.id;
    await s.scheduledActivations.schedule(c, noon + 2 * hour, 'U1');
    await s.scheduledActivations.schedule(a, noon + hour, 'U1');
    await s.scheduledActivations.schedule(b, noon + 3 * hour, 'U1');
    core.db.$client.prepare(`UPDATE batches SET status = 'importing' WHERE id = ?`).run(b);
    clock.set(noon + 4 * hour);
    const outcomes = await s.scheduledActivations.applyDue();
    expect(outcomes.map((o) => [o.schedule.batchId, o.applied])).toEqual([
      [a, true],
      [c, true],
      [b, false],
    ]);
    expect(outcomes[2]!.schedule).toMatchObject({
      state: 'failed',
      note: expect.stringContaining('importing'),
    });
    expect((await s.batches.getActive())?.id).toBe(c);
  });

  it('survives a restart, and the running app applies it within its tick', async () => {
    const config = testConfig({ SCHEDULER_TICK: '1s' });
    const first = buildApp(config, { scheduler: false });
    const a = (await importText(first.services, 'email\na@x.com\n', { fileName: 'a.csv' })).batch.id;
    const b = (await importText(first.services, 'email\nb@x.com\n', { fileName: 'b.csv' })).batch.id;
    await first.services.scheduledActivations.schedule(a, Date.now() + 1500, 'U1');
    await first.stop();

    const app = buildApp(config);
    cleanups.push(() => app.stop());
    await app.start();
    expect((await app.services.batches.getActive())?.id).toBe(b);
    await waitFor(async () => (await app.services.batches.getActive())?.id === a, 10_000);
    expect(await app.services.scheduledActivations.listPending()).toEqual([]);
  });
});
