/**
 * Scheduled activations and backups from Slack and REST: `/batches activate <id> at …`,
 * `/batches scheduled` with Cancel, the Details view's buttons and modal, the notice when the
 * scheduler applies one, `/batches backup`, and the notice when a backup fails.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { importText, startTestApp, tempDir, testClock, waitFor } from '../helpers.js';
import { actionBody, commandBody, FakeSlack, signingSecret, slackPost } from './fake-slack.js';

type Block = {
  type: string;
  elements?: { action_id?: string; value?: string }[];
  accessory?: { action_id?: string; value?: string };
};

let slack: FakeSlack;
let dirs: ReturnType<typeof tempDir>;
let stop: (() => Promise<void>) | undefined;
const clock = testClock(Date.UTC(2026, 0, 15, 12));

beforeEach(async () => {
  slack = await new FakeSlack().start();
  dirs = tempDir();
  clock.set(Date.UTC(2026, 0, 15, 12));
});
afterEach(async () => {
  await stop?.();
  stop = undefined;
  await slack.stop();
  dirs.cleanup();
});

async function boot(env: Record<string, string> = {}) {
  const t = await startTestApp(
    {
      SLACK_BOT_TOKEN: slack.botToken,
      SLACK_SIGNING_SECRET: signingSecret,
      SLACK_API_URL: slack.apiUrl,
      SLACK_ADMIN_USERS: 'UADMIN',
      DATABASE_PATH: join(dirs.dir, 'ops.db'),
      BACKUP_DIR: join(dirs.dir, 'backups'),
      ...env,
    },
    { slackRetries: 0, slackProgressIntervalMs: 0, scheduler: false, clock },
  );
  stop = t.stop;
  const a = (await importText(t.app.services, 'email\na@x.com\n', { fileName: 'a.csv' })).batch.id;
  const b = (await importText(t.app.services, 'email\nb@x.com\n', { fileName: 'b.csv' })).batch.id;
  return { ...t, a, b };
}

const command = async (url: string, text: string, user = 'UADMIN', respond = 'r') => {
  const res = await slackPost(url, commandBody(text, user, slack.responseUrl(respond)), { type: 'form' });
  expect(res.status).toBe(200);
  return res.json() as { text: string; blocks: Block[] };
};
const buttons = (blocks: Block[]) =>
  blocks.flatMap((b) => [...(b.elements ?? []), ...(b.accessory ? [b.accessory] : [])]);

describe('scheduled activation in Slack', () => {
  it('/batches activate <id> at … schedules; the scheduler applies it and tells whoever scheduled it', async () => {
    const { url, app, a, b } = await boot();
    const ack = await command(url, `activate ${a} at 2026-01-15 15:00 America/Sao_Paulo`);
    expect(JSON.stringify(ack.blocks)).toContain(':calendar:');
    expect(JSON.stringify(ack.blocks)).toContain(`<!date^${Date.UTC(2026, 0, 15, 18) / 1000}^`);
    expect((await app.services.scheduledActivations.pendingFor(a))?.at).toBe('2026-01-15T18:00:00.000Z');
    expect((await app.services.batches.getActive())?.id).toBe(b);

    clock.set(Date.UTC(2026, 0, 15, 18, 0, 30));
    await app.services.scheduledActivations.applyDue();
    expect((await app.services.batches.getActive())?.id).toBe(a);
    const dm = await waitFor(() =>
      slack
        .callsTo('chat.postMessage')
        .find((c) => String(c.params.text).includes('Scheduled activation applied')),
    );
    expect(dm.params.channel).toBe('UADMIN');
    expect(String(dm.params.text)).toContain(`replaces \`${b}\``);
  });

  it('/batches scheduled lists them with Cancel; a non-admin may not schedule', async () => {
    const { url, app, a } = await boot();
    const refused = await command(url, `activate ${a} in 2h`, 'USOMEONE');
    expect(JSON.stringify(refused.blocks)).toContain('Only coldbatch admins may schedule activations');
    expect(await app.services.scheduledActivations.listPending()).toEqual([]);

    await command(url, `activate ${a} in 2h`);
    const list = await command(url, 'scheduled');
    expect(JSON.stringify(list.blocks)).toContain('a.csv');
    const cancel = buttons(list.blocks).find((e) => e.action_id === 'batch_cancel_activation')!;
    const click = await slackPost(
      url,
      actionBody(
        { action_id: 'batch_cancel_activation', value: cancel.value! },
        'UADMIN',
        slack.responseUrl('c'),
      ),
      { type: 'form' },
    );
    expect(click.status).toBe(200);
    const answer = await waitFor(() => slack.responses.find((r) => r.path === '/respond/c'));
    expect(JSON.stringify(answer.body)).toContain('is cancelled');
    expect(await app.services.scheduledActivations.listPending()).toEqual([]);

    const bad = await command(url, `activate ${a} at someday`);
    expect(JSON.stringify(bad.blocks)).toContain('Could not read');
  });

  it('the Details view schedules through a modal with a date-time picker', async () => {
    const { url, app, a } = await boot();
    const details = await command(url, `show ${a}`);
    const schedule = buttons(details.blocks).find((e) => e.action_id === 'batch_schedule_activation')!;
    expect(schedule).toBeDefined();
    await slackPost(
      url,
      actionBody(
        { action_id: 'batch_schedule_activation', value: schedule.value! },
        'UADMIN',
        slack.responseUrl('s'),
      ),
      { type: 'form' },
    );
    const opened = await waitFor(() => slack.callsTo('views.open')[0]);
    const raw = opened.params.view;
    const view = (typeof raw === 'string' ? JSON.parse(raw) : raw) as {
      callback_id: string;
      private_metadata: string;
    };
    expect(view.callback_id).toBe('batch_schedule_activation_modal');

    const at = Math.floor(Date.UTC(2026, 0, 16, 9) / 1000);
    const submit = (selected: number | null) =>
      slackPost(
        url,
        new URLSearchParams({
          payload: JSON.stringify({
            type: 'view_submission',
            team: { id: 'T1' },
            user: { id: 'UADMIN' },
            api_app_id: 'A1',
            token: 'legacy',
            trigger_id: '1.2.3',
            view: {
              id: 'V1',
              type: 'modal',
              callback_id: view.callback_id,
              private_metadata: view.private_metadata,
              state: { values: { when: { at: { type: 'datetimepicker', selected_date_time: selected } } } },
            },
          }),
        }).toString(),
        { type: 'form' },
      );
    const past = await submit(Math.floor(Date.UTC(2026, 0, 1) / 1000));
    expect(past.text).toContain('has passed');
    const ok = await submit(at);
    expect(ok.status).toBe(200);
    expect((await app.services.scheduledActivations.pendingFor(a))?.at).toBe('2026-01-16T09:00:00.000Z');
    const details2 = await command(url, `show ${a}`);
    expect(JSON.stringify(details2.blocks)).toContain('Activates on');
    expect(buttons(details2.blocks).map((e) => e.action_id)).toContain('batch_cancel_activation');
  });
});

describe('scheduled activation over REST', () => {
  it('POST …/activate with at → 202; list; DELETE cancels; bad times → 400 saying how', async () => {
    const { url, a } = await boot();
    const post = (body: unknown) =>
      fetch(`${url}/contacts/batches/${a}/activate`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const res = await post({ at: '2026-01-15T15:00:00-03:00' });
    expect(res.status).toBe(202);
    expect(await res.json()).toMatchObject({
      scheduledActivation: { batchId: a, at: '2026-01-15T18:00:00.000Z' },
    });
    const list = await (await fetch(`${url}/contacts/scheduled-activations`)).json();
    expect(list).toMatchObject({
      scheduledActivations: [{ batchId: a, state: 'pending', createdBy: 'api' }],
    });
    const bad = await post({ at: 'next tuesday' });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(await bad.json())).toContain('2026-12-01 09:00');
    const del = await fetch(`${url}/contacts/batches/${a}/scheduled-activation`, { method: 'DELETE' });
    expect(del.status).toBe(200);
    expect(await del.json()).toMatchObject({ scheduledActivation: { state: 'cancelled' } });
    const again = await fetch(`${url}/contacts/batches/${a}/scheduled-activation`, { method: 'DELETE' });
    expect(again.status).toBe(404);
  });
});

describe('backups from Slack', () => {
  it('/batches backup (admins) answers with the backup written', async () => {
    const { url } = await boot();
    const refused = await command(url, 'backup', 'USOMEONE');
    expect(JSON.stringify(refused.blocks)).toContain('Only coldbatch admins may run backups');
    const ack = await command(url, 'backup', 'UADMIN', 'bk');
    expect(ack.text).toContain('Backing up');
    const answer = await waitFor(() => slack.responses.find((r) => r.path === '/respond/bk'), 20_000);
    expect(String(answer.body.text)).toMatch(
      /Backup written: `coldbatch-\d{8}-\d{6}-\d{3}\.db`.*integrity_check ok/,
    );
  });

  it('a failed backup is announced in SLACK_NOTIFY_CHANNEL', async () => {
    const blocker = join(dirs.dir, 'not-a-dir');
    writeFileSync(blocker, 'x');
    const { app } = await boot({ SLACK_NOTIFY_CHANNEL: 'COPS', BACKUP_DIR: join(blocker, 'backups') });
    await expect(app.services.backup.run('nightly')).rejects.toThrow();
    const notice = await waitFor(() =>
      slack.callsTo('chat.postMessage').find((c) => String(c.params.text).includes('backup failed')),
    );
    expect(notice.params.channel).toBe('COPS');
    expect(String(notice.params.text)).toContain('nightly database backup failed');
  });
});
