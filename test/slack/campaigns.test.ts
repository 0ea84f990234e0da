import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bytes, startTestApp, tempDir, waitFor } from '../helpers.js';
import {
  actionBody,
  campaignSubmission,
  commandBody,
  FakeSlack,
  signingSecret,
  slackPost,
  viewActionBody,
} from './fake-slack.js';

let slack: FakeSlack;
let url: string;
let stop: () => Promise<void>;
let app: Awaited<ReturnType<typeof startTestApp>>['app'];
let dir: ReturnType<typeof tempDir>;

beforeEach(async () => {
  slack = await new FakeSlack().start();
  dir = tempDir();
  const t = await startTestApp(
    {
      SLACK_BOT_TOKEN: slack.botToken,
      SLACK_SIGNING_SECRET: signingSecret,
      SLACK_API_URL: slack.apiUrl,
      SLACK_ADMIN_USERS: 'UADMIN',
      MAIL_FROM: 'Sales <sales@coldbatch.test>',
      MAIL_POSTAL_ADDRESS: 'Rua Exemplo 1, São Paulo',
      MAIL_OUTBOX_DIR: join(dir.dir, 'outbox'),
    },
    { slackRetries: 0, slackProgressIntervalMs: 0, scheduler: false },
  );
  ({ url, stop, app } = t);
  await app.services.imports.importFile({
    source: bytes('email,name\nana@x.com,Ana\nbia@x.com,Bia\ncai@x.com,Cai\n'),
    fileName: 'leads.csv',
    origin: 'api',
    actor: 'api',
  });
});
afterEach(async () => {
  await stop();
  await slack.stop();
  dir.cleanup();
});

const settle = () => app.slack?.background.idle();

const submission = campaignSubmission;

const base = {
  name: { type: 'plain_text_input', value: 'Intro Q1' },
  subject: { type: 'plain_text_input', value: 'Hi {{first_name|there}}' },
  body: { type: 'plain_text_input', value: 'Hello {{name}}' },
  when: { type: 'radio_buttons', selected_option: { value: 'now' } },
  timezone: { type: 'plain_text_input', value: 'UTC' },
};

