import { afterEach, describe, expect, it } from 'vitest';
import { appTicks } from '../../../src/app-ticks.js';
import { createServices } from '../../../src/core/index.js';
import { openPg, type PgDb } from '../../../src/db/pg/client.js';
import { pgCluster } from '../../../src/db/pg/cluster.js';
import { PgInstance } from '../../../src/db/pg/instance.js';
import { pgStores } from '../../../src/db/pg/stores.js';
import { createLogger } from '../../../src/logger.js';
import { createMailer } from '../../../src/mail/index.js';
import { FakeDns, type Zone } from '../../core/validation/fake-dns.js';
import { testConfig } from '../../helpers.js';
import { pgTestDatabase, type TestDatabase } from '../../pg/dialects.js';
import { instanceProcess } from '../../pg/instance-process.js';
import { freshPg } from '../../pg/pg.js';
import { seedBatch, seedContacts } from '../../pg/seed.js';

/**
 * Validation runs on Postgres carry a lease (`validation_runs.carried_by`): a run is left to the
 * instance carrying it while that one is alive, and taken over by the next resume (the lease
 * sweep, every minute) once it was killed; the instance that commits a chunk carries it from then.
 */

const log = createLogger('silent');
const X = 'batch_0000000x_1760000000';
const T = 1_770_000_000_000;

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/**
 * Instance A: a real PgInstance in a process of its own (killed with SIGKILL, as a crash or an OOM
 * kill would), and stores here that claim for it (its id), on a pool of their own.
 */
async function instanceA(url: string): Promise<{ id: string; db: PgDb; kill: () => void }> {
  const { id, child } = await instanceProcess(url);
  cleanups.push(() => child.kill('SIGKILL'));
  const db = openPg(url, { max: 2 });
  cleanups.push(() => db.$client.end());
  return { id, db, kill: () => child.kill('SIGKILL') };
}

/** A fresh database, A (another process) and B (this one), each with its validation store. */
async function twoInstances() {
  const { db, url, drop } = await freshPg({ max: 3 });
  cleanups.push(drop);
  const t = pgTestDatabase(db, drop);
  const a = await instanceA(url);
  const b = await PgInstance.start(url, log);
  cleanups.push(() => b.stop());
  const bDb = openPg(url, { max: 3 });
  cleanups.push(() => bDb.$client.end());
  const alive = async (id: string) =>
    (
      await t.query<{ n: number }>(
        `SELECT count(*) AS n FROM pg_locks WHERE locktype = 'advisory' AND granted AND objid = hashtext($1)::oid AND objsubid = 2`,
        [id],
      )
    )[0]!.n > 0;
  /** A's process dies; resolves once the server has let its liveness lock go. */
  const killA = async () => {
    a.kill();
    for (let i = 0; i < 200 && (await alive(a.id)); i++) await new Promise((r) => setTimeout(r, 50));
    expect(await alive(a.id)).toBe(false);
  };
  expect(await alive(a.id)).toBe(true);
  return {
    t,
    a: { id: a.id, store: pgStores(a.db, { instance: { id: a.id } }).validation },
    b: { instance: b, db: bDb, stores: pgStores(bDb, { instance: b }) },
    killA,
  };
}

const carrier = async (t: TestDatabase) =>
  (
    await t.query<{ carried_by: string | null }>('SELECT carried_by FROM validation_runs WHERE status = $1', [
      'running',
    ])
  )[0]?.carried_by;

