import type { ChildProcess } from 'node:child_process';
import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net';
import { hostname } from 'node:os';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { BatchService } from '../../../src/core/batches/batch-service.js';
import { ImportService } from '../../../src/core/imports/import-service.js';
import type { ClaimTarget } from '../../../src/core/sending/send-store.js';
import type { Stores } from '../../../src/core/stores.js';
import { openPg, type PgDb } from '../../../src/db/pg/client.js';
import { PgInstance } from '../../../src/db/pg/instance.js';
import { pgStores } from '../../../src/db/pg/stores.js';
import { createLogger } from '../../../src/logger.js';
import { pgTestDatabase, type TestDatabase } from '../../pg/dialects.js';
import { instanceProcess } from '../../pg/instance-process.js';
import { freshPg } from '../../pg/pg.js';
import { seedAt, seedBatch, seedCampaign, seedContacts } from '../../pg/seed.js';

/**
 * Leases on Postgres: what an instance claims (ledger rows, Slack files, importing batches) is
 * its own while it is alive, so another instance's sweep (at start, then every minute) leaves it
 * alone, and takes it over once that instance stopped, lost its connection for good, or was killed.
 */

const log = createLogger('silent');
const batch = 'batch_00000001_1760000000';
const cmp = 'cmp_1';
const t0 = seedAt + 86_400_000;
const oneStep: ClaimTarget = { id: cmp, runCount: 1, completedAt: null };
const twoSteps: ClaimTarget = { ...oneStep, sequence: { steps: 2, variantOf: () => null } };
const emails = (n: number) => Array.from({ length: n }, (_, i) => `p${i + 1}@example.com`);

/** A TCP relay to the server: closed, the instance behind it can no longer reconnect (a dead host). */
async function relayTo(url: string): Promise<{ url: string; cut: () => void; end: () => void }> {
  const target = new URL(url);
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = tcpConnect(Number(target.port), target.hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
      s.on('close', () => sockets.delete(s));
    }
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const relayed = new URL(url);
  relayed.hostname = '127.0.0.1';
  relayed.port = String(typeof address === 'object' && address ? address.port : 0);
  return {
    url: relayed.toString(),
    // No new connections from now on (the open ones end with their server side).
    cut: () => {
      if (server.listening) server.close();
    },
    end: () => {
      if (server.listening) server.close();
      for (const s of sockets) s.destroy();
    },
  };
}

type Member = { instance: PgInstance; db: PgDb; stores: Stores };

/**
 * A fresh database with instances A, B and C, each with its pool and stores (as app-database.ts
 * builds them); A joins through a relay, so a test can kill its connection for good.
 */
async function cluster() {
  const { db, url, drop } = await freshPg({ max: 3 });
  const relay = await relayTo(url);
  const members: Member[] = [];
  const join = async (through: string): Promise<Member> => {
    const instance = await PgInstance.start(through, log);
    const pool = openPg(url, { max: 3 });
    const m = { instance, db: pool, stores: pgStores(pool, { instance }) };
    members.push(m);
    return m;
  };
  const a = await join(relay.url);
  const b = await join(url);
  const c = await join(url);
  const t = pgTestDatabase(db, drop);
  /** A's process dies: its cluster connection is destroyed (pg_terminate_backend) and cannot come back. */
  const killA = async () => {
    relay.cut();
    const [held] = await t.query<{ pid: number }>(
      `SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND objid = hashtext($1)::oid AND objsubid = 2`,
      [a.instance.id],
    );
    expect(held).toBeDefined();
    await t.query('SELECT pg_terminate_backend($1, 5000)', [held!.pid]);
    await expectAlive(a.instance.id, false);
  };
  const alive = async (id: string) =>
    (
      await t.query<{ n: number }>(
        `SELECT count(*) AS n FROM pg_locks WHERE locktype = 'advisory' AND granted AND objid = hashtext($1)::oid AND objsubid = 2`,
        [id],
      )
    )[0]!.n > 0;
  /** Liveness as the server sees it (a killed backend's locks go when it has exited). */
  const expectAlive = async (id: string, expected: boolean) => {
    for (let i = 0; i < 100 && (await alive(id)) !== expected; i++)
      await new Promise((r) => setTimeout(r, 50));
    expect(await alive(id)).toBe(expected);
  };
  return {
    t,
    url,
    a,
    b,
    c,
    killA,
    expectAlive,
    close: async () => {
      for (const m of members) {
        await m.instance.stop();
        await m.db.$client.end();
      }
      relay.end();
      await drop();
    },
  };
}

