import type { App } from '@slack/bolt';
import { z } from 'zod';
import { campaignActions } from '../../blocks/campaigns.js';
import { errorBlocks, type KnownBlock } from '../../blocks/common.js';
import { campaignModalFor } from '../../campaign-open.js';
import { progressBlocksOf, refreshProgress, snapshot } from '../../campaign-view.js';
import { assertAdmin, failureText, type SlackDeps } from '../../context.js';
import { publishHome } from '../../home.js';
import { respondReliably } from '../../respond.js';

const body = z
  .object({
    user: z.object({ id: z.string() }),
    actions: z.array(z.object({ value: z.string() }).loose()).min(1),
    trigger_id: z.string().optional(),
    view: z.object({ type: z.string() }).loose().optional(),
  })
  .loose();
const value = z.object({ id: z.string().max(100) });

/** Pause / Resume (or confirm a missed schedule) / Cancel / Approve (a second admin) buttons, and New campaign. */
export function register(app: App, deps: SlackDeps): void {
  for (const verb of ['pause', 'resume', 'cancel', 'approve'] as const) {
    app.action(campaignActions[verb], async ({ ack, body: raw, respond, client }) => {
      await ack();
      const b = body.parse(raw);
      const fromHome = b.view?.type === 'home';
      const answer = respondReliably(respond);
      let id: string;
      let blocks: KnownBlock[] = [];
      try {
        id = value.parse(JSON.parse(b.actions[0]!.value)).id;
        assertAdmin(deps, b.user.id, `${verb} campaigns`);
        deps.services.campaigns[verb](id, b.user.id);
        if (!fromHome) blocks = progressBlocksOf(snapshot(deps, id));
      } catch (e) {
        const message = failureText(deps, e, `trying to ${verb} the campaign`);
        if (fromHome) await publishHome(deps, client, b.user.id, `:warning: ${message}`);
        else
          await answer({
            response_type: 'ephemeral',
            replace_original: false,
            blocks: errorBlocks(message),
          });
        return;
      }
      // Done: the progress message and the answer follow; a Slack failure there is only logged.
      deps.background.run(refreshProgress(deps, client, id).catch(() => {}));
      if (fromHome) await publishHome(deps, client, b.user.id);
      else await answer({ replace_original: true, text: 'Campaign', blocks });
    });
  }
  app.action(campaignActions.new, async ({ ack, body: raw, client }) => {
    await ack();
    const b = body.parse(raw);
    try {
      assertAdmin(deps, b.user.id, 'write campaigns');
      await client.views.open({ trigger_id: b.trigger_id ?? '', view: campaignModalFor(deps, null) });
    } catch (e) {
      await publishHome(
        deps,
        client,
        b.user.id,
        `:warning: ${failureText(deps, e, 'opening the campaign form')}`,
      );
    }
  });
}
