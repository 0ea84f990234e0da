import type { Clock } from '../../clock.js';
import type { AudienceSummary } from '../audience/audience-service.js';
import { type Campaign, type CampaignCounts, isUnfinished } from './campaign.js';
import { estimateFinish } from './schedule.js';

/** A campaign with its ledger figures and, while it still has people to reach, when it should finish. */
export type CampaignProgress = { campaign: Campaign; counts: CampaignCounts; eta: number | null };

/** REST's campaign detail: its progress and, until it is finished, who it would reach now. */
export type CampaignDetail = CampaignProgress & { audience?: AudienceSummary };

/** Who a new campaign would reach now, and when it should finish if sent now with no limits. */
export type Reach = { audience: AudienceSummary; eta: number | null };

/** What progress reads: a campaign and its figures, and the audience now. */
export type ProgressSources = {
  campaigns: {
    get(id: string): Campaign | Promise<Campaign>;
    /** With `remainingNow`, the audience count just read stands for who is still to go. */
    counts(id: string, remainingNow?: number): CampaignCounts | Promise<CampaignCounts>;
  };
  audience: { summary(campaignId?: string): AudienceSummary | Promise<AudienceSummary> };
};

/**
 * Figures and finish estimates for the campaign views (Slack's progress message, the New campaign
 * modal, REST's campaign detail), from the injected clock so a test's time is the estimate's time.
 */
export class ProgressService {
  constructor(
    private readonly deps: { clock: Clock },
    private readonly sources: ProgressSources,
  ) {}

  /** A campaign, its figures and, while sending or scheduled with people left, its finish estimate. */
  async get(id: string): Promise<CampaignProgress> {
    const campaign = await this.sources.campaigns.get(id);
    const counts = await this.sources.campaigns.counts(id);
    return { campaign, counts, eta: this.estimate(campaign, counts) };
  }

  /**
   * The campaign, its figures, its finish estimate and, until it is finished, its audience now (who
   * it would reach and why the others are left out). One pass over the active batch: for one campaign, not lists.
   */
  async detail(id: string): Promise<CampaignDetail> {
    const campaign = await this.sources.campaigns.get(id);
    if (!isUnfinished(campaign)) {
      const counts = await this.sources.campaigns.counts(id);
      return { campaign, counts, eta: this.estimate(campaign, counts) };
    }
    const audience = await this.sources.audience.summary(id);
    const counts = await this.sources.campaigns.counts(id, audience.count);
    return { campaign, counts, eta: this.estimate(campaign, counts), audience };
  }

  /** The audience a new campaign would reach now and when it should finish, sent now with no limits. */
  async reachNow(): Promise<Reach> {
    const audience = await this.sources.audience.summary();
    const eta =
      audience.count > 0
        ? estimateFinish({
            count: audience.count,
            startMs: this.deps.clock.now(),
            ratePerMinute: null,
            dailyLimit: null,
            window: null,
            cron: null,
          })
        : null;
    return { audience, eta };
  }

  private estimate(campaign: Campaign, counts: CampaignCounts): number | null {
    if (counts.pending <= 0 || (campaign.status !== 'sending' && campaign.status !== 'scheduled'))
      return null;
    const now = this.deps.clock.now();
    const next = campaign.nextRunAt ? Date.parse(campaign.nextRunAt) : now;
    return estimateFinish({
      count: counts.pending,
      startMs: Math.max(now, campaign.status === 'sending' ? now : next),
      ratePerMinute: campaign.ratePerMinute,
      dailyLimit: campaign.dailyLimit,
      window: campaign.window,
      cron: campaign.cron ? { expr: campaign.cron, timezone: campaign.timezone } : null,
      timezone: campaign.timezone,
    });
  }
}