type Cluster = Awaited<ReturnType<typeof cluster>>;
let open: Cluster | undefined;
const children: ChildProcess[] = [];
afterEach(async () => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
  await open?.close();
  open = undefined;
});

type SendRow = {
  id: number;
  status: string;
  attempts: number;
  claimed_by: string | null;
  response: string | null;
};
const sendRows = (t: TestDatabase) =>
  t.query<SendRow>('SELECT id, status, attempts, claimed_by, response FROM sends ORDER BY id');

/** A campaign's audience of `n` people; A claims `claimed` of them as the send engine does. */
async function aClaims(k: Cluster, n: number, claimed: number): Promise<number[]> {
  await seedBatch(k.t, batch);
  await seedContacts(k.t, batch, emails(n));
  await seedCampaign(k.t, cmp, { status: 'sending' });
  const got = await k.a.stores.sends.claim(oneStep, claimed, t0, 0, []);
  expect(got).toHaveLength(claimed);
  return got.map((c) => c.sendId);
}

describe('ledger rows claimed by an instance (sends.claimed_by)', () => {
  it('every claim writes the claimer: new people, retries and follow-ups; a store without an instance writes none', async () => {
    open = await cluster();
    const k = open;
    const ids = await aClaims(k, 4, 2);
    expect((await sendRows(k.t)).map((r) => r.claimed_by)).toEqual([k.a.instance.id, k.a.instance.id]);

    // A retry claimed by B is B's now.
    await k.a.stores.sends.settleRetry(ids[0]!, 1, t0, '421 try later', t0);
    const retried = await k.b.stores.sends.claim(oneStep, 1, t0 + 1, Number.MAX_SAFE_INTEGER, []);
    expect(retried.map((c) => c.sendId)).toEqual([ids[0]]);
    expect((await sendRows(k.t))[0]).toMatchObject({ status: 'claimed', claimed_by: k.b.instance.id });

    // A follow-up (step 2 of a sequence) claimed by C is C's; a one-step claim by a bare store, nobody's.
    await k.t.query(`UPDATE sends SET status = 'sent', next_attempt_at = NULL`);
    await k.t.query(
      `INSERT INTO sequence_people (campaign_id, contact_id, step, next_due_at, last_send_id, updated_at)
       SELECT campaign_id, contact_id, 1, $1, id, $1 FROM sends`,
      [t0],
    );
    const followUps = await k.c.stores.sends.claim(twoSteps, 5, t0 + 1, Number.MAX_SAFE_INTEGER, [], false);
    expect(followUps.map((f) => f.step)).toEqual([2, 2]);
    const bare = await pgStores(k.t.db).sends.claim(oneStep, 5, t0 + 2, 0, []);
    expect(bare).toHaveLength(2);
    expect(
      await k.t.query(
        'SELECT step, claimed_by, count(*) AS n FROM sends WHERE status = $1 GROUP BY 1, 2 ORDER BY 1, 2',
        ['claimed'],
      ),
    ).toEqual([
      { step: 1, claimed_by: null, n: 2 },
      { step: 2, claimed_by: k.c.instance.id, n: 2 },
    ]);
    // The bare store's rows (no instance named) are any sweep's; C's live rows are not.
    expect(await k.b.stores.sends.markClaimedUnknown(t0 + 3)).toBe(2);
    expect(await k.t.query(`SELECT count(*) AS n FROM sends WHERE status = 'claimed'`)).toEqual([{ n: 2 }]);
  });

  it("another instance's sweep, and A's own, leave A's rows alone while A lives; once A stopped, one sweep marks them unknown", async () => {
    open = await cluster();
    const k = open;
    await aClaims(k, 5, 3);
    expect(await k.b.stores.sends.markClaimedUnknown(t0 + 1)).toBe(0);
    expect(await k.a.stores.sends.markClaimedUnknown(t0 + 1)).toBe(0);
    expect((await sendRows(k.t)).map((r) => r.status)).toEqual(['claimed', 'claimed', 'claimed']);

    await k.a.instance.stop();
    await k.expectAlive(k.a.instance.id, false);
    expect(await k.b.stores.sends.markClaimedUnknown(t0 + 2)).toBe(3);
    expect((await sendRows(k.t)).map((r) => [r.status, r.attempts, r.response])).toEqual(
      Array(3).fill(['unknown', 1, 'the app stopped during delivery: not re-sent']),
    );
    // Swept every minute: nothing left to do, nothing counted twice.
    expect(await k.b.stores.sends.markClaimedUnknown(t0 + 3)).toBe(0);
    expect((await sendRows(k.t)).map((r) => r.attempts)).toEqual([1, 1, 1]);
  });

  it('A killed (its connection destroyed, never back): two sweeps at once take each row once', async () => {
    open = await cluster();
    const k = open;
    await aClaims(k, 6, 4);
    // B's own claims in flight at the same time stay B's.
    expect(await k.b.stores.sends.claim(oneStep, 2, t0, 0, [])).toHaveLength(2);
    expect(await k.b.stores.sends.markClaimedUnknown(t0 + 1)).toBe(0);

    await k.killA();
    await k.expectAlive(k.b.instance.id, true);
    const [fromB, fromC] = await Promise.all([
      k.b.stores.sends.markClaimedUnknown(t0 + 2),
      k.c.stores.sends.markClaimedUnknown(t0 + 2),
    ]);
    expect(fromB + fromC).toBe(4);
    const after = await sendRows(k.t);
    expect(after.filter((r) => r.claimed_by === k.a.instance.id).map((r) => [r.status, r.attempts])).toEqual(
      Array(4).fill(['unknown', 1]),
    );
    expect(after.filter((r) => r.claimed_by === k.b.instance.id).map((r) => r.status)).toEqual([
      'claimed',
      'claimed',
    ]);
  });

  it('an instance whose process is killed (SIGKILL) loses its rows to the next sweep', async () => {
    open = await cluster();
    const k = open;
    // A real PgInstance in a process of its own, killed as a crash or an OOM kill would.
    const { id, child } = await instanceProcess(k.url);
    children.push(child);
    await k.expectAlive(id, true);
    // Rows that process claimed (its store, its id).
    await seedBatch(k.t, batch);
    await seedContacts(k.t, batch, emails(3));
    await seedCampaign(k.t, cmp, { status: 'sending' });
    const pool = openPg(k.url, { max: 1 });
    try {
      expect(await pgStores(pool, { instance: { id } }).sends.claim(oneStep, 3, t0, 0, [])).toHaveLength(3);
    } finally {
      await pool.$client.end();
    }
    expect(await k.b.stores.sends.markClaimedUnknown(t0 + 1)).toBe(0);

    child.kill('SIGKILL');
    await k.expectAlive(id, false);
    expect(await k.b.stores.sends.markClaimedUnknown(t0 + 2)).toBe(3);
  });
});