describe('validation runs carried by an instance (validation_runs.carried_by)', () => {
  it("a live instance's run is not resumed elsewhere; once it died it is, and the committer carries it", async () => {
    const k = await twoInstances();
    await seedBatch(k.t, X);
    await seedContacts(
      k.t,
      X,
      Array.from({ length: 6 }, (_, i) => `c${i}@x.test`),
    );
    const started = await k.a.store.startRun(X, 'val_1', 'U1', T);
    expect(started.kind).toBe('started');
    expect(await carrier(k.t)).toBe(k.a.id);
    expect(await k.b.stores.validation.listRunning()).toEqual([]);
    expect(await k.a.store.listRunning()).toEqual([]);
    // A carries it on for a chunk: still A's.
    const run = (await k.a.store.getRun(X))!;
    expect(
      await k.a.store.commitChunk(run, await k.a.store.readChunk(X, 0, 2), ['valid', 'valid'], T + 1),
    ).toBe(true);
    expect(await k.b.stores.validation.listRunning()).toEqual([]);

    await k.killA();
    expect(await k.b.stores.validation.listRunning()).toEqual([X]);
    const resumed = (await k.b.stores.validation.getRun(X))!;
    expect(resumed).toMatchObject({ id: 'val_1', checked: 2 });
    const chunk = await k.b.stores.validation.readChunk(X, resumed.afterId, 2);
    expect(await k.b.stores.validation.commitChunk(resumed, chunk, ['role', 'role'], T + 2)).toBe(true);
    expect(await carrier(k.t)).toBe(k.b.instance.id);
    // B's now: neither B's next resume nor a store naming no instance lists it.
    expect(await k.b.stores.validation.listRunning()).toEqual([]);
    expect(await pgStores(k.t.db).validation.listRunning()).toEqual([]);

    await k.b.instance.stop();
    expect(await pgStores(k.t.db).validation.listRunning()).toEqual([X]);
  });

  it('a run naming no instance (started by a store without one, or copied from SQLite) is anyone’s', async () => {
    const k = await twoInstances();
    await seedBatch(k.t, X);
    await seedContacts(k.t, X, ['a@x.test']);
    // A failure before any run is a row of its own: it names no carrier (only running runs do).
    await k.b.stores.validation.recordFailure(X, null, 'val_0', T, () => 'no DNS');
    expect((await pgStores(k.t.db).validation.startRun(X, 'val_1', 'U1', T + 1)).kind).toBe('started');
    expect(await k.t.query('SELECT status, carried_by FROM validation_runs ORDER BY seq')).toEqual([
      { status: 'dns_unavailable', carried_by: null },
      { status: 'running', carried_by: null },
    ]);
    expect(await k.b.stores.validation.listRunning()).toEqual([X]);
  });

  it("A killed mid-run: B's lease sweep (appTicks) resumes and finishes it; every contact a verdict, nothing counted twice", async () => {
    const k = await twoInstances();
    const zone = (name: string): Zone | undefined =>
      name === 'probe.test' || /^d\d\.test$/.test(name) ? { mx: [`mail.${name}`] } : undefined;
    const dns = await new FakeDns(zone).start();
    cleanups.push(() => dns.stop());
    await seedBatch(k.t, X);
    // 20 valid, 5 role mailboxes, 5 domains with no mail (NXDOMAIN).
    const emails = [
      ...Array.from({ length: 20 }, (_, i) => `p${i}@d${i % 4}.test`),
      ...Array.from({ length: 5 }, (_, i) => `info@d${i}.test`),
      ...Array.from({ length: 5 }, (_, i) => `q${i}@nx${i}.test`),
    ];
    await seedContacts(k.t, X, emails);
    // A started the run and committed the first 8 (valid) before it was killed.
    const started = await k.a.store.startRun(X, 'val_1', 'U1', T);
    if (started.kind !== 'started') throw new Error(started.kind);
    const first = await k.a.store.readChunk(X, 0, 8);
    expect(await k.a.store.commitChunk(started.run, first, Array(8).fill('valid'), T + 1)).toBe(true);

    // B as the app builds it: its services over its stores, and its ticks on the cluster.
    const config = testConfig({
      DNS_SERVERS: dns.address,
      VALIDATION_TIMEOUT: '300ms',
      VALIDATION_PROBE_DOMAINS: 'probe.test',
    });
    const mailer = createMailer({ outboxDir: config.mail.outboxDir, log });
    const services = createServices({ log, clock: { now: () => T + 10 } }, k.b.stores, config, mailer);
    cleanups.push(() => services.validation.stop());
    const sweep = appTicks({
      config,
      services,
      cluster: pgCluster(k.b.db, k.b.instance, log),
      engine: 'postgres',
      retentionTick: async () => {},
      sweepReplies: async () => {},
    }).find((tick) => tick.name === 'lease-sweep')!;
    expect(sweep).toMatchObject({ everyMs: 60_000 });
    const validationRun = () => k.t.query('SELECT status, checked, carried_by FROM validation_runs');
    await sweep.run();
    await services.validation.idle();
    expect(await validationRun()).toEqual([{ status: 'running', checked: 8, carried_by: k.a.id }]);

    await k.killA();
    await sweep.run();
    await services.validation.idle();
    expect(await validationRun()).toEqual([{ status: 'finished', checked: 30, carried_by: k.b.instance.id }]);
    expect(await k.t.query('SELECT count(*) AS n FROM contacts WHERE validation IS NULL')).toEqual([
      { n: 0 },
    ]);
    const counts = { valid: 20, role: 5, disposable: 0, no_mail_domain: 5, unknown: 0, unchecked: 0 };
    expect(await services.validation.counts(X)).toEqual(counts);
    const byVerdict = await k.t.query<{ validation: string; n: number }>(
      'SELECT validation, count(*) AS n FROM contacts GROUP BY validation ORDER BY validation',
    );
    expect(Object.fromEntries(byVerdict.map((r) => [r.validation, r.n]))).toEqual({
      valid: 20,
      role: 5,
      no_mail_domain: 5,
    });
    expect(await services.validation.resumeInterrupted()).toEqual([]);
  });
});
