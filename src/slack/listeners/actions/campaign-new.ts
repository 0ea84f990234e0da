import type { App } from '@slack/bolt';
import { actionIds } from '../../blocks/action-ids.js';
import { openCampaignModal } from '../../flows/campaign-open.js';
import { actionListener } from '../../kit/action.js';
import { assertAdmin, type SlackDeps } from '../../kit/context.js';

/** "New campaign" (under `/campaigns list` and in the App Home): opens the campaign form. */
export function register(app: App, deps: SlackDeps): void {
  app.action(
    actionIds.campaignNew,
    // Refused (or failed) where the click was: under `/campaigns list`, or in the App Home.
    actionListener(deps, 'opening the campaign form', async (click) => {
      assertAdmin(deps, click.userId, 'write campaigns');
      // From a message, the progress message goes to its channel (as with `/campaigns new` typed there).
      const channelId = click.fromHome ? null : (click.channelId ?? null);
      await openCampaignModal(deps, click.client, click.triggerId ?? '', channelId);
      return null;
    }),
  );
}
