import type { App } from '@slack/bolt';
import { z } from 'zod';
import { resendUnknownConfirmation } from '../../../core/campaigns/campaign-service.js';
import { campaignActions, resendUnknownConfirmBlocks } from '../../blocks/campaigns.js';
import { errorBlocks, type KnownBlock, n, text } from '../../blocks/common.js';
import { progressBlocksOf, refreshProgress, snapshot } from '../../campaign-view.js';
import { assertAdmin, failureText, type SlackDeps } from '../../context.js';
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
 */
export function register(app: App, deps: SlackDeps): void {
  for (const [actionId, step] of steps) {
    app.action(actionId, async ({ ack, body: raw, respond, client }) => {
      await ack();
      const b = body.parse(raw);
      const answer = respondReliably(respond);
      let id: string;
      let blocks: KnownBlock[];
      try {
        id = value.parse(JSON.parse(b.actions[0]!.value)).id;
        assertAdmin(deps, b.user.id, 'retry failed sends');
        if (step === 'ask') {
          const s = snapshot(deps, id);
          await answer({
            response_type: 'ephemeral',
            replace_original: false,
            text: 'Resend unknown?',
            blocks: resendUnknownConfirmBlocks(s.campaign, s.counts),
          });
          return;
        }
        const { requeued } = deps.services.campaigns.retryFailed(
          id,
          b.user.id,
          step === 'resend' ? { includeUnknown: true, confirm: resendUnknownConfirmation } : {},
        );
        blocks =
          step === 'retry'
            ? progressBlocksOf(snapshot(deps, id))
            : [text(`:repeat: ${n(requeued)} recipients re-queued; the campaign is sending again.`)];
      } catch (e) {
        const message = failureText(deps, e, 'retrying the failed sends');
        await answer({ response_type: 'ephemeral', replace_original: false, blocks: errorBlocks(message) });
        return;
      }
      deps.background.run(refreshProgress(deps, client, id).catch(() => {}));
      await answer({ replace_original: true, text: 'Campaign', blocks });
    });
  }
}
