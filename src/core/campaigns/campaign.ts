import { z } from 'zod';
import { DomainError } from '../../errors.js';
import { type CampaignStatus, toIso } from '../types.js';
import type { CampaignRecord } from './campaign-store.js';
import { type HeldCheck, parseHeldChecks } from './held.js';
import { type SendWindow, sendWindowSchema } from './schedule.js';
import { campaignSteps, maxSteps, type SequenceStep, sequenceStepSchema } from './sequence.js';
import { checkSteps, stepLabel } from './sequence-input.js';

const stepsRange = 'give 1 to 5 steps (step 1 and up to 4 follow-ups), or leave steps out for one message';

/** The fields a person (REST body or Slack modal) may set on a campaign. */
const campaignFields = z.object({
  name: z.string().trim().min(1, 'give the campaign a name').max(200),
  /** Step 1's; may be left out when `steps` is given (or must equal steps[0]'s). */
  subject: z.string().trim().min(1, 'the subject is empty').max(250).optional(),
  body: z.string().trim().min(1, 'the body is empty').max(100_000).optional(),
  html: z.string().max(500_000).optional(),
  /** The whole sequence (PRODUCT.md §8): steps[0] is step 1, each later one a follow-up. */
  steps: z
    .array(sequenceStepSchema, { error: 'steps must be a list of steps, each with a body' })
    .min(1, stepsRange)
    .max(maxSteps, stepsRange)
    .optional(),
  from: z.string().trim().max(320).optional(),
  sendAt: z.union([z.literal('now'), z.iso.datetime({ offset: true })]).optional(),
  cron: z.string().trim().max(100).optional(),
  /** Timezone of the cron expression (the window has its own). */
  timezone: z.string().trim().max(64).optional(),
  dailyLimit: z.number().int().min(1).max(1_000_000).optional(),
  ratePerMinute: z.number().int().min(1).max(10_000).optional(),
  window: sendWindowSchema.optional(),
});

/** What a person (REST body or Slack modal) may set on a campaign, with the sequence rules (sequence-input.ts). */
export const campaignInputSchema = campaignFields.superRefine(checkSteps);
/** A campaign input as given (step delays may be left out). */
export type CampaignInput = z.input<typeof campaignInputSchema>;
/** A campaign input that passed the schema. */
export type CheckedCampaignInput = z.output<typeof campaignInputSchema>;

/**
 * Parses a campaign input; a problem inside `steps` is refused with a message that names the step
 * and variant ("step 2, variant 3: the body is empty"), others as the schema's ZodError.
 */
export function parseCampaignInput(raw: unknown): CheckedCampaignInput {
  const r = campaignInputSchema.safeParse(raw);
  if (r.success) return r.data;
  const named = (i: { path: PropertyKey[]; message: string }) => {
    const label = stepLabel(i.path);
    return label ? `${label}: ${i.message}` : null;
  };
  const [first] = r.error.issues;
  const message = first ? named(first) : null;
  if (!first || !message) throw r.error;
  const issues = r.error.issues.map((i) => ({ path: i.path.join('.'), message: named(i) ?? i.message }));
  throw new DomainError('invalid_input', message, { field: first.path.join('.'), issues });
}

export const scheduleInputSchema = campaignFields
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

/** One step of a campaign as every transport shows it (indexes 1-based). */
export type CampaignStep = {
  index: number;
  subject?: string;
  body: string;
  html?: string;
  /** Business days after the previous step reached the person; 0 for step 1. */
  delayDays: number;
  variants?: { index: number; subject?: string; body?: string; html?: string }[];
};

/** A campaign as every transport shows it. */
export type Campaign = {
  id: string;
  name: string;
  /** Step 1's (as are body and html). */
  subject: string;
  body: string;
  html: string | null;
  /** Every step, step 1 first (a one-step campaign has one). */
  steps: CampaignStep[];
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
  /** `doctor` while held by a failing deliverability check (PRODUCT.md §9); null otherwise. */
  heldReason: string | null;
  /** The failing checks it was held for; kept after an admin's "send anyway" (null: never held). */
  heldChecks: HeldCheck[] | null;
};

export const parseWindow = (json: string | null): SendWindow | null =>
  json ? sendWindowSchema.parse(JSON.parse(json)) : null;

const stepOf = (s: SequenceStep, i: number): CampaignStep => ({
  index: i + 1,
  ...(s.subject !== undefined ? { subject: s.subject } : {}),
  body: s.body,
  ...(s.html ? { html: s.html } : {}),
  delayDays: s.delayDays,
  ...(s.variants ? { variants: s.variants.map((v, j) => ({ index: j + 1, ...v })) } : {}),
});

/** A stored campaign as every transport shows it. */
export function toCampaign(r: CampaignRecord): Campaign {
  return {
    id: r.id,
    name: r.name,
    subject: r.subject,
    body: r.body,
    html: r.html,
    steps: campaignSteps(r).map(stepOf),
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
    heldReason: r.heldReason,
    heldChecks: parseHeldChecks(r.heldChecks),
  };
}

/** Not completed or cancelled, and not sending again to a completed campaign's re-queued rows. */
export const isUnfinished = (c: { status: CampaignStatus; completedAt: number | string | null }) =>
  c.status !== 'completed' && c.status !== 'cancelled' && c.completedAt === null;
