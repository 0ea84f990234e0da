import type { WebClient } from '@slack/web-api';
import type { SlackDeps } from '../kit/context.js';
import { campaignModal } from '../views/campaign-modal.js';

/**
 * Opens the "New campaign" modal with today's reach: the active batch's audience (and who is left
 * out, why) and when it should finish sent now with no limits. The progress message of the
 * campaign saved goes to `channelId` (where the form was asked for), else the person's DM.
 */
export async function openCampaignModal(
  deps: SlackDeps,
  client: WebClient,
  triggerId: string,
  channelId: string | null,
): Promise<void> {
  const { audience, eta } = await deps.services.progress.reachNow();
  const doctor = deps.services.progress.doctorFindings();
  await client.views.open({
    trigger_id: triggerId,
    view: campaignModal({ audience, eta, channelId, doctor }),
  });
}