describe('Slack campaigns', () => {
  it('/campaigns new opens the modal showing the active batch and how many it will reach', async () => {
    const res = await slackPost(
      url,
      commandBody('new', 'UADMIN', slack.responseUrl('c')).replace('batches', 'campaigns'),
      { type: 'form' },
    );
    expect(res.status).toBe(200);
    const open = await waitFor(() => slack.callsTo('views.open')[0]);
    const view = JSON.stringify(open.params.view);
    expect(view).toContain('leads.csv');
    expect(view).toContain('*Audience now: 3* people in batch');
    expect(view).toContain('should finish');
  });

  it('submitting the modal saves the campaign, posts its progress message, and the message follows the send', async () => {
    const res = await slackPost(url, submission(base), { type: 'form' });
    expect(res.status).toBe(200);
    expect(res.text).toBe('');
    await settle();
    const [campaign] = (await app.services.campaigns.list()).campaigns;
    expect(campaign).toMatchObject({ name: 'Intro Q1', status: 'scheduled', createdBy: 'UADMIN' });
    const posted = slack.callsTo('chat.postMessage')[0]!;
    expect(posted.params.channel).toBe('C1');
    expect(JSON.stringify(posted.params.blocks)).toContain('*0/3* sent');

    await app.services.sending.runDue();
    // An update of the last message sent ("3/3 sent", still sending) may come just before the
    // one that says completed: wait for that one, then nothing may follow it with an older state.
    await waitFor(() =>
      slack.callsTo('chat.update').some((u) => JSON.stringify(u.params.blocks).includes('completed')),
    );
    await settle();
    const last = slack.callsTo('chat.update').at(-1)!;
    expect(last.params.ts).toBe(JSON.parse((await app.services.campaigns.progressRef(campaign!.id))!).ts);
    expect(JSON.stringify(last.params.blocks)).toContain('*3/3* sent');
    expect(JSON.stringify(last.params.blocks)).toContain('completed');
  });

  it('/campaigns list acks at once and answers only the user through response_url', async () => {
    await app.services.campaigns.create({ name: 'Listed one', subject: 's', body: 'b' }, 'UADMIN');
    const body = commandBody('list', 'UOTHER', slack.responseUrl('list')).replace('batches', 'campaigns');
    const res = await slackPost(url, body, { type: 'form' });
    expect(res.status).toBe(200);
    expect(res.text).toBe('');
    const answer = await waitFor(() => slack.responses.find((r) => r.path === '/respond/list'));
    expect(answer.body.response_type).toBe('ephemeral');
    expect(JSON.stringify(answer.body.blocks)).toContain('Listed one');
    expect(JSON.stringify(answer.body.blocks)).toContain('New campaign');
  });

  it('a bad template is shown on its field and nothing is saved; a non-admin is refused', async () => {
    const bad = await slackPost(
      url,
      submission({ ...base, subject: { type: 'plain_text_input', value: 'Hi {{firstname}}' } }),
      { type: 'form' },
    );
    expect(bad.json()).toMatchObject({
      response_action: 'errors',
      errors: { subject: expect.stringContaining('{{firstname}}') },
    });
    const other = await slackPost(url, submission(base, 'UOTHER'), { type: 'form' });
    expect(JSON.stringify(other.json())).toContain('Only coldbatch admins');
    expect((await app.services.campaigns.list()).campaigns).toEqual([]);
  });

  it('the Pause button on the progress message pauses the campaign and updates the message in place', async () => {
    await slackPost(
      url,
      submission({
        ...base,
        when: { type: 'radio_buttons', selected_option: { value: 'at' } },
        send_at: { type: 'datetimepicker', selected_date_time: 1_900_000_000 },
      }),
      {
        type: 'form',
      },
    );
    await settle();
    const [campaign] = (await app.services.campaigns.list()).campaigns;
    expect(campaign?.sendAt).toBe(new Date(1_900_000_000 * 1000).toISOString());
    const blocks = slack.callsTo('chat.postMessage')[0]!.params.blocks as {
      elements?: { action_id?: string; value?: string }[];
    }[];
    const pause = blocks.flatMap((b) => b.elements ?? []).find((e) => e.action_id === 'campaign_pause')!;
    await slackPost(
      url,
      actionBody({ action_id: 'campaign_pause', value: pause.value! }, 'UADMIN', slack.responseUrl('p'), {
        type: 'message',
      }),
      {
        type: 'form',
      },
    );
    const answer = await waitFor(() => slack.responses.find((r) => r.path === '/respond/p'));
    expect(answer.body.replace_original).toBe(true);
    expect(JSON.stringify(answer.body)).toContain('Resume');
    expect((await app.services.campaigns.get(campaign!.id)).status).toBe('paused');
  });

  it('where the app is not in the channel, the progress message goes to the writer by DM, saying why', async () => {
    slack.refuse = (c) =>
      c.method === 'chat.postMessage' && c.params.channel === 'C1' ? 'not_in_channel' : undefined;
    const res = await slackPost(url, submission(base), { type: 'form' });
    expect(res.status).toBe(200);
    await settle();
    const [campaign] = (await app.services.campaigns.list()).campaigns;
    const toUser = slack.callsTo('chat.postMessage').filter((c) => c.params.channel === 'UADMIN');
    expect(String(toUser[0]?.params.text)).toMatch(/I am not in <#C1>.*\/invite @coldbatch/);
    expect(JSON.stringify(toUser[1]?.params.blocks)).toContain('*0/3* sent');
    // The progress message follows the send there.
    expect(JSON.parse((await app.services.campaigns.progressRef(campaign!.id))!).channel).toBe('UADMIN');
    await app.services.sending.runDue();
    await waitFor(() =>
      slack
        .callsTo('chat.update')
        .some((u) => u.params.channel === 'UADMIN' && JSON.stringify(u.params.blocks).includes('*3/3* sent')),
    );
  });

  it('a non-admin clicking New campaign is answered where they clicked: under the message, or in the Home', async () => {
    const button = { action_id: 'campaign_new', value: 'new' };
    await slackPost(url, actionBody(button, 'UOTHER', slack.responseUrl('new'), { type: 'message' }), {
      type: 'form',
    });
    await settle();
    const answer = await waitFor(() => slack.responses.find((r) => r.path === '/respond/new'));
    expect(answer.body).toMatchObject({ response_type: 'ephemeral', replace_original: false });
    expect(String(answer.body.text)).toContain('Only coldbatch admins may write campaigns');
    expect(slack.callsTo('views.publish')).toEqual([]);
    expect(slack.callsTo('views.open')).toEqual([]);

    await slackPost(url, viewActionBody(button, 'UOTHER', { type: 'home', blocks: [] }), { type: 'form' });
    await settle();
    const home = slack.callsTo('views.publish')[0];
    expect(home?.params.user_id).toBe('UOTHER');
    expect(JSON.stringify(home?.params.view)).toContain('Only coldbatch admins may write campaigns');
    expect(slack.responses).toHaveLength(1);
  });

  it("the modal's body takes what Slack allows (3,000 characters) and says how to send more", async () => {
    await slackPost(url, commandBody('new', 'UADMIN', slack.responseUrl('c'), '/campaigns'), {
      type: 'form',
    });
    const open = await waitFor(() => slack.callsTo('views.open')[0]);
    const blocks = (
      open.params.view as {
        blocks: { block_id?: string; element?: Record<string, unknown>; hint?: { text: string } }[];
      }
    ).blocks;
    const body = blocks.find((b) => b.block_id === 'body')!;
    expect(body.element).toMatchObject({ type: 'plain_text_input', multiline: true, max_length: 3000 });
    expect(body.hint?.text).toMatch(/3,000 characters.*POST \/campaigns/);
  });
});
