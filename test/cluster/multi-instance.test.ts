/**
 * Several instances on one Postgres (issue 18, PRODUCT.md §10): three real app processes
 * (src/main.ts, each with its own scheduler ticking every second) send one 5,000-contact campaign
 * to the SMTP sink; one is killed with SIGKILL mid-send and another stopped and started again.
 * Nobody gets a message twice, every ledger row ends `sent` or `unknown`, the campaign completes,
 * and the work was spread over the instances. Then a scheduled activation is applied exactly once.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { rows } from '../../src/db/pg/client.js';
import { startTestApp, waitFor } from '../helpers.js';
import { freshPg } from '../pg/pg.js';
import { startSink } from '../smtp-sink.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const token = 'api-token-cluster-e2e-0123456789';
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const n = 5000;
const csv = ['email,name', ...Array.from({ length: n }, (_, i) => `p${i}@cluster.test,P${i}`)].join('\n');

async function api<T>(url: string, path: string, init: RequestInit = {}): Promise<T> {
  const res = await fetch(url + path, {
    ...init,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...init.headers },
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${init.method ?? 'GET'} ${path}: ${res.status} ${text}`);
  return JSON.parse(text) as T;
}

describe('three instances on one Postgres', () => {
  it('send a 5,000-contact campaign through a SIGKILL and a restart: nobody twice, every row sent or unknown, completed', async () => {
    const pg = await freshPg();
    cleanups.push(pg.drop);
    // A relay slow enough (5 ms a message) for the kill to land mid-send.
    const sink = await startSink({ delayMs: 5 });
    cleanups.push(sink.close);
    const env = {
      DATABASE_URL: pg.url,
      API_TOKEN: token,
      MAIL_FROM: 'Sales <sales@cluster.test>',
      MAIL_POSTAL_ADDRESS: 'Rua Exemplo 1, São Paulo',
      SMTP_URL: sink.url,
      PUBLIC_URL: 'https://coldbatch.test',
      SMTP_MAX_CONNECTIONS: '3',
      SCHEDULER_TICK: '1s',
      VALIDATE_ON_IMPORT: 'false',
    };

    // Imported and created over REST by an instance in this process, then left to the three.
    const setup = await startTestApp(env, { scheduler: false });
    const imported = await fetch(`${setup.url}/contacts/import`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'text/csv', 'x-file-name': 'cluster.csv' },
      body: csv,
    });
    expect(imported.status).toBe(201);
    const { campaign } = await api<{ campaign: { id: string } }>(setup.url, '/campaigns', {
      method: 'POST',
      body: JSON.stringify({ name: 'Cluster', subject: 'Hi {{name}}', body: 'Hello', sendAt: 'now' }),
    });
    await setup.stop();

    const outputs: string[][] = [];
    function instance(name: string) {
      const p: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
        cwd: root,
        env: { ...process.env, ...env, PORT: '0', LOG_LEVEL: 'info', INSTANCE_NAME: name },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const output: string[] = [];
      outputs.push(output);
      p.stdout?.on('data', (d) => output.push(String(d)));
      p.stderr?.on('data', (d) => output.push(String(d)));
      const exited = new Promise((r) => p.once('exit', r));
      const stop = async (signal: NodeJS.Signals) => {
        if (p.exitCode === null && p.signalCode === null) p.kill(signal);
        await exited;
      };
      cleanups.push(() => stop('SIGKILL'));
      return { stop, output };
    }
    const received = () => sink.received.length;
    const until = (check: () => boolean | Promise<boolean>, what: string, ms = 90_000) =>
      waitFor(check, ms).catch(() => {
        throw new Error(
          `${what}: timed out at ${received()} received; last output:\n${outputs.map((o) => o.join('').slice(-1500)).join('\n---\n')}`,
        );
      });

    const a = instance('a');
    const b = instance('b');
    const c = instance('c');
    await until(() => received() >= 1000, 'sending under way');
    await a.stop('SIGKILL'); // mid-send: what it had claimed is taken over by the others
    await until(() => received() >= 2500, 'sending goes on after the kill');
    await b.stop('SIGTERM');
    const b2 = instance('b2'); // b started again
    const status = async () =>
      (
        await rows<{ status: string }>(pg.db.$client, 'SELECT status FROM campaigns WHERE id = $1', [
          campaign.id,
        ])
      )[0]?.status;
    await until(async () => (await status()) === 'completed', 'the campaign completes', 150_000).catch(
      async (e: Error) => {
        const left = await rows(
          pg.db.$client,
          `SELECT status, claimed_by, count(*) AS n FROM sends WHERE campaign_id = $1 AND status <> 'sent'
           GROUP BY status, claimed_by`,
          [campaign.id],
        );
        const all = await rows(
          pg.db.$client,
          `SELECT (SELECT count(*) FROM sends WHERE campaign_id = $1) AS sends,
                  (SELECT count(DISTINCT contact_id) FROM sends WHERE campaign_id = $1) AS contacts,
                  c.status, c.run_count, c.status_reason FROM campaigns c WHERE c.id = $1`,
          [campaign.id],
        );
        throw new Error(`${e.message}\nledger rows not sent: ${JSON.stringify(left)} ${JSON.stringify(all)}`);
      },
    );

    // Nobody got a message twice.
    const perRecipient = new Map<string, number>();
    for (const m of sink.received) perRecipient.set(m.to, (perRecipient.get(m.to) ?? 0) + 1);
    expect([...perRecipient.values()].filter((k) => k > 1)).toEqual([]);
    // Every ledger row is sent or unknown (the killed instance's messages in flight), one per contact.
    const ledger = await rows<{ status: string; n: number }>(
      pg.db.$client,
      'SELECT status, count(*) AS n FROM sends WHERE campaign_id = $1 GROUP BY status ORDER BY status',
      [campaign.id],
    );
    const by = Object.fromEntries(ledger.map((r) => [r.status, r.n]));
    expect(Object.keys(by).filter((s) => s !== 'sent' && s !== 'unknown')).toEqual([]);
    expect((by.sent ?? 0) + (by.unknown ?? 0)).toBe(n);
    // What the sink holds: every sent row, and at most the unknown ones besides.
    expect(perRecipient.size).toBeGreaterThanOrEqual(by.sent ?? 0);
    expect(perRecipient.size).toBeLessThanOrEqual(n);
    // The work was spread: every instance that ran claimed some of it.
    const claimers = await rows<{ instances: number }>(
      pg.db.$client,
      'SELECT count(DISTINCT claimed_by) AS instances FROM sends WHERE campaign_id = $1',
      [campaign.id],
    );
    expect(claimers[0]?.instances).toBeGreaterThanOrEqual(3);

    // A scheduled activation is applied once, by one of the running instances.
    const other = await fetch(`${(await waitForUrl(c.output)) ?? ''}/contacts/import?activate=false`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'text/csv', 'x-file-name': 'next.csv' },
      body: 'email\nnext1@cluster.test\nnext2@cluster.test',
    });
    expect(other.status).toBe(201);
    const batch = ((await other.json()) as { batch: { id: string } }).batch.id;
    const url = (await waitForUrl(b2.output)) ?? '';
    await api(url, `/contacts/batches/${batch}/activate`, {
      method: 'POST',
      body: JSON.stringify({ at: new Date(Date.now() + 2000).toISOString() }),
    });
    const events = async () =>
      (
        await rows<{ n: number }>(
          pg.db.$client,
          `SELECT count(*) AS n FROM batch_events WHERE batch_id = $1 AND kind = 'activated'`,
          [batch],
        )
      )[0]?.n ?? 0;
    await until(async () => (await events()) >= 1, 'the scheduled activation is applied', 30_000);
    await new Promise((r) => setTimeout(r, 3000)); // two more ticks on every instance
    expect(await events()).toBe(1);
    await Promise.all([b2.stop('SIGTERM'), c.stop('SIGTERM')]);
  }, 300_000);
});

/** The REST URL an instance logged when it started listening. */
async function waitForUrl(output: string[]): Promise<string | undefined> {
  const port = await waitFor(() => /"port":(\d+)/.exec(output.join(''))?.[1], 30_000);
  return `http://127.0.0.1:${port}`;
}
