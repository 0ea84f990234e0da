import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bytes, startTestApp, tempDir, waitFor } from '../helpers.js';
import { actionBody, campaignSubmission, FakeSlack, signingSecret, slackPost } from './fake-slack.js';

let slack: FakeSlack;
let url: string;
let stop: () => Promise<void>;
let app: Awaited<ReturnType<typeof startTestApp>>['app'];
let dir: ReturnType<typeof tempDir>;

beforeEach(async () => {
  slack = await new FakeSlack().start();
  dir = tempDir();
  ({ url, stop, app } = await startTestApp(
    {
      SLACK_BOT_TOKEN: slack.botToken,
      SLACK_SIGNING_SECRET: signingSecret,
      SLACK_API_URL: slack.apiUrl,
      SLACK_ADMIN_USERS: 'UADMIN,USECOND',
      MAIL_FROM: 'Sales <sales@coldbatch.test>',
      MAIL_POSTAL_ADDRESS: 'Rua Exemplo 1, São Paulo',
      MAIL_OUTBOX_DIR: join(dir.dir, 'outbox'),
      APPROVAL_THRESHOLD: '2',
    },
    { slackRetries: 0, slackProgressIntervalMs: 0, scheduler: false },
  ));
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

const base = {
  name: { type: 'plain_text_input', value: 'Big send' },
  subject: { type: 'plain_text_input', value: 'Hi {{first_name|there}}' },
  body: { type: 'plain_text_input', value: 'Hello {{name}}' },
  when: { type: 'radio_buttons', selected_option: { value: 'now' } },
  timezone: { type: 'plain_text_input', value: 'UTC' },
};

type Block = { elements?: { action_id?: string; value?: string }[] };

const click = (value: string, user: string, name: string) =>
  slackPost(
    url,
    actionBody({ action_id: 'campaign_approve', value }, user, slack.responseUrl(name), { type: 'message' }),
    { type: 'form' },
  );

describe('two-person rule in Slack', () => {
  it('the progress message waits for another admin; the creator and non-admins are refused, a second admin approves', async () => {
    await slackPost(url, campaignSubmission(base), { type: 'form' });
    await app.slack?.background.idle();
    const [campaign] = (await app.services.campaigns.list()).campaigns;
    const posted = slack.callsTo('chat.postMessage')[0]!;
    expect(JSON.stringify(posted.params.blocks)).toContain('Waiting for approval by another admin');
    const approve = (posted.params.blocks as Block[])
      .flatMap((b) => b.elements ?? [])
      .find((e) => e.action_id === 'campaign_approve')!;
    expect(approve).toBeDefined();

    await app.services.sending.runDue();
    expect((await app.services.campaigns.get(campaign!.id)).status).toBe('scheduled');

    await click(approve.value!, 'UADMIN', 'self');
    const self = await waitFor(() => slack.responses.find((r) => r.path === '/respond/self'));
    expect(self.body.response_type).toBe('ephemeral');
    expect(JSON.stringify(self.body)).toContain('cannot approve it yourself');

    await click(approve.value!, 'UNOBODY', 'stranger');
    const stranger = await waitFor(() => slack.responses.find((r) => r.path === '/respond/stranger'));
    expect(JSON.stringify(stranger.body)).toContain('Only coldbatch admins');
    expect((await app.services.campaigns.get(campaign!.id)).approval?.approvedBy).toBeNull();

    await click(approve.value!, 'USECOND', 'ok');
    const ok = await waitFor(() => slack.responses.find((r) => r.path === '/respond/ok'));
    expect(ok.body.replace_original).toBe(true);
    expect(JSON.stringify(ok.body)).not.toContain('Waiting for approval');
    expect((await app.services.campaigns.get(campaign!.id)).approval?.approvedBy).toBe('USECOND');

    await app.services.sending.runDue();
    expect((await app.services.campaigns.get(campaign!.id)).status).toBe('completed');
  });

  it('REST cannot approve: the API token is not a person (403), and the campaign keeps waiting', async () => {
    const c = await app.services.campaigns.create(
      { name: 'API send', subject: 's', body: 'b', sendAt: 'now' },
      'api',
    );
    const res = await fetch(`${url}/campaigns/${c.id}/approve`, { method: 'POST' });
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({ error: { code: 'forbidden' } });
    const got = (await (await fetch(`${url}/campaigns/${c.id}`)).json()) as {
      campaign: { approval: { approvedBy: string | null } };
    };
    expect(got.campaign.approval.approvedBy).toBeNull();
  });
});
