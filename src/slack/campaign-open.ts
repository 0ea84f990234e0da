import { estimateFinish } from '../core/campaigns/schedule.js';
import { campaignModal } from './campaign-modal.js';
import type { SlackDeps } from './context.js';

/** The modal with today's reach: the active batch's audience and a no-limits finish estimate. */
export function campaignModalFor(deps: SlackDeps, channelId: string | null) {
  const active = deps.services.batches.getActive();
  const audience = deps.services.audience.count();
  const eta =
    audience > 0
      ? estimateFinish({
          count: audience,
          startMs: Date.now(),
          ratePerMinute: null,
          dailyLimit: null,
          window: null,
          cron: null,
        })
      : null;
  return campaignModal({
    activeBatch: active ? { id: active.id, name: active.name } : null,
    audience,
    eta,
    channelId,
  });
}
