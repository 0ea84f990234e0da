import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bytes, waitFor } from '../helpers.js';
import { startSlackApp } from '../security/slack-kit.js';
import { campaignSubmission, commandBody, type FakeSlack, slackPost } from './fake-slack.js';

let slack: FakeSlack;
let url: string;
let stop: () => Promise<void>;
let app: Awaited<ReturnType<typeof startSlackApp>>['app'];
let batchId: string;

beforeEach(async () => {
  ({ slack, url, stop, app } = await startSlackApp({ SLACK_ADMIN_USERS: 'UADMIN' }));
  const r = await app.services.imports.importFile({
    source: bytes('email\nana@x.com\nbia@x.com\na@nomx.test\nb@nomx.test\n'),
    fileName: 'leads.csv',
    origin: 'api',
    actor: 'api',
  });
  batchId = r.batch.id;
});
afterEach(async () => {
  await stop();
});

/** Stands in for a bulk validation's verdict (test/core/validation runs the real one against a DNS server). */
const markNoMailDomain = (pattern: string) =>
  app.db.$client.prepare(`UPDATE contacts SET validation = 'no_mail_domain' WHERE email LIKE ?`).run(pattern);

const form = (when: string, extra: Record<string, Record<string, unknown>> = {}) => ({
  name: { type: 'plain_text_input', value: 'Intro' },
  subject: { type: 'plain_text_input', value: 'Hi' },
  body: { type: 'plain_text_input', value: 'Hello' },
  when: { type: 'radio_buttons', selected_option: { value: when } },
  timezone: { type: 'plain_text_input', value: 'UTC' },
  ...extra,
});

async function openModal(): Promise<string> {
  const before = slack.callsTo('views.open').length;
  await slackPost(url, commandBody('new', 'UADMIN', slack.responseUrl('c'), '/campaigns'), { type: 'form' });
  const open = await waitFor(() => slack.callsTo('views.open')[before]);
  return JSON.stringify(open.params.view);
}

describe('the New campaign modal and the audience', () => {
  it('shows the audience now, with who is excluded and why', async () => {
    markNoMailDomain('%@nomx.test');
    const view = await openModal();
    expect(view).toContain(
      `*Audience now: 2* people in batch *leads.csv* (\`${batchId}\`); 2 excluded: 2 no_mail_domain`,
    );
  });

  it('with everyone excluded it warns, and "Now" is refused on the When field with the reasons; a draft is saved', async () => {
    markNoMailDomain('%@%');
    const view = await openModal();
    expect(view).toContain(':warning: *Audience now: nobody*');
    expect(view).toContain(`/batches include-invalid ${batchId} on`);

    const res = await slackPost(url, campaignSubmission(form('now')), { type: 'form' });
    expect(res.json()).toMatchObject({
      response_action: 'errors',
      errors: { when: expect.stringContaining('4 contacts excluded: 4 no_mail_domain') },
    });
    expect((await app.services.campaigns.list()).campaigns).toHaveLength(0);

    const draft = await slackPost(url, campaignSubmission(form('draft')), { type: 'form' });
    expect(draft.text).toBe('');
    await app.slack?.background.idle();
    expect((await app.services.campaigns.list()).campaigns[0]).toMatchObject({ status: 'draft' });
  });

  it('a campaign held at its send time for nobody to send to says so in its progress message', async () => {
    const at = Math.floor(Date.now() / 1000) + 3600;
    await slackPost(
      url,
      campaignSubmission(form('at', { send_at: { type: 'datetimepicker', selected_date_time: at } })),
      { type: 'form' },
    );
    await app.slack?.background.idle();
    const [campaign] = (await app.services.campaigns.list()).campaigns;
    expect(campaign).toMatchObject({ status: 'scheduled' });
    await app.services.batches.deactivate(batchId, 'UADMIN');
    app.db.$client
      .prepare('UPDATE campaigns SET next_run_at = ? WHERE id = ?')
      .run(Date.now() - 1, campaign!.id);
    await app.services.sending.runDue();

    const update = await waitFor(() =>
      slack.callsTo('chat.update').find((u) => JSON.stringify(u.params.blocks).includes('Nobody to send to')),
    );
    const blocks = JSON.stringify(update.params.blocks);
    expect(blocks).toContain('no batch is active');
    expect(blocks).toContain('waiting for confirmation');
    expect(blocks).toContain('Confirm: send now');
    expect((await app.services.campaigns.get(campaign!.id)).status).toBe('scheduled');
  });
});
