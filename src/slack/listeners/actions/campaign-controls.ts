import type { App } from '@slack/bolt';
import { z } from 'zod';
import { clickedOnHome, tellClicker } from '../../action-kit.js';
import { campaignActions } from '../../blocks/campaigns.js';
import type { KnownBlock } from '../../blocks/common.js';
import { campaignModalFor } from '../../campaign-open.js';
import { progressBlocksOf, progressText, refreshProgress, snapshot } from '../../campaign-view.js';
import { assertAdmin, failureText, type SlackDeps } from '../../context.js';
import { publishHome } from '../../home.js';
import { respondReliably } from '../../respond.js';

const body = z
  .object({
    user: z.object({ id: z.string() }),
    actions: z.array(z.object({ value: z.string() }).loose()).min(1),
    trigger_id: z.string().optional(),
    channel: z.object({ id: z.string() }).loose().optional(),
  })
  .loose();
const value = z.object({ id: z.string().max(100) });

/** Pause / Resume (or confirm a missed schedule) / Cancel / Approve (a second admin) buttons, and New campaign. */
export function register(app: App, deps: SlackDeps): void {
  for (const verb of ['pause', 'resume', 'cancel', 'approve'] as const) {
    app.action(campaignActions[verb], async ({ ack, body: raw, respond, client }) => {
      await ack();
      const b = body.parse(raw);
      const fromHome = clickedOnHome(raw);
      let id: string;
      let blocks: KnownBlock[] = [];
      let said = '';
      try {
        id = value.parse(JSON.parse(b.actions[0]!.value)).id;
        assertAdmin(deps, b.user.id, `${verb} campaigns`);
        deps.services.campaigns[verb](id, b.user.id);
        const s = snapshot(deps, id);
        blocks = progressBlocksOf(s);
        said = progressText(s);
      } catch (e) {
        await tellClicker(
          deps,
          { body: raw, client, respond },
          failureText(deps, e, `trying to ${verb} the campaign`),
        );
        return;
      }
      // Done: the progress message and the answer follow; a Slack failure there is only logged.
      deps.background.run(refreshProgress(deps, client, id).catch(() => {}));
      if (fromHome) await publishHome(deps, client, b.user.id);
      else await respondReliably(respond)({ replace_original: true, text: said, blocks });
    });
  }
  app.action(campaignActions.new, async ({ ack, body: raw, client, respond }) => {
    await ack();
    const b = body.parse(raw);
    try {
      assertAdmin(deps, b.user.id, 'write campaigns');
      // From a message, the progress message goes to its channel (as with `/campaigns new` typed there).
      const channelId = clickedOnHome(raw) ? null : (b.channel?.id ?? null);
      await client.views.open({ trigger_id: b.trigger_id ?? '', view: campaignModalFor(deps, channelId) });
    } catch (e) {
      // Refused (or failed) where the click was: under `/campaigns list`, or in the App Home.
      await tellClicker(
        deps,
        { body: raw, client, respond },
        failureText(deps, e, 'opening the campaign form'),
      );
    }
  });
}
