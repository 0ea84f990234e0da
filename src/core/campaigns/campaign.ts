import { z } from 'zod';
import { type CampaignStatus, toIso } from '../types.js';
import type { CampaignRecord } from './campaign-store.js';
import { type SendWindow, sendWindowSchema } from './schedule.js';

/** What a person (REST body or Slack modal) may set on a campaign. */
export const campaignInputSchema = z.object({
  name: z.string().trim().min(1, 'give the campaign a name').max(200),
  subject: z.string().trim().min(1, 'the subject is empty').max(250),
  body: z.string().trim().min(1, 'the body is empty').max(100_000),
  html: z.string().max(500_000).optional(),
  from: z.string().trim().max(320).optional(),
  sendAt: z.union([z.literal('now'), z.iso.datetime({ offset: true })]).optional(),
  cron: z.string().trim().max(100).optional(),
  /** Timezone of the cron expression (the window has its own). */
  timezone: z.string().trim().max(64).optional(),
  dailyLimit: z.number().int().min(1).max(1_000_000).optional(),
  ratePerMinute: z.number().int().min(1).max(10_000).optional(),
  window: sendWindowSchema.optional(),
});
export type CampaignInput = z.infer<typeof campaignInputSchema>;

export const scheduleInputSchema = campaignInputSchema
  .pick({ sendAt: true, cron: true, timezone: true, dailyLimit: true, window: true, ratePerMinute: true })
  .refine(
    (v) => v.sendAt !== undefined || v.cron !== undefined,
    'give sendAt ("now" or a date-time) or cron',
  );
export type ScheduleInput = z.infer<typeof scheduleInputSchema>;

export type CampaignCounts = {
  total: number;
  pending: number;
  sent: number;
  failed: number;
  bounced: number;
  unsubscribed: number;
  unknown: number;
  /** Messages the mailbox matched a human reply to (a person is in a campaign's ledger once). */
  replied: number;
  /** Messages reported as spam (ARF complaints). */
  complained: number;
  /** Messages that came back with a soft (transient) bounce; the row stays `sent`. */
  softBounced: number;
  /** Replied messages whose contact was marked `interested` (the reply notice's button). */
  interested: number;
};

/** A campaign as every transport shows it. */
export type Campaign = {
  id: string;
  name: string;
  subject: string;
  body: string;
  html: string | null;
  from: string;
  sendAt: string | null;
  cron: string | null;
  timezone: string;
  dailyLimit: number | null;
  ratePerMinute: number | null;
  window: SendWindow | null;
  status: CampaignStatus;
  statusReason: string | null;
  awaitingConfirmation: boolean;
  nextRunAt: string | null;
  runCount: number;
  createdBy: string;
  createdAt: string;
  startedAt: string | null;
  completedAt: string | null;
  /** Two-person rule: set when the audience exceeded APPROVAL_THRESHOLD; no run starts before approvedBy. */
  approval: { requiredAt: string; approvedBy: string | null; approvedAt: string | null } | null;
};

export const parseWindow = (json: string | null): SendWindow | null =>
  json ? sendWindowSchema.parse(JSON.parse(json)) : null;

/** A stored campaign as every transport shows it. */
export function toCampaign(r: CampaignRecord): Campaign {
  return {
    id: r.id,
    name: r.name,
    subject: r.subject,
    body: r.body,
    html: r.html,
    from: r.fromAddress,
    sendAt: toIso(r.sendAt),
    cron: r.cron,
    timezone: r.timezone,
    dailyLimit: r.dailyLimit,
    ratePerMinute: r.ratePerMinute,
    window: parseWindow(r.sendWindow),
    status: r.status,
    statusReason: r.statusReason,
    awaitingConfirmation: r.awaitingConfirmation,
    nextRunAt: toIso(r.nextRunAt),
    runCount: r.runCount,
    createdBy: r.createdBy,
    createdAt: toIso(r.createdAt)!,
    startedAt: toIso(r.startedAt),
    completedAt: toIso(r.completedAt),
    approval:
      r.approvalRequiredAt === null
        ? null
        : {
            requiredAt: toIso(r.approvalRequiredAt)!,
            approvedBy: r.approvedBy,
            approvedAt: toIso(r.approvedAt),
          },
  };
}

/** Not completed or cancelled, and not sending again to a completed campaign's re-queued rows. */
export const isUnfinished = (c: { status: CampaignStatus; completedAt: number | string | null }) =>
  c.status !== 'completed' && c.status !== 'cancelled' && c.completedAt === null;
