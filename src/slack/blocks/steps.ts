import type { Campaign } from '../../core/campaigns/campaign.js';
import type { FollowUps, Rate, StepFigures, VariantFigures } from '../../core/campaigns/step-figures.js';
import { clip, esc } from '../kit/escape.js';
import { type KnownBlock, n, text, when } from './common.js';

/** What a sequence's blocks show: its figures per step and who waits for a follow-up. */
export type SequenceView = { steps: StepFigures[]; followUps: FollowUps | null; countedAt: number };

/** Follow-ups or variants: a campaign whose progress shows each step. */
export const isSequenceView = (c: Campaign) =>
  c.steps.length > 1 || c.steps.some((s) => (s.variants?.length ?? 0) > 0);

/** A step's variants are lettered A–E, as the modal names them. */
export const variantLetter = (index: number) => String.fromCharCode(64 + index);

const pct = (r: Rate) => (r.rate === null ? '—' : `${(r.rate * 100).toFixed(1)}%`);

/**
 * Sent, replied and interested with the people behind each rate, bounced, unsubscribed; failed,
 * unknown, complaints and pending only when there are any. One line.
 */
export function stepLine(f: Pick<StepFigures, 'counts' | 'rates'>): string {
  const k = f.counts;
  const r = f.rates;
  const parts = [
    `*${n(k.sent)}* sent`,
    `${n(k.replied)} replied (${pct(r.reply)} of ${n(r.reply.people)})`,
    `${n(k.interested)} interested (${pct(r.interested)} of ${n(r.interested.people)})`,
    `${n(k.bounced)} bounced`,
    `${n(k.unsubscribed)} unsubscribed`,
  ];
  if (k.failed > 0) parts.push(`${n(k.failed)} failed`);
  if (k.unknown > 0) parts.push(`${n(k.unknown)} unknown`);
  if (k.complained > 0) parts.push(`${n(k.complained)} complained`);
  if (k.pending > 0) parts.push(`${n(k.pending)} to go`);
  return parts.join(' · ');
}

/** "Step 2 · 3 days after step 1" (send days when the campaign has a window). */
function stepTitle(c: Campaign, index: number): string {
  const def = c.steps.find((s) => s.index === index);
  if (index === 1 || !def) return `*Step ${index}*`;
  const days = `${def.delayDays} ${c.window ? 'send ' : ''}day${def.delayDays === 1 ? '' : 's'}`;
  return `*Step ${index}* · ${days} after step ${index - 1}${def.subject ? '' : ' (reply in the thread)'}`;
}

/** "A “Quick question”": a variant with its own subject shows it (clipped). */
function variantTitle(c: Campaign, step: number, v: VariantFigures): string {
  const subject = c.steps.find((s) => s.index === step)?.variants?.find((x) => x.index === v.index)?.subject;
  return `${variantLetter(v.index)}${subject ? ` “${esc(clip(subject, 40))}”` : ''}`;
}

/** When the earliest follow-up is due: now, once its time has come. */
const dueText = (f: FollowUps, now: number) =>
  f.nextDueAt === null ? '' : Date.parse(f.nextDueAt) <= now ? ' due now' : ` due ${when(f.nextDueAt)}`;

/** "next: 120 follow-ups waiting, the first due …" (null: a campaign without follow-ups). */
export function nextLine(f: FollowUps | null, now: number): string | null {
  if (!f) return null;
  if (f.waiting === 0) return ':hourglass_flowing_sand: next: no follow-up waiting';
  return `:hourglass_flowing_sand: next: ${n(f.waiting)} follow-up${f.waiting === 1 ? '' : 's'} waiting, the first${dueText(f, now)}`;
}

/**
 * A sequence's progress: one section per step (its variants under it), then who waits for a
 * follow-up. At most 5 steps × 5 variants: 6 blocks, each text well under Slack's 3,000 characters.
 */
export function stepBlocks(c: Campaign, v: SequenceView): KnownBlock[] {
  const blocks = v.steps.map((s) => {
    const lines = [`${stepTitle(c, s.index)}: ${stepLine(s)}`];
    for (const x of s.variants ?? []) lines.push(`   ${variantTitle(c, s.index, x)}: ${stepLine(x)}`);
    return text(lines.join('\n'));
  });
  const next = nextLine(v.followUps, v.countedAt);
  return next ? [...blocks, text(next)] : blocks;
}

/** The campaign list's short line per step ("1 ▸ 80 sent, 5 replied · 2 ▸ …") and the next follow-ups. */
export function stepsSummary(v: SequenceView): string {
  const steps = v.steps
    .map((s) => `${s.index} ▸ ${n(s.counts.sent)} sent, ${n(s.counts.replied)} replied`)
    .join(' · ');
  const next = nextLine(v.followUps, v.countedAt);
  return `Steps: ${steps}${next ? `\n${next}` : ''}`;
}
