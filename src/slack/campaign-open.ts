import { estimateFinish } from '../core/campaigns/schedule.js';
import { campaignModal } from './campaign-modal.js';
import type { SlackDeps } from './context.js';

/** The modal with today's reach: the active batch's audience (and who is left out, why) and a no-limits finish estimate. */
export function campaignModalFor(deps: SlackDeps, channelId: string | null) {
  const audience = deps.services.audience.summary();
  const eta =
    audience.count > 0
      ? estimateFinish({
          count: audience.count,
          startMs: Date.now(),
          ratePerMinute: null,
          dailyLimit: null,
          window: null,
          cron: null,
        })
      : null;
  return campaignModal({
    audience,
    eta,
    channelId,
  });
}
