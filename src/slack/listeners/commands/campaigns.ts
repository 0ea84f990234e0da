import type { App } from '@slack/bolt';
import type { SlackDeps } from '../../context.js';

/** `/campaigns`: declared in the manifest; answers until campaigns are built. */
export function register(app: App, _deps: SlackDeps): void {
  app.command('/campaigns', async ({ ack }) => {
    await ack({
      response_type: 'ephemeral',
      text: 'Campaigns are not available yet. Meanwhile, `/batches` manages the contact batches they will be sent to.',
    });
  });
}
