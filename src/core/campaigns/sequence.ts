import { createHash } from 'node:crypto';
import { z } from 'zod';
import { DomainError } from '../../errors.js';
import type { CampaignRecord } from './campaign-store.js';
import { instantOnDay, localDayOf, nextWindowStart, type SendWindow } from './schedule.js';

/**
 * Sequences (PRODUCT.md §8): a campaign has 1–5 steps; step 1 is its subject/body/html, each later
 * step a follow-up sent `delayDays` business days after the previous one reached that person, in
 * the same thread. Any step may have 2–5 A/B variants. Pure: no store, no clock.
 */

export const maxSteps = 5;
export const maxVariants = 5;

const subjectSchema = z
  .string({ error: 'the subject must be text' })
  .trim()
  .min(1, 'the subject is empty')
  .max(250, 'the subject is over 250 characters');
const bodySchema = z
  .string({ error: (iss) => (iss.input === undefined ? 'the body is missing' : 'the body must be text') })
  .trim()
  .min(1, 'the body is empty')
  .max(100_000, 'the body is over 100,000 characters');
const htmlSchema = z
  .string({ error: 'the html must be text' })
  .max(500_000, 'the html is over 500,000 characters');

/** An A/B alternative of a step: its missing fields fall back to the step's. */
export const stepVariantSchema = z.object(
  { subject: subjectSchema.optional(), body: bodySchema.optional(), html: htmlSchema.optional() },
  { error: 'a variant is an object with subject, body and/or html' },
);
export type StepVariant = z.infer<typeof stepVariantSchema>;

export const sequenceStepSchema = z.object(
  {
    /** Step 1 needs one; a later step without one is a reply in the thread (`Re: <step 1 subject>`). */
    subject: subjectSchema.optional(),
    body: bodySchema,
    html: htmlSchema.optional(),
    /** Business days (the send window's days) after the previous step; 0 for step 1. */
    delayDays: z
      .number({ error: 'delayDays must be a number of business days' })
      .int('delayDays must be a whole number of business days')
      .min(0, 'delayDays may not be negative')
      .max(60, 'delayDays may be at most 60 business days')
      .default(0),
    variants: z
      .array(stepVariantSchema, { error: 'variants must be a list of 2 to 5 variants' })
      .min(2, 'give 2 to 5 variants, or none')
      .max(maxVariants, 'give 2 to 5 variants, or none')
      .optional(),
  },
  { error: 'a step is an object with body, and optionally subject, html, delayDays and variants' },
);
/** One step as stored in `campaigns.steps` (JSON) and accepted by POST /campaigns. */
export type SequenceStep = z.infer<typeof sequenceStepSchema>;

/** The text one person gets at one step: templates not yet rendered. */
export type StepText = {
  subject: string;
  body: string;
  html: string | null;
  /** A follow-up: sent with In-Reply-To/References to the person's previous step. */
  followUp: boolean;
};

/** The steps of a stored campaign: its `steps` JSON, or step 1 from its columns. */
export function campaignSteps(
  c: Pick<CampaignRecord, 'subject' | 'body' | 'html' | 'steps'>,
): SequenceStep[] {
  if (c.steps) return z.array(sequenceStepSchema).parse(JSON.parse(c.steps));
  return [{ subject: c.subject, body: c.body, ...(c.html ? { html: c.html } : {}), delayDays: 0 }];
}

/** Whether the campaign needs sequence bookkeeping (follow-ups or variants). */
export const isSequence = (steps: SequenceStep[]): boolean =>
  steps.length > 1 || steps.some((s) => (s.variants?.length ?? 0) > 1);

const seeds = new Map<string, number>();
/** A stable number per campaign: the variant people start from (kept: a hash per send is ~25 µs). */
function campaignSeed(campaignId: string): number {
  let seed = seeds.get(campaignId);
  if (seed === undefined) {
    if (seeds.size >= 1000) seeds.clear();
    seed = createHash('sha256').update(campaignId).digest().readUInt32BE(0);
    seeds.set(campaignId, seed);
  }
  return seed;
}

/**
 * The variant (1-based) a person gets at a step with `variants` variants, or null when it has none.
 * Deterministic in (campaign id, contact id): people are dealt in turn by contact id from a start
 * the campaign's id picks, so a list imported together (consecutive ids) splits evenly to within
 * one person, which a plain hash would not (1,000 people over 2 variants by hash: ±16).
 */
export function variantFor(campaignId: string, contactId: number, variants: number): number | null {
  if (variants < 2) return null;
  return ((campaignSeed(campaignId) + contactId) % variants) + 1;
}

/**
 * The text of `step` (1-based) for `variant` (1-based, or null): a variant's missing fields fall
 * back to the step's; a later step without a subject replies in the thread: `Re: <step 1 subject>`
 * with the subject of the step-1 variant the person got (`firstVariant`), so mail clients thread it.
 */
export function stepText(
  steps: SequenceStep[],
  step: number,
  variant: number | null,
  firstVariant: number | null = null,
): StepText {
  const s = steps[step - 1];
  if (!s) throw new Error(`no step ${step}`);
  const v = variant !== null ? s.variants?.[variant - 1] : undefined;
  const s1 = steps[0];
  const first =
    (firstVariant !== null ? s1?.variants?.[firstVariant - 1]?.subject : undefined) ?? s1?.subject ?? '';
  const subject = v?.subject ?? s.subject ?? `Re: ${first}`;
  return {
    subject,
    body: v?.body ?? s.body,
    html: v?.html ?? s.html ?? null,
    followUp: step > 1,
  };
}

/**
 * When the step after one sent at `sentAt` is due: `delayDays` business days later (days of the
 * window's `days`; every day without a window) at the same local time of day, moved to the next
 * window opening when that falls outside the window. `timezone`: the window's, else the campaign's.
 * Counted on the local calendar, so a DST change in between keeps the clock time (10:00 stays 10:00).
 */
export function nextDueAt(
  sentAt: number,
  delayDays: number,
  window: SendWindow | null,
  timezone: string,
): number {
  const tz = window?.timezone ?? timezone;
  const sent = localDayOf(tz, sentAt);
  const counts = (weekday: number) => !window || window.days.includes(weekday);
  if (delayDays > 0 && ![0, 1, 2, 3, 4, 5, 6].some(counts)) {
    throw new DomainError(
      'invalid_input',
      'The send window never opens: pick at least one day and an end after the start.',
    );
  }
  let day = sent.day;
  for (let left = delayDays; left > 0; ) {
    day++;
    if (counts((sent.weekday + day - sent.day) % 7)) left--;
  }
  const due = Math.max(sentAt, instantOnDay(tz, day, sent.timeMs));
  return window ? nextWindowStart(window, due) : due;
}
