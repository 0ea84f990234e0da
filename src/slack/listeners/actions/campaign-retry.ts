import type { App } from '@slack/bolt';
import { resendUnknownConfirmation } from '../../../core/campaigns/campaign-service.js';
import { actionIds } from '../../blocks/action-ids.js';
import { progressBlocks, progressText, resendUnknownConfirmBlocks } from '../../blocks/campaigns.js';
import { n, text } from '../../blocks/common.js';
import { refreshProgress } from '../../flows/campaign-progress.js';
import { actionListener, type Click, type Reply } from '../../kit/action.js';
import { parseCampaignValue } from '../../kit/button-value.js';
import { assertAdmin, type SlackDeps } from '../../kit/context.js';
import { publishHome } from '../../views/home.js';

type Step = 'retry' | 'ask' | 'resend';
const steps: [string, Step][] = [
  [actionIds.campaignRetryFailed, 'retry'],
  [actionIds.campaignResendUnknown, 'ask'],
  [actionIds.campaignResendUnknownConfirm, 'resend'],
];

/**
 * A completed campaign's 'Retry failed (N)' (re-queues the failed recipients at once) and
 * 'Resend unknown (N)…', which re-queues the unknown ones only after a second click on 'Yes, resend'.
 * From a message the answer replaces it (the question is private); from the App Home, the Home
 * is re-published with the question or what was done at the top.
 */
export function register(app: App, deps: SlackDeps): void {
  for (const [actionId, step] of steps) {
    app.action(
      actionId,
      actionListener(deps, 'retrying the failed sends', (click) => handle(deps, click, step)),
    );
  }
}

async function handle(deps: SlackDeps, click: Click, step: Step): Promise<Reply> {
  const id = parseCampaignValue(click.value);
  assertAdmin(deps, click.userId, 'retry failed sends');
  if (step === 'ask') {
    const p = await deps.services.progress.get(id);
    const question = resendUnknownConfirmBlocks(p.campaign, p.counts);
    if (click.fromHome) await publishHome(deps, click.client, click.userId, { top: question });
    else
      await click.answer({
        response_type: 'ephemeral',
        replace_original: false,
        text: 'Resend unknown?',
        blocks: question,
      });
    return null;
  }
  const { requeued } = await deps.services.campaigns.retryFailed(
    id,
    click.userId,
    step === 'resend' ? { includeUnknown: true, confirm: resendUnknownConfirmation } : {},
  );
  const p = await deps.services.progress.get(id);
  const requeuedLine = `:repeat: ${n(requeued)} recipients re-queued; the campaign is sending again.`;
  const said = step === 'retry' ? progressText(p.campaign) : requeuedLine;
  const blocks = step === 'retry' ? progressBlocks(p) : [text(said)];
  return async () => {
    deps.background.run(refreshProgress(deps, click.client, id).catch(() => {}));
    if (click.fromHome) await publishHome(deps, click.client, click.userId, { notice: requeuedLine });
    else await click.answer({ replace_original: true, text: said, blocks });
  };
}
