import { join } from 'node:path';
import { startTestApp, tempDir } from '../helpers.js';
import { commandBody, FakeSlack, signingSecret, slackPost } from '../slack/fake-slack.js';

/** The real app in Slack HTTP mode against a FakeSlack, with its own temp folder; for the security tests. */
export async function startSlackApp(
  env: Record<string, string> = {},
  options: Parameters<typeof startTestApp>[1] = {},
) {
  const slack = await new FakeSlack().start();
  const dir = tempDir();
  const t = await startTestApp(
    {
      SLACK_BOT_TOKEN: slack.botToken,
      SLACK_SIGNING_SECRET: signingSecret,
      SLACK_API_URL: slack.apiUrl,
      DATABASE_PATH: join(dir.dir, 'slack.db'),
      MAIL_OUTBOX_DIR: join(dir.dir, 'outbox'),
      MAIL_FROM: 'Sales <sales@coldbatch.test>',
      MAIL_POSTAL_ADDRESS: 'Rua Exemplo 1, São Paulo',
      ...env,
    },
    { slackRetries: 0, slackProgressIntervalMs: 0, scheduler: false, ...options },
  );
  return {
    slack,
    dir: dir.dir,
    url: t.url,
    app: t.app,
    settle: async () => {
      await t.app.slack?.background.idle();
    },
    stop: async () => {
      await t.stop();
      await slack.stop();
      dir.cleanup();
    },
  };
}

/** A slash command as Slack sends it (form-encoded). */
export const command = (name: string, text: string, user: string, responseUrl: string) =>
  commandBody(text, user, responseUrl, name);

/** An interactive payload (block_actions, view_submission, …) as Slack sends it: form field `payload`. */
export const interactive = (payload: Record<string, unknown>) =>
  new URLSearchParams({ payload: JSON.stringify(payload) }).toString();

export { campaignSubmission } from '../slack/fake-slack.js';

/** POSTs a form body (slash command or interactive payload), signed. */
export const postForm = (url: string, body: string, opts: Parameters<typeof slackPost>[2] = {}) =>
  slackPost(url, body, { type: 'form', ...opts });