describe('Slack files claimed by an instance (file_imports.claimed_by)', () => {
  const claim = (m: Member, externalId: string, at: number) =>
    m.stores.inbox.claimFile({ externalId, actor: 'U1', replyTo: `{"channel":"C${at}"}`, at });
  const files = (t: TestDatabase) =>
    t.query('SELECT external_id, state, error_code, claimed_by FROM file_imports ORDER BY external_id');

  it('sweeps leave a live instance’s files alone; once it stopped, they fail once', async () => {
    open = await cluster();
    const k = open;
    expect(await claim(k.a, 'slack:F1', 1)).toBe(true);
    expect(await claim(k.a, 'slack:F2', 2)).toBe(true);
    expect(await claim(k.b, 'slack:F2', 3)).toBe(false);
    expect(await claim(k.b, 'slack:F3', 4)).toBe(true);
    expect(await k.b.stores.inbox.failClaimedFiles('interrupted', 10)).toEqual([]);
    expect(await k.a.stores.inbox.failClaimedFiles('interrupted', 10)).toEqual([]);

    await k.a.instance.stop();
    await k.expectAlive(k.a.instance.id, false);
    const failed = await k.b.stores.inbox.failClaimedFiles('interrupted', 11);
    expect(failed).toEqual([
      {
        externalId: 'slack:F1',
        state: 'failed',
        batchId: null,
        actor: 'U1',
        replyTo: '{"channel":"C1"}',
        errorCode: 'interrupted',
      },
      {
        externalId: 'slack:F2',
        state: 'failed',
        batchId: null,
        actor: 'U1',
        replyTo: '{"channel":"C2"}',
        errorCode: 'interrupted',
      },
    ]);
    expect(await k.b.stores.inbox.failClaimedFiles('interrupted', 12)).toEqual([]);
    expect(await files(k.t)).toEqual([
      { external_id: 'slack:F1', state: 'failed', error_code: 'interrupted', claimed_by: k.a.instance.id },
      { external_id: 'slack:F2', state: 'failed', error_code: 'interrupted', claimed_by: k.a.instance.id },
      { external_id: 'slack:F3', state: 'claimed', error_code: null, claimed_by: k.b.instance.id },
    ]);
  });

  it('A killed: two sweeps at once fail (and so answer) each of its files once', async () => {
    open = await cluster();
    const k = open;
    for (let n = 1; n <= 5; n++) expect(await claim(k.a, `slack:F${n}`, n)).toBe(true);
    expect(await k.c.stores.inbox.failClaimedFiles('interrupted', 9)).toEqual([]);
    await k.killA();
    const [fromB, fromC] = await Promise.all([
      k.b.stores.inbox.failClaimedFiles('interrupted', 10),
      k.c.stores.inbox.failClaimedFiles('interrupted', 10),
    ]);
    expect([...fromB, ...fromC].map((f) => f.externalId).sort()).toEqual([
      'slack:F1',
      'slack:F2',
      'slack:F3',
      'slack:F4',
      'slack:F5',
    ]);
  });
});

