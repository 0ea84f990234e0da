import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Campaign } from '../../src/core/campaigns/campaign.js';
import { importText, testCore } from '../helpers.js';
import { runCli } from './run-cli.js';

let core: ReturnType<typeof testCore>;
let campaign: Campaign;
/** `npm run campaigns -- …` against the test's database, with the mail settings the app has. */
const campaigns = (...args: string[]) =>
  runCli('campaigns', args, {
    DATABASE_PATH: core.path,
    MAIL_FROM: 'Sales <sales@coldbatch.test>',
    MAIL_POSTAL_ADDRESS: 'Rua Exemplo 100, São Paulo, Brasil',
  });

beforeEach(async () => {
  core = testCore();
  await importText(core.services, 'email,name\na@x.com,Ana\nb@x.com,Bo\n');
  campaign = await core.services.campaigns.create(
    { name: 'Intro', subject: 'Hi {{first_name|there}}', body: 'Hello', sendAt: '2099-01-01T09:00:00Z' },
    'U1',
  );
});
afterEach(() => core.cleanup());

describe('npm run campaigns', () => {
  it('list (the default) and show print status and figures; --json gives campaign and counts', async () => {
    const [list, show, json] = await Promise.all([
      campaigns(),
      campaigns('show', campaign.id),
      campaigns('show', campaign.id, '--json'),
    ]);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(
      new RegExp(
        `^ID\\s+STATUS\\s+SENT\\s+NEXT RUN\\s+NAME\\n${campaign.id}\\s+scheduled\\s+0/2\\s+2099-01-01 09:00 UTC\\s+Intro\\n$`,
      ),
    );
    expect(show.code).toBe(0);
    expect(show.stdout).toContain(`${campaign.id}  Intro`);
    expect(show.stdout).toContain('figures: 2 total, 0 sent, 2 pending');
    expect(JSON.parse(json.stdout)).toEqual({
      campaign: await core.services.campaigns.get(campaign.id),
      counts: await core.services.campaigns.counts(campaign.id),
    });
  });

  it('pause, resume and cancel change the campaign, recorded as cli', async () => {
    const paused = await campaigns('pause', campaign.id);
    expect(paused.stderr).toBe('');
    expect(paused.code).toBe(0);
    expect(paused.stdout).toMatch(/^Paused\.\n/);
    expect(await core.services.campaigns.get(campaign.id)).toMatchObject({
      status: 'paused',
      statusReason: 'paused by cli',
    });

    expect((await campaigns('resume', campaign.id)).code).toBe(0);
    expect(await core.services.campaigns.get(campaign.id)).toMatchObject({
      status: 'scheduled',
      statusReason: null,
    });

    expect((await campaigns('cancel', campaign.id)).code).toBe(0);
    expect(await core.services.campaigns.get(campaign.id)).toMatchObject({
      status: 'cancelled',
      statusReason: 'cancelled by cli',
    });

    const again = await campaigns('resume', campaign.id);
    expect(again.code).toBe(1);
    expect(again.stderr.trim().split('\n')).toHaveLength(1);
    expect((await core.services.campaigns.get(campaign.id)).status).toBe('cancelled');
  });

  it('send-anyway releases a campaign the domain doctor held, recorded in its history as cli', async () => {
    // Held as the doctor holds one (the hold itself is tested with a DNS server in held.test.ts).
    const check = {
      name: 'spf',
      domain: 'coldbatch.test',
      title: 'SPF',
      detail: 'no record',
      fix: 'add one',
    };
    core.db.$client
      .prepare(`UPDATE campaigns SET status = 'held', held_reason = 'doctor', held_checks = ? WHERE id = ?`)
      .run(JSON.stringify([check]), campaign.id);
    const shown = await campaigns('show', campaign.id);
    expect(shown.stdout).toContain('held by the domain doctor (send-anyway releases it)');

    const released = await campaigns('send-anyway', campaign.id);
    // One warning line in the log (stderr) says who released it over which checks.
    expect(released.stderr.trim().split('\n')).toHaveLength(1);
    expect(released.stderr).toContain('held campaign sent anyway');
    expect(released.code).toBe(0);
    expect(released.stdout).toMatch(/^Released: /);
    expect((await core.services.campaigns.get(campaign.id)).status).toBe('scheduled');
    const { history } = await core.services.campaigns.history(campaign.id);
    expect(history.at(-1)).toMatchObject({ kind: 'sent_anyway', actor: 'cli' });

    // Only a held campaign: a second release is refused (exit 1) and changes nothing.
    const again = await campaigns('send-anyway', campaign.id);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('only a held campaign can be sent anyway');
    expect((await core.services.campaigns.get(campaign.id)).status).toBe('scheduled');
  });

  it('--help exits 0; bad input exits 2 with the usage and changes nothing', async () => {
    const cases: [string[], string][] = [
      [['stop', campaign.id], 'Unknown command "stop".'],
      [['pause'], 'pause: the campaign id is missing.'],
      [['pause', 'Intro'], 'pause: the campaign id must look like cmp_1a2b3c4d (got "Intro").'],
      [['pause', campaign.id, 'now'], 'Unexpected: now.'],
      [['list', '--status', 'running'], '--status'],
      [['list', '--limit', '0'], '--limit'],
    ];
    const [help, ...runs] = await Promise.all([
      campaigns('-h'),
      ...cases.map(([args]) => campaigns(...args)),
    ]);
    expect(help?.code).toBe(0);
    expect(help?.stdout).toMatch(/^Usage: npm run campaigns -- \[command\]/);
    for (const [i, [args, problem]] of cases.entries()) {
      const r = runs[i]!;
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr.split('\n')[0]).toContain(problem);
      expect(r.stderr).toContain('Usage: npm run campaigns --');
    }
    expect((await core.services.campaigns.get(campaign.id)).status).toBe('scheduled');
  });
});
