import { DomainError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import type { ScheduleInput } from './campaign.js';
import { nextCronRun, validateCron } from './schedule.js';

export type CampaignSettings = {
  /** MAIL_FROM: the sender when a campaign gives none. */
  defaultFrom: string | undefined;
  /** MAIL_POSTAL_ADDRESS: required in every footer; no campaign starts without it. */
  postalAddress: string | undefined;
  /** APPROVAL_THRESHOLD: a scheduled audience larger than this needs a second admin's approval. */
  approvalThreshold?: number | undefined;
};

/** Refuses to schedule while MAIL_POSTAL_ADDRESS is unset. */
export function assertReady(settings: CampaignSettings): void {
  if (!settings.postalAddress) {
    throw new DomainError(
      'mail_not_configured',
      'Set MAIL_POSTAL_ADDRESS (the postal address every cold e-mail must carry in its footer) before a campaign can start.',
    );
  }
}

/** The schedule columns for a one-off send (sendAt) or a drip (cron with dailyLimit). */
export function planSchedule(settings: CampaignSettings, input: Omit<ScheduleInput, never>, now: number) {
  assertReady(settings);
  const timezone = input.timezone ?? input.window?.timezone ?? 'UTC';
  if (input.sendAt !== undefined && input.cron !== undefined) {
    throw new DomainError('invalid_input', 'Give either sendAt (one send) or cron (a drip), not both.');
  }
  if (input.cron !== undefined) {
    validateCron(input.cron, timezone);
    if (input.dailyLimit === undefined) {
      throw new DomainError(
        'invalid_input',
        'A cron drip needs dailyLimit: how many contacts each run may reach.',
      );
    }
    return {
      sendAt: null,
      cron: input.cron,
      timezone,
      dailyLimit: input.dailyLimit,
      ratePerMinute: input.ratePerMinute ?? null,
      sendWindow: input.window ? JSON.stringify(input.window) : null,
      nextRunAt: nextCronRun(input.cron, timezone, now),
    };
  }
  const at = input.sendAt === 'now' || input.sendAt === undefined ? now : Date.parse(input.sendAt);
  return {
    sendAt: at,
    cron: null,
    timezone,
    dailyLimit: input.dailyLimit ?? null,
    ratePerMinute: input.ratePerMinute ?? null,
    sendWindow: input.window ? JSON.stringify(input.window) : null,
    nextRunAt: Math.max(at, now),
  };
}

/** Whether scheduling now needs an approval (audience over APPROVAL_THRESHOLD); clears an earlier one. */
export function approvalPlan(
  log: Logger,
  settings: CampaignSettings,
  id: string,
  now: number,
  audience: number,
) {
  const threshold = settings.approvalThreshold;
  if (threshold === undefined) return { approvalRequiredAt: null, approvedBy: null, approvedAt: null };
  if (audience <= threshold) return { approvalRequiredAt: null, approvedBy: null, approvedAt: null };
  log.info({ campaignId: id, audience, threshold }, 'campaign needs a second admin to approve it');
  return { approvalRequiredAt: now, approvedBy: null, approvedAt: null };
}
