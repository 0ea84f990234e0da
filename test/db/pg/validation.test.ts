/**
 * Every ValidationStore method on both dialects, the same scenario on the SQLite store and on the
 * Postgres one: a batch's runs from start to finish (cursor, verdicts, counts, recounts after
 * deletions), DNS failures, the state an older version kept in `settings`. Then what only
 * Postgres has to survive: several instances starting or carrying on one batch's run at once.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { RunState, ValidationStore } from '../../../src/core/validation/validation-store.js';
import { PgValidationStore } from '../../../src/db/pg/validation-store.js';
import { SqliteValidationStore } from '../../../src/db/sqlite/validation-store.js';
import { dialects, openTestDatabase, type TestDatabase } from '../../pg/dialects.js';
import { seedBatch, seedContacts } from '../../pg/seed.js';

const X = 'batch_0000000x_1760000000';
const T = 1_770_000_000_000;
const none = { valid: 0, role: 0, disposable: 0, no_mail_domain: 0, unknown: 0 };

function storeFor(t: TestDatabase): ValidationStore {
  return t.dialect === 'sqlite' ? new SqliteValidationStore(t.db) : new PgValidationStore(t.db);
}

/** Removes a contact the way a deletion does: its row, and one off its batch's count. */
async function deleteContact(t: TestDatabase, id: number, batchId: string): Promise<void> {
  await t.query('DELETE FROM contacts WHERE id = $1', [id]);
  await t.query('UPDATE batches SET contact_count = contact_count - 1 WHERE id = $1', [batchId]);
}

const runsOf = (t: TestDatabase, batchId: string) =>
  t.query<{
    id: string;
    seq: number;
    status: string;
    after_id: number;
    checked: number;
    counted_of: number | null;
  }>(
    'SELECT id, seq, status, after_id, checked, counted_of FROM validation_runs WHERE batch_id = $1 ORDER BY seq',
    [batchId],
  );