describe('batches an instance is importing (batches.importing_instance)', () => {
  /** A's import: a batch `importing` with a contact, as ImportService.startImport leaves it. */
  const aImports = async (k: Cluster, id: string, importer: string) => {
    await k.a.stores.batches.startImport({
      id,
      name: `${id}.csv`,
      source: 'api',
      actor: 'U1',
      at: seedAt,
      importer,
    });
    await seedContacts(k.t, id, [`z@${id}.example.com`]);
  };
  /** Each instance's import sweep, as the app runs it: the service's own importer check included. */
  const importService = (m: Member) =>
    new ImportService(
      { log, clock: { now: () => t0 } },
      { maxBytes: 1024 * 1024 },
      m.stores.contactImports,
      new BatchService({ log, clock: { now: () => t0 } }, m.stores.batches),
    );

  it('a live instance’s import, on any host, is left to it; once it stopped, the sweep removes it with its contacts', async () => {
    open = await cluster();
    const k = open;
    // From this host (this very process: without the lease, the service would take it for an
    // earlier service of its own) and from another host (no process to ask there).
    const here = 'batch_00000001_1760000001';
    const elsewhere = 'batch_00000002_1760000002';
    await aImports(k, here, `${hostname()}:${process.pid}:0a0b0c0d`);
    await aImports(k, elsewhere, 'another-host.invalid:4242:0a0b0c0d');
    expect(await k.t.query('SELECT id, importing_instance FROM batches ORDER BY id')).toEqual([
      { id: here, importing_instance: k.a.instance.id },
      { id: elsewhere, importing_instance: k.a.instance.id },
    ]);
    expect(await k.b.stores.batches.listImporting()).toEqual([]);
    expect(await importService(k.b).sweepInterrupted()).toEqual([]);
    expect(await importService(k.a).sweepInterrupted()).toEqual([]);

    await k.a.instance.stop();
    await k.expectAlive(k.a.instance.id, false);
    expect((await k.b.stores.batches.listImporting()).map((b) => b.id).sort()).toEqual([here, elsewhere]);
    expect((await importService(k.b).sweepInterrupted()).sort()).toEqual([here, elsewhere]);
    expect(await k.t.query('SELECT count(*) AS n FROM batches')).toEqual([{ n: 0 }]);
    expect(await k.t.query('SELECT count(*) AS n FROM contacts')).toEqual([{ n: 0 }]);
  });

  it('A killed: its import elsewhere is listed by the next sweep; an import of a process still running on this host stays (the importer check)', async () => {
    open = await cluster();
    const k = open;
    const elsewhere = 'batch_00000002_1760000002';
    await aImports(k, elsewhere, 'another-host.invalid:4242:0a0b0c0d');
    // Rows with no instance (written before leases, or by a store without one): the importer
    // check alone decides, as before leases. This one names a process alive on this host.
    const cli = 'batch_00000003_1760000003';
    await pgStores(k.t.db).batches.startImport({
      id: cli,
      name: 'cli.csv',
      source: 'cli',
      actor: 'cli',
      at: seedAt,
      importer: `${hostname()}:${process.ppid}:0a0b0c0d`,
    });
    expect(await k.b.stores.batches.listImporting()).toEqual([
      { id: cli, importer: `${hostname()}:${process.ppid}:0a0b0c0d` },
    ]);
    expect(await importService(k.b).sweepInterrupted()).toEqual([]);

    await k.killA();
    expect((await k.b.stores.batches.listImporting()).map((b) => b.id).sort()).toEqual([elsewhere, cli]);
    expect(await importService(k.b).sweepInterrupted()).toEqual([elsewhere]);
    expect(await k.t.query('SELECT id FROM batches')).toEqual([{ id: cli }]);
  });
});

