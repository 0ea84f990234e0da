import type { Clock } from '../../clock.js';
import {
  type AudienceSummary,
  type FigureRequest,
  type Figures,
  figuresMaxStaleMs,
} from '../audience/audience-service.js';
import { tallySends } from '../sending/send-tally.js';
import { type Campaign, type CampaignCounts, isUnfinished } from './campaign.js';
import { estimateFinish } from './schedule.js';
import { type FollowUps, followUps, type StepFigures, stepFigures } from './step-figures.js';

/**
 * A campaign with its ledger figures and, while it still has people to reach, when it should
 * finish; `countedAt` is when the figures were counted (a sending campaign's are those of the
 * latest count: figuresMaxStaleMs). `steps`: the figures per step and variant (a one-step
 * campaign's one step is the campaign); `followUps`: who waits for a next step (a campaign with
 * follow-ups; null otherwise).
 */
export type CampaignProgress = {
  campaign: Campaign;
  counts: CampaignCounts;
  rates: CampaignRates;
  eta: number | null;
  countedAt: number;
  steps: StepFigures[];
  followUps: FollowUps | null;
  /**
   * What the domain doctor's last report found wrong (warn and fail checks; none before its first
   * run), shown until the campaign is finished: PRODUCT.md §9's "warn is shown in the progress message".
   */
  doctor: DoctorFinding[];
};

/** A check of the domain doctor that did not pass (core/deliverability). */
export type DoctorFinding = { domain: string | null; title: string; result: 'warn' | 'fail'; detail: string };

/**
 * What the mailbox tells of a campaign, as fractions (0.0123 = 1.23 %, 4 decimals) with the counts
 * behind them in CampaignCounts: `reply` = replied / sent, `interested` = interested / replied;
 * null while the denominator is 0.
 */
export type CampaignRates = { reply: number | null; interested: number | null };

const fraction = (part: number, whole: number) =>
  whole > 0 ? Math.round((part / whole) * 10_000) / 10_000 : null;

/** The reply and interested rates of a campaign's figures. */
export function campaignRates(k: Pick<CampaignCounts, 'sent' | 'replied' | 'interested'>): CampaignRates {
  return { reply: fraction(k.replied, k.sent), interested: fraction(k.interested, k.replied) };
}

/** REST's campaign detail: its progress and, until it is finished, who it would reach now. */
export type CampaignDetail = CampaignProgress & { audience?: AudienceSummary };

/** Who a new campaign would reach now, and when it should finish if sent now with no limits. */
export type Reach = { audience: AudienceSummary; eta: number | null };

/** What progress reads: a campaign, and its figures counted in one read. */
export type ProgressSources = {
  campaigns: { get(id: string): Promise<Campaign> };
  audience: {
    figures(campaignId: string | null, request: FigureRequest): Promise<Figures>;
    reach(now: number): Promise<{ audience: AudienceSummary }>;
  };
};

/**
 * Figures and finish estimates for the campaign views (Slack's progress message and App Home, the
 * New campaign modal, REST's campaign detail), from the injected clock so a test's time is the
 * estimate's time. The ledger and the audience are counted in one read, so `total` holds steady
 * while a campaign sends; where counting is slow the store keeps them (AudienceStore.figures).
 */
export class ProgressService {
  /**
   * @param pacedRatePerMinute the most messages a minute the sending identities' gaps (SEND_GAP,
   *   `#gap=`) let out, all identities together (mail/pacing.ts); null: no gap bounds it. The
   *   finish estimate uses the lower of it and the campaign's rate.
   */
  constructor(
    private readonly deps: { clock: Clock },
    private readonly sources: ProgressSources,
    private readonly pacedRatePerMinute: number | null = null,
    private readonly findings: () => DoctorFinding[] = () => [],
  ) {}

  /** What the domain doctor's last report found wrong (no checks run here): the campaign modal shows it. */
  doctorFindings(): DoctorFinding[] {
    return this.findings();
  }

  /** The campaign's rate, bounded by the identities' pacing. */
  private rate(ratePerMinute: number | null): number | null {
    const paced = this.pacedRatePerMinute;
    if (paced === null) return ratePerMinute;
    return ratePerMinute === null ? paced : Math.min(ratePerMinute, paced);
  }

  /** A campaign, its figures and, while sending or scheduled with people left, its finish estimate. */
  async get(id: string): Promise<CampaignProgress> {
    const { audience: _, ...progress } = await this.detail(id);
    return progress;
  }

  /**
   * The campaign, its figures, its finish estimate and, until it is finished, its audience now (who
   * it would reach and why the others are left out). One pass over the active batch: for one campaign, not lists.
   */
  async detail(id: string): Promise<CampaignDetail> {
    const campaign = await this.sources.campaigns.get(id);
    const unfinished = isUnfinished(campaign);
    const variantsPerStep = campaign.steps.map((s) => s.variants?.length ?? 0);
    // Follow-ups or variants: count per step too (a one-step campaign reads nothing more).
    const sequence = variantsPerStep.length > 1 || variantsPerStep.some((v) => v > 0);
    const f = await this.sources.audience.figures(id, {
      audience: unfinished,
      // A sending campaign's figures move with every message: a view shows the latest count.
      maxStaleMs: campaign.status === 'sending' ? figuresMaxStaleMs : 0,
      now: this.deps.clock.now(),
      sequence,
    });
    const counts = tallySends(f.sends);
    if (unfinished && f.audience) {
      // Who is still in the audience with no ledger row yet: still to go.
      counts.pending += f.audience.count;
      counts.total += f.audience.count;
    }
    const progress = {
      campaign,
      counts,
      rates: campaignRates(counts),
      eta: this.estimate(campaign, counts),
      countedAt: f.countedAt,
      steps: stepFigures(variantsPerStep, counts, sequence ? (f.sequence?.steps ?? []) : null),
      followUps: f.sequence && variantsPerStep.length > 1 ? followUps(f.sequence) : null,
      doctor: unfinished ? this.findings() : [],
    };
    return unfinished && f.audience ? { ...progress, audience: f.audience } : progress;
  }

  /** The audience a new campaign would reach now and when it should finish, sent now with no limits. */
  async reachNow(): Promise<Reach> {
    const { audience } = await this.sources.audience.reach(this.deps.clock.now());
    const eta =
      audience.count > 0
        ? estimateFinish({
            count: audience.count,
            startMs: this.deps.clock.now(),
            ratePerMinute: this.rate(null),
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
      ratePerMinute: this.rate(campaign.ratePerMinute),
      dailyLimit: campaign.dailyLimit,
      window: campaign.window,
      cron: campaign.cron ? { expr: campaign.cron, timezone: campaign.timezone } : null,
      timezone: campaign.timezone,
    });
  }
}
