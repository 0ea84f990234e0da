import type { App } from '@slack/bolt';
import { DomainError } from '../../../errors.js';
import { campaignHelpBlocks, campaignListBlocks, newCampaignButton } from '../../blocks/campaigns.js';
import { errorBlocks, type KnownBlock, text } from '../../blocks/common.js';
import { campaignModalFor } from '../../campaign-open.js';
import { progressBlocksOf, refreshProgress, snapshot } from '../../campaign-view.js';
import { assertAdmin, failureText, type SlackDeps } from '../../context.js';
import { sendCampaignResults } from '../../export.js';
import { respondReliably } from '../../respond.js';

const verbs = { pause: 'pause', resume: 'resume', cancel: 'cancel' } as const;

function requireId(id: string | undefined, sub: string): string {
  if (!id)
    throw new DomainError(
      'invalid_input',
      `Say which campaign: \`/campaigns ${sub} <id>\` (see \`/campaigns list\`).`,
    );
  return id;
}

/** `/campaigns list|new|show|pause|resume|cancel|help`; acked at once, answered through respond. */
export function register(app: App, deps: SlackDeps): void {
  app.command('/campaigns', async ({ command, ack, client, respond }) => {
    // Ack at once: the figures of open campaigns count their remaining audience, which takes time
    // with a million contacts; the answer follows through respond (still only the user sees it).
    await ack();
    const [sub = 'list', id] = String(command.text ?? '')
      .slice(0, 2000)
      .trim()
      .split(/\s+/);
    const user = command.user_id;
    let blocks: KnownBlock[];
    try {
      const verb = sub.toLowerCase();
      if (verb === 'new') {
        assertAdmin(deps, user, 'write campaigns');
        await client.views.open({
          trigger_id: command.trigger_id,
          view: campaignModalFor(deps, command.channel_id),
        });
        return;
      }
      if (verb === '' || verb === 'list') {
        const items = deps.services.campaigns.list({ limit: 15 }).campaigns.map((c) => snapshot(deps, c.id));
        blocks = [...campaignListBlocks(items), newCampaignButton()];
      } else if (verb === 'show') {
        blocks = progressBlocksOf(snapshot(deps, requireId(id, 'show')));
      } else if (verb === 'pause' || verb === 'resume' || verb === 'cancel') {
        assertAdmin(deps, user, `${verbs[verb]} campaigns`);
        const cid = requireId(id, verb);
        deps.services.campaigns[verbs[verb]](cid, user);
        deps.background.run(refreshProgress(deps, client, cid).catch(() => {}));
        blocks = [text(`Done: ${verb}.`), ...progressBlocksOf(snapshot(deps, cid))];
      } else if (verb === 'export') {
        const cid = requireId(id, 'export');
        await sendCampaignResults(deps, client, user, cid);
        blocks = [text(`:inbox_tray: The results of \`${cid}\` were sent to you as a direct message.`)];
      } else if (verb === 'help') {
        blocks = campaignHelpBlocks();
      } else {
        blocks = campaignHelpBlocks(`I don't know \`${sub.slice(0, 30).replace(/[`<>&]/g, '')}\`.`);
      }
    } catch (e) {
      blocks = errorBlocks(failureText(deps, e, 'running /campaigns'));
    }
    await respondReliably(respond)({ response_type: 'ephemeral', text: 'Campaigns', blocks });
  });
}
