import type { App } from '@slack/bolt';
import { z } from 'zod';
import { resendUnknownConfirmation } from '../../../core/campaigns/campaign-service.js';
import { clickedOnHome, tellClicker } from '../../action-kit.js';
import { campaignActions, resendUnknownConfirmBlocks } from '../../blocks/campaigns.js';
import { type KnownBlock, n, text } from '../../blocks/common.js';
import { progressBlocksOf, progressText, refreshProgress, snapshot } from '../../campaign-view.js';
import { assertAdmin, failureText, type SlackDeps } from '../../context.js';
import { publishHome } from '../../home.js';
import { respondReliably } from '../../respond.js';

const body = z
  .object({
    user: z.object({ id: z.string() }),
    actions: z.array(z.object({ value: z.string() }).loose()).min(1),
  })
  .loose();
const value = z.object({ id: z.string().max(100) });

type Step = 'retry' | 'ask' | 'resend';
const steps: [string, Step][] = [
  [campaignActions.retryFailed, 'retry'],
  [campaignActions.resendUnknown, 'ask'],
  [campaignActions.resendUnknownConfirm, 'resend'],
];

/**
 * A completed campaign's 'Retry failed (N)' (re-queues the failed recipients at once) and
 * 'Resend unknown (N)…', which re-queues the unknown ones only after a second click on 'Yes, resend'.
 * From a message the answer replaces it (the question is private); from the App Home, the Home
 * is re-published with the question or what was done at the top.
 */
export function register(app: App, deps: SlackDeps): void {
  for (const [actionId, step] of steps) {
    app.action(actionId, async ({ ack, body: raw, respond, client }) => {
      await ack();
      const b = body.parse(raw);
      const fromHome = clickedOnHome(raw);
      let id: string;
      let said: string;
      let requeuedLine: string;
      let blocks: KnownBlock[];
      try {
        id = value.parse(JSON.parse(b.actions[0]!.value)).id;
        assertAdmin(deps, b.user.id, 'retry failed sends');
        if (step === 'ask') {
          const s = snapshot(deps, id);
          const question = resendUnknownConfirmBlocks(s.campaign, s.counts);
          if (fromHome) await publishHome(deps, client, b.user.id, { top: question });
          else
            await respondReliably(respond)({
              response_type: 'ephemeral',
              replace_original: false,
              text: 'Resend unknown?',
              blocks: question,
            });
          return;
        }
        const { requeued } = deps.services.campaigns.retryFailed(
          id,
          b.user.id,
          step === 'resend' ? { includeUnknown: true, confirm: resendUnknownConfirmation } : {},
        );
        const s = snapshot(deps, id);
        requeuedLine = `:repeat: ${n(requeued)} recipients re-queued; the campaign is sending again.`;
        said = step === 'retry' ? progressText(s) : requeuedLine;
        blocks = step === 'retry' ? progressBlocksOf(s) : [text(said)];
      } catch (e) {
        await tellClicker(
          deps,
          { body: raw, client, respond },
          failureText(deps, e, 'retrying the failed sends'),
        );
        return;
      }
      deps.background.run(refreshProgress(deps, client, id).catch(() => {}));
      if (fromHome) await publishHome(deps, client, b.user.id, { notice: requeuedLine });
      else await respondReliably(respond)({ replace_original: true, text: said, blocks });
    });
  }
}
