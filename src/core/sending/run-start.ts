import type { Logger } from '../../logger.js';
import {
  type AudienceService,
  type AudienceSummary,
  emptyAudienceMessage,
} from '../audience/audience-service.js';
import type { CampaignRecord } from '../campaigns/campaign-store.js';
import type { CampaignStateMachine } from '../campaigns/state-machine.js';
import type { CampaignEvent } from './engine-types.js';

/** What the check at the start of a run needs (the send engine's own parts). */
export type RunStartDeps = {
  audience: AudienceService;
  campaigns: CampaignStateMachine;
  log: Logger;
  notify: (e: CampaignEvent) => void;
  approvalThreshold: number | undefined;
};

/**
 * Checks, as a run starts, the audience it would reach now (the active batch may have changed
 * since the campaign was scheduled). A first run with nobody to send to does not complete
 * silently: it waits for a person to confirm, with the reasons on the campaign. A run over
 * APPROVAL_THRESHOLD waits for a second admin unless an approval was given after the active batch
 * was activated. One pass over the active batch per run start (only when there is a check).
 */
export async function mayStart(d: RunStartDeps, c: CampaignRecord, now: number): Promise<boolean> {
  const threshold = d.approvalThreshold;
  const first = c.startedAt === null;
  if (!first && threshold === undefined) return true;
  const audience = d.audience;
  // A first run has reached nobody yet: the plain count will do, the reasons only when it is 0.
  const count = first ? await audience.count() : (await audience.summary(c.id)).count;
  if (first && count === 0) {
    await holdEmpty(d, c, await audience.summary());
    return false;
  }
  if (threshold === undefined || count <= threshold || (await approvalCovers(d, c))) return true;
  const again = c.approvedBy !== null ? ' and approved' : '';
  const reason =
    `Held for approval: it would now reach ${count} people, over APPROVAL_THRESHOLD (${threshold}); ` +
    `its audience grew after it was scheduled${again} (e.g. another batch was activated). Nothing is sent until an admin other than its creator approves it.`;
  if (await d.campaigns.holdForApproval(c.id, reason, now)) {
    d.log.warn(
      { campaignId: c.id, run: c.runCount + 1, audience: count, threshold },
      'campaign run held for approval: audience over the threshold',
    );
    d.notify({ type: 'needs_approval', campaignId: c.id, audience: count });
  }
  return false;
}

/** An approval covers the audience when it was given after the active batch was activated. */
async function approvalCovers(d: RunStartDeps, c: CampaignRecord): Promise<boolean> {
  if (c.approvedBy === null || c.approvedAt === null) return false;
  const since = await d.audience.activeSince();
  return since === null || since <= c.approvedAt;
}

/** A first run with nobody to send to waits for a person to confirm, saying why (never completes with 0). */
async function holdEmpty(d: RunStartDeps, c: CampaignRecord, audience: AudienceSummary): Promise<void> {
  const reason = `${emptyAudienceMessage(audience)} Nothing was sent: fix that, then confirm to send (Confirm: send now, or POST /campaigns/${c.id}/resume).`;
  if (await d.campaigns.holdForConfirmation(c.id, reason)) {
    d.log.warn(
      { campaignId: c.id, batchId: audience.batch?.id ?? null, excluded: audience.excluded },
      'campaign held: nobody to send to',
    );
    d.notify({ type: 'empty_audience', campaignId: c.id, reason });
  }
}
