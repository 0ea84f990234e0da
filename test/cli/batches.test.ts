import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Batch } from '../../src/core/batches/batch.js';
import { importText, testCore } from '../helpers.js';
import { runCli } from './run-cli.js';

let core: ReturnType<typeof testCore>;
let older: Batch;
let newer: Batch;
/** `npm run batches -- …` against the test's database (the app's core stays open on it, as a running app would). */
const batches = (...args: string[]) => runCli('batches', args, { DATABASE_PATH: core.path });

beforeEach(async () => {
  core = testCore();
  older = (
    await importText(core.services, 'email,name\na@x.com,Ana\nb@x.com,Bo\n', { fileName: 'march.csv' })
  ).batch;
  newer = (await importText(core.services, 'email\nc@x.com\n', { fileName: 'april.csv' })).batch;
});
afterEach(() => core.cleanup());

describe('npm run batches', () => {
  it('list (the default) shows every batch newest first; --json gives the same as the REST API', async () => {
    const text = await batches();
    expect(text.code).toBe(0);
    const lines = text.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^ID\s+STATUS\s+CONTACTS\s+CREATED\s+NAME$/);
    expect(lines[1]).toMatch(new RegExp(`^${newer.id}\\s+active\\s+1\\s+.*april\\.csv$`));
    expect(lines[2]).toMatch(new RegExp(`^${older.id}\\s+inactive\\s+2\\s+.*march\\.csv$`));

    const json = await batches('list', '--status', 'inactive', '--json');
    expect(json.code).toBe(0);
    const page = JSON.parse(json.stdout) as { batches: Batch[]; nextCursor: string | null };
    expect(page).toEqual(await core.services.batches.list({ status: 'inactive' }));
  });

  it('show prints counts and history', async () => {
    const r = await batches('show', older.id);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`${older.id}  march.csv`);
    expect(r.stdout).toMatch(/status: inactive\s+contacts: 2/);
    expect(r.stdout).toContain(
      'contacts by status: 2 active, 0 inactive, 0 replied, 0 bounced, 0 unsubscribed, 0 complained',
    );
    expect(r.stdout).toMatch(/history:\n.*imported by test .*\n.*activated by test/);
    expect(r.stdout).toMatch(/deactivated by test/);
  });

  it('activate, deactivate and include-invalid change the database, recorded as cli', async () => {
    const activated = await batches('activate', older.id, '--reason', 'April leads paused');
    expect(activated.stderr).toBe('');
    expect(activated.code).toBe(0);
    expect(activated.stdout.trim()).toBe(
      `${older.id} is now the active batch (2 contacts). ${newer.id} is no longer active.`,
    );
    expect((await core.services.batches.getActive())?.id).toBe(older.id);
    expect((await core.services.batches.events(older.id)).at(-1)).toMatchObject({
      kind: 'activated',
      actor: 'cli',
      reason: 'April leads paused',
    });
    expect((await core.services.batches.events(newer.id)).at(-1)).toMatchObject({
      kind: 'deactivated',
      actor: 'cli',
    });

    expect((await batches('deactivate', older.id)).code).toBe(0);
    expect(await core.services.batches.getActive()).toBeNull();
    expect((await core.services.batches.events(older.id)).at(-1)).toMatchObject({
      kind: 'deactivated',
      actor: 'cli',
    });

    expect((await batches('include-invalid', newer.id, 'on')).code).toBe(0);
    expect((await core.services.batches.get(newer.id)).includeInvalidDomains).toBe(true);
    expect((await core.services.batches.events(newer.id)).at(-1)).toMatchObject({
      kind: 'included_invalid_domains',
      actor: 'cli',
    });
  });

  it('activate … in 2h schedules the activation instead', async () => {
    const r = await batches('activate', older.id, 'in', '2h');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^${older.id} will become the active batch at \\d{4}-`));
    expect(await core.services.scheduledActivations.listPending()).toMatchObject([
      { batchId: older.id, state: 'pending', createdBy: 'cli' },
    ]);
    expect((await core.services.batches.getActive())?.id).toBe(newer.id);
  });

  it('--help exits 0; bad input exits 2 with the usage and changes nothing; an unknown batch exits 1', async () => {
    const help = await batches('--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: npm run batches -- \[command\]/);
    expect(help.stdout).toContain('deactivate <batch id>');

    const bad: [string[], string][] = [
      [['frobnicate'], 'Unknown command "frobnicate".'],
      [['activate'], 'activate: the batch id is missing.'],
      [['activate', 'nope'], 'activate: the batch id must look like batch_1a2b3c4d_1703123456 (got "nope").'],
      [
        ['include-invalid', older.id, 'maybe'],
        'include-invalid: the setting must be on or off (got "maybe").',
      ],
      [['list', '--status', 'gone'], '--status'],
    ];
    const runs = await Promise.all(bad.map(([args]) => batches(...args)));
    for (const [i, [args, problem]] of bad.entries()) {
      const r = runs[i]!;
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr.split('\n')[0]).toContain(problem);
      expect(r.stderr).toContain('Usage: npm run batches --');
    }

    const unknown = await batches('activate', 'batch_00000000_1700000000');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr.trim()).toBe('No batch batch_00000000_1700000000. List batches to see the ids.');
    expect((await core.services.batches.getActive())?.id).toBe(newer.id);
  });
});
