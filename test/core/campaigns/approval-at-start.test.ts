import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/logger.js';
import { createMailer } from '../../../src/mail/index.js';
import {
  bytes,
  importText,
  refusal,
  startTestApp,
  tempDir,
  testClock,
  testCore,
  waitFor,
} from '../../helpers.js';
import { campaignSubmission, FakeSlack, signingSecret, slackPost } from '../../slack/fake-slack.js';
import { startSink } from '../../smtp-sink.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const file = (prefix: string, n: number) =>
  `email\n${Array.from({ length: n }, (_, i) => `${prefix}${i}@x.com`).join('\n')}\n`;
const input = { name: 'Intro', subject: 'Hi', body: 'Hello {{name}}' };

async function setup(threshold = '100') {
  const sink = await startSink();
  cleanups.push(() => sink.close());
  const mailer = createMailer({ smtpUrl: sink.url, outboxDir: '/nonexistent', log: createLogger('silent') });
  cleanups.push(() => mailer.close());
  const clock = testClock();
  const core = testCore({ clock, mailer, env: { APPROVAL_THRESHOLD: threshold } });
  cleanups.push(core.cleanup);
  const events: { type: string; campaignId?: string }[] = [];
  core.services.events.on((e) => events.push(e));
  return { sink, clock, s: core.services, events };
}

/** Runs the engine until the campaign leaves `sending` (the real SMTP server answers in between). */
async function drain(s: ReturnType<typeof testCore>['services'], id: string) {
  await s.sending.runDue();
  for (let i = 0; i < 50 && (await s.campaigns.get(id)).status === 'sending'; i++) await s.sending.runDue();
  return await s.campaigns.get(id);
}

describe('two-person rule when sending starts', () => {
  it('scheduled against a 1-contact batch, then a 300-contact batch activated: nothing is sent until a second admin approves', async () => {
    const { sink, clock, s, events } = await setup();
    await importText(s, file('one', 1), { fileName: 'one.csv' });
    const c = await s.campaigns.create({ ...input, sendAt: 'now' }, 'UADMIN');
    expect(c.approval).toBeNull(); // 1 contact: under the threshold when it was scheduled
    await importText(s, file('big', 300), { fileName: 'big.csv' }); // becomes the active batch

    await s.sending.runDue();
    clock.advance(5 * 60_000);
    await s.sending.runDue();
    expect(sink.received).toHaveLength(0);
    const held = await s.campaigns.get(c.id);
    expect(held).toMatchObject({ status: 'scheduled', startedAt: null, approval: { approvedBy: null } });
    expect(held.statusReason).toContain('Held for approval: it would now reach 300 people');
    expect(events.filter((e) => e.type === 'needs_approval')).toEqual([
      { type: 'needs_approval', campaignId: c.id, audience: 300 },
    ]);

    // The creator and the API token cannot be the second person; still nothing goes.
    expect((await refusal(() => s.campaigns.approve(c.id, 'UADMIN'))).code).toBe('forbidden');
    expect((await refusal(() => s.campaigns.approve(c.id, 'api'))).code).toBe('forbidden');
    await s.sending.runDue();
    expect(sink.received).toHaveLength(0);

    clock.advance(60_000);
    const approved = await s.campaigns.approve(c.id, 'USECOND');
    expect(approved.statusReason).toBeNull();
    expect((await drain(s, c.id)).status).toBe('completed');
    expect(sink.received).toHaveLength(300);
    expect(sink.received.every((m) => m.to.startsWith('big'))).toBe(true);
  });

  it('an approval given before another batch was activated does not cover it', async () => {
    const { sink, clock, s } = await setup();
    await importText(s, file('mid', 150), { fileName: 'mid.csv' });
    const at = new Date(clock.now() + 3_600_000).toISOString();
    const c = await s.campaigns.create({ ...input, sendAt: at }, 'UADMIN');
    await s.campaigns.approve(c.id, 'USECOND'); // for 150 people
    clock.advance(60_000);
    await importText(s, file('big', 300), { fileName: 'big.csv' });
    clock.advance(3_600_000);
    await s.sending.runDue();
    expect(sink.received).toHaveLength(0);
    expect(await s.campaigns.get(c.id)).toMatchObject({
      status: 'scheduled',
      approval: { approvedBy: null },
    });
    expect((await s.campaigns.get(c.id)).statusReason).toContain('and approved');

    clock.advance(60_000);
    await s.campaigns.approve(c.id, 'USECOND');
    expect((await drain(s, c.id)).status).toBe('completed');
    expect(sink.received).toHaveLength(300);
  });

  it('a drip is checked at each run: a bigger batch activated between runs waits for approval', async () => {
    const { sink, clock, s } = await setup();
    await importText(s, file('one', 1), { fileName: 'one.csv' });
    const c = await s.campaigns.create({ ...input, cron: '0 * * * *', dailyLimit: 50 }, 'UADMIN');
    clock.advance(3_600_000);
    await drain(s, c.id);
    expect(sink.received).toHaveLength(1);
    expect(await s.campaigns.get(c.id)).toMatchObject({ status: 'scheduled', runCount: 1 });

    await importText(s, file('big', 300), { fileName: 'big.csv' });
    clock.advance(3_600_000);
    await s.sending.runDue();
    expect(sink.received).toHaveLength(1);
    expect(await s.campaigns.get(c.id)).toMatchObject({ status: 'scheduled', runCount: 1 });
    expect((await s.campaigns.get(c.id)).approval).toMatchObject({ approvedBy: null });

    clock.advance(60_000);
    await s.campaigns.approve(c.id, 'USECOND'); // its run time passed: it runs now
    await drain(s, c.id);
    expect(sink.received).toHaveLength(51);
    expect(await s.campaigns.get(c.id)).toMatchObject({ status: 'scheduled', runCount: 2 });
    // The approval covers the next runs of the same batch.
    clock.advance(3_600_000);
    await drain(s, c.id);
    expect(sink.received).toHaveLength(101);
  });

  it('under the threshold when it starts: it starts without approval', async () => {
    const { sink, s } = await setup('500');
    await importText(s, file('one', 1), { fileName: 'one.csv' });
    const c = await s.campaigns.create({ ...input, sendAt: 'now' }, 'UADMIN');
    await importText(s, file('big', 300), { fileName: 'big.csv' });
    expect((await drain(s, c.id)).status).toBe('completed');
    expect(sink.received).toHaveLength(300);
  });
});