describe('the sweeps read only what is in flight', () => {
  /** The plan of the statement `sweep` runs on `m`'s pool (captured, then explained, not run twice). */
  async function planOf(k: Cluster, m: Member, sweep: () => Promise<unknown>): Promise<string> {
    const spy = vi.spyOn(m.db.$client, 'query');
    try {
      await sweep();
      const [text, values] = spy.mock.calls.at(-1) as unknown as [string, unknown[]];
      const plan = await k.t.query<{ 'QUERY PLAN': string }>(`EXPLAIN (COSTS OFF) ${text}`, values);
      return plan.map((r) => r['QUERY PLAN']).join('\n');
    } finally {
      spy.mockRestore();
    }
  }

  it('each sweep reads the lock table once (an anti join), and the ledger sweep only the rows in flight (sends_claimed)', async () => {
    open = await cluster();
    const k = open;
    // A ledger of 20,000 settled messages and 3 in flight.
    await seedBatch(k.t, batch);
    await seedCampaign(k.t, cmp, { status: 'sending' });
    await seedContacts(k.t, batch, emails(3));
    await k.a.stores.sends.claim(oneStep, 3, t0, 0, []);
    await k.t.query(
      `INSERT INTO sends (campaign_id, email_hash, run, status, attempts, claimed_at, updated_at)
       SELECT $1, '\\x00'::bytea, 1, 'sent', 1, $2, $2 FROM generate_series(1, 20000)`,
      [cmp, t0],
    );
    await k.t.query('ANALYZE');
    const sends = await planOf(k, k.b, () => k.b.stores.sends.markClaimedUnknown(t0 + 1));
    expect(sends).toContain('Index Scan using sends_claimed on sends');
    expect(sends).not.toMatch(/Seq Scan on sends/);
    const files = await planOf(k, k.b, () => k.b.stores.inbox.failClaimedFiles('interrupted', t0));
    const batches = await planOf(k, k.b, () => k.b.stores.batches.listImporting());
    // Liveness is read once per sweep, not once per row (no SubPlan over pg_locks).
    for (const plan of [sends, files, batches]) {
      expect(plan).toMatch(/Anti Join/);
      expect(plan.match(/Function Scan on pg_lock_status/g)).toHaveLength(1);
      expect(plan).not.toContain('SubPlan');
    }
    expect(await k.t.query(`SELECT count(*) AS n FROM sends WHERE status = 'claimed'`)).toEqual([{ n: 3 }]);
  });
});