describe.each(dialects)('validation store (%s)', (dialect) => {
  let t: TestDatabase | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it('runs a batch from start to finish: cursor, verdicts, counts, deletions, recounts', async () => {
    t = await openTestDatabase(dialect);
    await seedBatch(t, X);
    await seedBatch(t, 'batch_importing', { status: 'importing' });
    const ids = await seedContacts(t, X, ['a@x.test', 'info@x.test', 'c@x.test', 'd@nx.test', 'e@x.test']);
    const s = storeFor(t);
    expect(await s.getBatch('nope')).toBeUndefined();
    const batch = { id: X, status: 'active', contactCount: 5, includeInvalidDomains: false };
    expect(await s.getBatch(X)).toEqual(batch);
    expect([await s.getRun(X), await s.getCounts(X), await s.getFailure(X)]).toEqual([null, null, null]);
    expect(await s.listRunning()).toEqual([]);

    expect(await s.startRun('nope', 'val_0', 'U1', T)).toEqual({ kind: 'not_found' });
    expect(await s.startRun('batch_importing', 'val_0', 'U1', T)).toMatchObject({ kind: 'importing' });
    const run: RunState = { id: 'val_1', batchId: X, actor: 'U1', startedAt: T, afterId: 0, checked: 0 };
    expect(await s.startRun(X, 'val_1', 'U1', T)).toEqual({ kind: 'started', run, batch });
    expect(await s.startRun(X, 'val_2', 'U2', T + 1)).toEqual({ kind: 'running', run, batch });
    expect(await s.getRun(X)).toEqual(run);
    expect(await s.listRunning()).toEqual([X]);

    const first = await s.readChunk(X, 0, 3);
    expect(first).toEqual([
      { id: ids[0], email: 'a@x.test' },
      { id: ids[1], email: 'info@x.test' },
      { id: ids[2], email: 'c@x.test' },
    ]);
    expect(await s.commitChunk({ ...run, id: 'val_other' }, first, ['valid', 'role', 'valid'], T + 2)).toBe(
      false,
    );
    expect(await s.commitChunk(run, first, ['valid', 'role', 'valid'], T + 2)).toBe(true);
    expect(await s.getCounts(X)).toEqual({ ...none, valid: 2, role: 1, contactCount: 5, finishedAt: null });
    const advanced = await s.getRun(X);
    expect(advanced).toEqual({ ...run, afterId: ids[2], checked: 3 });

    // The next chunk is read, then one of its contacts is deleted before the verdicts are written:
    // it is not counted, and the batch's count changed, so the counts are taken again.
    const second = await s.readChunk(X, advanced!.afterId, 10);
    expect(second.map((r) => r.id)).toEqual([ids[3], ids[4]]);
    await deleteContact(t, ids[4]!, X);
    expect(await s.commitChunk(advanced!, second, ['no_mail_domain', 'valid'], T + 3)).toBe(true);
    expect(await s.getCounts(X)).toEqual({
      ...none,
      valid: 2,
      role: 1,
      no_mail_domain: 1,
      contactCount: 4,
      finishedAt: null,
    });
    const last = await s.getRun(X);
    expect(last).toMatchObject({ afterId: ids[4], checked: 5 });
    expect(await s.readChunk(X, last!.afterId, 10)).toEqual([]);

    expect(await s.finishRun({ ...last!, id: 'val_other' }, T + 4)).toBe(false);
    expect(await s.finishRun(last!, T + 4)).toBe(true);
    expect(await s.finishRun(last!, T + 5)).toBe(false);
    expect(await s.getRun(X)).toBeNull();
    expect(await s.listRunning()).toEqual([]);
    const finished = { ...none, valid: 2, role: 1, no_mail_domain: 1, contactCount: 4, finishedAt: T + 4 };
    expect(await s.getCounts(X)).toEqual(finished);
    expect(await s.getFailure(X)).toBeNull();
    const verdicts = await t.query<{ validation: string | null; at: number | null }>(
      'SELECT validation, validated_at AS at FROM contacts WHERE batch_id = $1 ORDER BY id',
      [X],
    );
    expect(verdicts.map((v) => [v.validation, Number(v.at)])).toEqual([
      ['valid', T + 2],
      ['role', T + 2],
      ['valid', T + 2],
      ['no_mail_domain', T + 3],
    ]);

    // A deletion after the run: the stored counts are taken at 4 contacts; recount stores them again.
    await deleteContact(t, ids[1]!, X);
    expect(await s.recount(X)).toEqual({ ...finished, role: 0, contactCount: 3 });
    expect(await s.getCounts(X)).toEqual({ ...finished, role: 0, contactCount: 3 });
    expect(await s.recount('nope')).toBeNull();
    expect(await s.recount('batch_importing')).toBeNull(); // no run ever

    // A second run starts from the counts the first left.
    expect(await s.startRun(X, 'val_3', 'U1', T + 10)).toMatchObject({ kind: 'started' });
    expect(await s.getCounts(X)).toEqual({ ...finished, role: 0, contactCount: 3 });
    expect(await runsOf(t, X)).toEqual([
      { id: 'val_1', seq: 1, status: 'finished', after_id: ids[4], checked: 5, counted_of: 3 },
      { id: 'val_3', seq: 2, status: 'running', after_id: 0, checked: 0, counted_of: 3 },
    ]);
  });

  it('records DNS failures before a run and during one', async () => {
    t = await openTestDatabase(dialect);
    await seedBatch(t, X);
    await seedContacts(t, X, ['a@x.test', 'b@x.test']);
    const s = storeFor(t);
    const asked: unknown[] = [];
    const describe = (p: { checked: number; total: number }) => {
      asked.push(p);
      return `DNS failing after ${p.checked} of ${p.total}`;
    };
    expect(await s.recordFailure('nope', null, 'val_f0', T, describe)).toBeNull();
    const before = {
      runId: 'val_f1',
      status: 'dns_unavailable',
      message: 'DNS failing after 0 of 2',
      at: T,
      checked: 0,
    };
    expect(await s.recordFailure(X, null, 'val_f1', T, describe)).toEqual(before);
    expect(await s.getFailure(X)).toEqual(before);
    expect([await s.getRun(X), await s.getCounts(X)]).toEqual([null, null]);

    const started = await s.startRun(X, 'val_r', 'U1', T + 1);
    if (started.kind !== 'started') throw new Error(started.kind);
    expect(await s.getFailure(X)).toBeNull(); // a run started again
    // Another run is current: nothing recorded.
    expect(await s.recordFailure(X, null, 'val_f2', T + 2, describe)).toBeNull();
    expect(await s.recordFailure(X, 'val_gone', 'val_f2', T + 2, describe)).toBeNull();
    const [row] = await s.readChunk(X, 0, 1);
    expect(await s.commitChunk(started.run, [row!], ['valid'], T + 3)).toBe(true);
    const during = {
      runId: 'val_r',
      status: 'dns_unavailable',
      message: 'DNS failing after 1 of 2',
      at: T + 4,
      checked: 1,
    };
    expect(await s.recordFailure(X, 'val_r', 'val_f3', T + 4, describe)).toEqual(during);
    expect(await s.getFailure(X)).toEqual(during);
    expect(await s.getRun(X)).toBeNull();
    expect(await s.getCounts(X)).toEqual({ ...none, valid: 1, contactCount: 2, finishedAt: null });
    expect(asked).toEqual([
      { checked: 0, total: 2 },
      { checked: 1, total: 2 },
    ]);
    expect((await runsOf(t, X)).map((r) => [r.id, r.seq, r.status])).toEqual([
      ['val_f1', 1, 'dns_unavailable'],
      ['val_r', 2, 'dns_unavailable'],
    ]);
  });

  it('lists running batches in byte order, as SQLite does', async () => {
    t = await openTestDatabase(dialect);
    const ids = ['b_a', 'b-b', 'b_Z', 'B_c'];
    for (const id of ids) await seedBatch(t, id, { status: 'inactive' });
    const s = storeFor(t);
    for (const id of ids) await s.startRun(id, `val_${id}`, 'U1', T);
    expect(await s.listRunning()).toEqual(['B_c', 'b-b', 'b_Z', 'b_a']);
  });

  it('moves the state an older version kept in settings into runs, once', async () => {
    t = await openTestDatabase(dialect);
    for (const id of ['b_done', 'b_running', 'b_failed']) await seedBatch(t, id, { status: 'inactive' });
    const put = (key: string, value: unknown) =>
      t!.query('INSERT INTO settings (key, value) VALUES ($1, $2)', [
        key,
        typeof value === 'string' ? value : JSON.stringify(value),
      ]);
    const counts = { valid: 3, role: 0, disposable: 0, no_mail_domain: 1, unknown: 0, contactCount: 4 };
    await put('validation:counts:b_done', { ...counts, finishedAt: T });
    await put('validation:counts:b_running', { ...counts, finishedAt: null });
    await put('validation:run:b_running', {
      id: 'val_old',
      batchId: 'b_running',
      actor: 'U1',
      startedAt: T,
      afterId: 7,
      checked: 2,
    });
    const failure = { runId: 'val_fail', status: 'dns_unavailable', message: 'no DNS', at: T, checked: 1 };
    await put('validation:failure:b_failed', failure);
    await put('validation:counts:b_deleted', { ...counts, finishedAt: T });
    await put('validation:counts:b_done_garbled', '{not json');
    await put('unrelated', 'kept');
    const s = storeFor(t);
    expect(await s.getCounts('b_done')).toEqual({
      ...none,
      valid: 3,
      no_mail_domain: 1,
      contactCount: 4,
      finishedAt: T,
    });
    expect(await s.getRun('b_running')).toEqual({
      id: 'val_old',
      batchId: 'b_running',
      actor: 'U1',
      startedAt: T,
      afterId: 7,
      checked: 2,
    });
    expect(await s.getCounts('b_running')).toMatchObject({ valid: 3, contactCount: 4, finishedAt: null });
    expect(await s.getFailure('b_failed')).toEqual(failure);
    expect(await s.listRunning()).toEqual(['b_running']);
    const left = await t.query<{ key: string }>('SELECT key FROM settings ORDER BY key');
    expect(left.map((r) => r.key)).toEqual(['unrelated', 'validation:counts:b_done_garbled']);
    // A second store (the next start) finds nothing to move.
    await storeFor(t).getRun('b_running');
    const [n] = await t.query<{ n: number }>('SELECT count(*) AS n FROM validation_runs');
    expect(Number(n?.n)).toBe(3);
  });
});