describe('in Slack', () => {
  it('the progress message asks for approval when the switch is found, with the Approve button', async () => {
    const sink = await startSink();
    cleanups.push(() => sink.close());
    const slack = await new FakeSlack().start();
    cleanups.push(() => slack.stop());
    const dir = tempDir();
    cleanups.push(dir.cleanup);
    const { app, url, stop } = await startTestApp(
      {
        SLACK_BOT_TOKEN: slack.botToken,
        SLACK_SIGNING_SECRET: signingSecret,
        SLACK_API_URL: slack.apiUrl,
        SLACK_ADMIN_USERS: 'UADMIN,USECOND',
        MAIL_FROM: 'Sales <sales@coldbatch.test>',
        MAIL_POSTAL_ADDRESS: 'Rua Exemplo 1, São Paulo',
        SMTP_URL: sink.url,
        PUBLIC_URL: 'https://coldbatch.test',
        MAIL_OUTBOX_DIR: join(dir.dir, 'outbox'),
        APPROVAL_THRESHOLD: '100',
      },
      { slackRetries: 0, slackProgressIntervalMs: 0, scheduler: false },
    );
    cleanups.push(stop);
    const s = app.services;
    const imp = (name: string, n: number) =>
      s.imports.importFile({
        source: bytes(file(name, n)),
        fileName: `${name}.csv`,
        origin: 'api',
        actor: 'api',
      });
    await imp('one', 1);
    await slackPost(
      url,
      campaignSubmission({
        name: { type: 'plain_text_input', value: 'Small send' },
        subject: { type: 'plain_text_input', value: 'Hi' },
        body: { type: 'plain_text_input', value: 'Hello' },
        when: { type: 'radio_buttons', selected_option: { value: 'now' } },
        timezone: { type: 'plain_text_input', value: 'UTC' },
      }),
      { type: 'form' },
    );
    await app.slack?.background.idle();
    const posted = slack.callsTo('chat.postMessage')[0]!;
    expect(JSON.stringify(posted.params.blocks)).not.toContain('Waiting for approval');
    await imp('big', 300);

    await s.sending.runDue();
    const update = await waitFor(() =>
      slack
        .callsTo('chat.update')
        .find((u) => JSON.stringify(u.params.blocks).includes('Waiting for approval')),
    );
    const [campaign] = (await s.campaigns.list()).campaigns;
    expect(update.params.ts).toBe(JSON.parse((await s.campaigns.progressRef(campaign!.id))!).ts);
    const blocks = JSON.stringify(update.params.blocks);
    expect(blocks).toContain('it would now reach 300 people');
    expect(blocks).toContain('campaign_approve');
    expect(sink.received).toHaveLength(0);
  });
});
