import type { App } from '@slack/bolt';
import { actionIds } from '../../blocks/action-ids.js';
import { progressBlocks, progressText } from '../../blocks/campaigns.js';
import { refreshProgress } from '../../flows/campaign-progress.js';
import { actionListener } from '../../kit/action.js';
import { parseCampaignValue } from '../../kit/button-value.js';
import { assertAdmin, type SlackDeps } from '../../kit/context.js';
import { publishHome } from '../../views/home.js';

const verbs = [
  ['pause', actionIds.campaignPause],
  ['resume', actionIds.campaignResume],
  ['cancel', actionIds.campaignCancel],
  ['approve', actionIds.campaignApprove],
] as const;

/**
 * Pause / Resume (or confirm a missed schedule) / Cancel / Approve (a second admin): the message
 * clicked becomes the campaign's progress (the App Home is re-published), and so does its
 * progress message.
 */
export function register(app: App, deps: SlackDeps): void {
  for (const [verb, actionId] of verbs) {
    app.action(
      actionId,
      actionListener(deps, `trying to ${verb} the campaign`, async (click) => {
        const id = parseCampaignValue(click.value);
        assertAdmin(deps, click.userId, `${verb} campaigns`);
        await deps.services.campaigns[verb](id, click.userId);
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
}
