import type { App } from '@slack/bolt';
import { actionIds } from '../../blocks/action-ids.js';
import { progressBlocks, progressText } from '../../blocks/campaigns.js';
import { refreshProgress } from '../../flows/campaign-progress.js';
import { actionListener } from '../../kit/action.js';
import { parseCampaignValue } from '../../kit/button-value.js';
import { assertAdmin, type SlackDeps } from '../../kit/context.js';
import { publishHome } from '../../views/home.js';

/**
 * "Send anyway" on a campaign the domain doctor held (admins only, SLACK_ADMIN_USERS): it goes on
 * to scheduled, recorded in its history with who clicked and the failing checks; the message
 * clicked and the campaign's progress message show it.
 */
export function register(app: App, deps: SlackDeps): void {
  app.action(
    actionIds.campaignSendAnyway,
    actionListener(deps, 'trying to send the held campaign anyway', async (click) => {
      const id = parseCampaignValue(click.value);
      assertAdmin(deps, click.userId, 'send a held campaign anyway');
      await deps.services.campaigns.sendAnyway(id, click.userId);
      const p = await deps.services.progress.get(id);
      return async () => {
        deps.background.run(refreshProgress(deps, click.client, id).catch(() => {}));
        if (click.fromHome) await publishHome(deps, click.client, click.userId);
        else
          await click.answer({
            replace_original: true,
            text: progressText(p.campaign),
            blocks: progressBlocks(p),
          });
      };
    }),
  );
}
