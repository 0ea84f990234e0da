import type { SequenceRows, StepStatusCount } from '../audience/audience-store.js';
import { tallySends } from '../sending/send-tally.js';
import type { CampaignCounts } from './campaign.js';

/**
 * A rate (a fraction, 4 decimals; null while `people` is 0) and the number of people it is taken
 * over: a step's ledger holds one row per person, so its `sent` are people, not messages.
 */
export type Rate = { rate: number | null; people: number };

/** reply = replied / sent (people sent this step or variant), interested = interested / replied. */
export type StepRates = { reply: Rate; interested: Rate };

/** One variant's figures (its ledger rows only: who has not reached the step yet has no variant). */
export type VariantFigures = { index: number; counts: CampaignCounts; rates: StepRates };

/**
 * One step's figures. Step 1 holds the campaign's figures minus the later steps', with who the
 * campaign still reaches counted as pending; `variants` when the step has variants.
 */
export type StepFigures = {
  index: number;
  counts: CampaignCounts;
  rates: StepRates;
  variants?: VariantFigures[];
};

/** People waiting for their next step, and when the earliest is due (ISO; null: nobody waits). */
export type FollowUps = { waiting: number; nextDueAt: string | null };

const fraction = (part: number, whole: number) =>
  whole > 0 ? Math.round((part / whole) * 10_000) / 10_000 : null;

/** The reply and interested rates of some figures, each with the people behind it. */
export function stepRates(k: Pick<CampaignCounts, 'sent' | 'replied' | 'interested'>): StepRates {
  return {
    reply: { rate: fraction(k.replied, k.sent), people: k.sent },
    interested: { rate: fraction(k.interested, k.replied), people: k.replied },
  };
}

const countKeys = [
  'total',
  'pending',
  'sent',
  'failed',
  'bounced',
  'unsubscribed',
  'unknown',
  'replied',
  'complained',
  'softBounced',
  'interested',
] as const satisfies readonly (keyof CampaignCounts)[];

function minus(a: CampaignCounts, b: CampaignCounts): CampaignCounts {
  const out = { ...a };
  for (const k of countKeys) out[k] -= b[k];
  return out;
}

const figures = (counts: CampaignCounts) => ({ counts, rates: stepRates(counts) });

/**
 * A campaign's figures per step and variant. `variantsPerStep`: how many variants each step of
 * the definition has (0: none); `campaign`: the campaign's figures (pending includes who it still
 * reaches); `rows`: the ledger rows of a later step or with a variant (SequenceRows.steps), null
 * for a one-step campaign without variants (its one step is the campaign). Step 1 is the campaign
 * minus the later steps; a step or variant without rows has zero figures.
 */
export function stepFigures(
  variantsPerStep: readonly number[],
  campaign: CampaignCounts,
  rows: readonly StepStatusCount[] | null,
): StepFigures[] {
  if (rows === null) return [{ index: 1, ...figures({ ...campaign }) }];
  const byStep = new Map<number, StepStatusCount[]>();
  for (const r of rows) byStep.set(r.step, [...(byStep.get(r.step) ?? []), r]);
  const steps = Math.max(1, variantsPerStep.length, ...byStep.keys());
  const out: StepFigures[] = [];
  let later = tallySends([]);
  for (let index = steps; index >= 1; index--) {
    const own = byStep.get(index) ?? [];
    const counts = index === 1 ? minus(campaign, later) : tallySends(own);
    if (index > 1) later = add(later, counts);
    const nVariants = Math.max(variantsPerStep[index - 1] ?? 0, ...own.map((r) => r.variant ?? 0));
    const step: StepFigures = { index, ...figures(counts) };
    if (nVariants > 0) {
      step.variants = Array.from({ length: nVariants }, (_, i) => ({
        index: i + 1,
        ...figures(tallySends(own.filter((r) => r.variant === i + 1))),
      }));
    }
    out.unshift(step);
  }
  return out;
}

function add(a: CampaignCounts, b: CampaignCounts): CampaignCounts {
  const out = { ...a };
  for (const k of countKeys) out[k] += b[k];
  return out;
}

/** Who waits for a follow-up, from a sequence's rows. */
export const followUps = (s: Pick<SequenceRows, 'waiting' | 'nextDueAt'>): FollowUps => ({
  waiting: s.waiting,
  nextDueAt: s.nextDueAt === null ? null : new Date(s.nextDueAt).toISOString(),
});

/** A step of the campaign's definition (Campaign `steps`), as far as figures need it. */
type Defined = { index: number; variants?: readonly { index: number }[] };

/** A definition entry with its figures merged in (its variants too). */
export type StepWithFigures<S extends Defined> = Omit<S, 'variants'> &
  Omit<StepFigures, 'variants' | 'index'> & {
    variants?: (NonNullable<S['variants']>[number] & Omit<VariantFigures, 'index'>)[];
  };

/**
 * The campaign's step definitions with their figures merged in by index (REST's campaign detail):
 * a variant of the definition gets its variant's figures; a step with figures but no definition
 * (none expected) is left out.
 */
export function withStepFigures<S extends Defined>(
  defs: readonly S[],
  steps: readonly StepFigures[],
): StepWithFigures<S>[] {
  const zero = figures(tallySends([]));
  return defs.map((d) => {
    const f = steps.find((s) => s.index === d.index);
    const { variants, ...rest } = d;
    const merged = { ...rest, counts: f?.counts ?? zero.counts, rates: f?.rates ?? zero.rates };
    if (!variants) return merged;
    return {
      ...merged,
      variants: variants.map((v) => {
        const vf = f?.variants?.find((x) => x.index === v.index);
        return { ...v, counts: vf?.counts ?? zero.counts, rates: vf?.rates ?? zero.rates };
      }),
    };
  });
}