describe('validation store, Postgres with several instances', () => {
  let t: TestDatabase | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it('two instances starting a run for one batch at once: one starts it, the other gets it as running', async () => {
    t = await openTestDatabase('postgres');
    if (t.dialect !== 'postgres') throw new Error('postgres only');
    const [one, two] = [new PgValidationStore(t.db), new PgValidationStore(t.db)];
    for (let i = 0; i < 8; i++) {
      const batchId = `batch_race${i}`;
      await seedBatch(t, batchId, { status: 'inactive' });
      // A failure recorded before makes each start copy the latest row: the seq must not repeat.
      if (i % 2 === 1) await one.recordFailure(batchId, null, `val_f${i}`, T, () => 'no DNS');
      const [a, b] = await Promise.all([
        one.startRun(batchId, `val_a${i}`, 'U1', T + 1),
        two.startRun(batchId, `val_b${i}`, 'U2', T + 1),
      ]);
      expect([a.kind, b.kind].sort()).toEqual(['running', 'started']);
      if (
        a.kind === 'not_found' ||
        a.kind === 'importing' ||
        b.kind === 'not_found' ||
        b.kind === 'importing'
      )
        throw new Error('unexpected');
      expect(a.run.id).toBe(b.run.id);
      const runs = await runsOf(t, batchId);
      expect(runs.filter((r) => r.status === 'running').map((r) => r.id)).toEqual([a.run.id]);
    }
  });

  it('two instances carrying one run on: the first to commit a chunk goes on, the other stops; nothing counted twice', async () => {
    t = await openTestDatabase('postgres');
    if (t.dialect !== 'postgres') throw new Error('postgres only');
    await seedBatch(t, X);
    await seedContacts(
      t,
      X,
      Array.from({ length: 40 }, (_, i) => `c${i}@x.test`),
    );
    const [one, two] = [new PgValidationStore(t.db), new PgValidationStore(t.db)];
    const started = await one.startRun(X, 'val_1', 'U1', T);
    if (started.kind !== 'started') throw new Error(started.kind);
    for (let round = 0; round < 10; round++) {
      // Both read the run and its next chunk, as two runners do, then commit at once.
      const [runA, runB] = await Promise.all([one.getRun(X), two.getRun(X)]);
      const chunk = await one.readChunk(X, runA!.afterId, 4);
      const results = await Promise.all([
        one.commitChunk(runA!, chunk, ['valid', 'valid', 'valid', 'valid'], T + 1),
        two.commitChunk(runB!, chunk, ['role', 'role', 'role', 'role'], T + 1),
      ]);
      expect(results.sort()).toEqual([false, true]);
      // A runner still holding the run as it was is told to stop.
      expect(await two.commitChunk(runB!, chunk, ['unknown', 'unknown', 'unknown', 'unknown'], T + 2)).toBe(
        false,
      );
    }
    expect(await one.getRun(X)).toMatchObject({ checked: 40 });
    const counts = await one.getCounts(X);
    expect(counts).toMatchObject({ unknown: 0, contactCount: 40 });
    expect(counts!.valid + counts!.role).toBe(40);
    const [verdicts] = await t.query<{ valid: number; role: number }>(
      `SELECT count(*) FILTER (WHERE validation = 'valid') AS valid, count(*) FILTER (WHERE validation = 'role') AS role
         FROM contacts WHERE batch_id = $1`,
      [X],
    );
    expect(verdicts).toEqual({ valid: counts!.valid, role: counts!.role });
  });
});
