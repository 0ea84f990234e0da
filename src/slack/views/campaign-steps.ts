import { z } from 'zod';
import { maxSteps, maxVariants, sequenceStepSchema } from '../../core/campaigns/sequence.js';
import { isDomainError } from '../../errors.js';
import { actionIds } from '../blocks/action-ids.js';
import { button, context } from '../blocks/common.js';
import { input } from './modal-inputs.js';

/**
 * The sequence part of the campaign modal (PRODUCT.md §8): follow-up steps and A/B variants added
 * with buttons inside the modal. Which steps and variants the modal shows (its shape) travels in
 * the view's private_metadata; each step and variant has a key that never changes while the modal
 * is open, so its block ids (and what was typed in them) stay put when another one is removed.
 * Step 1 is the modal's own Subject and Body (key 0); a step's own text is its variant 1, the
 * variants added are 2 to 5 (numbered as REST and the service's messages number them). The worst
 * case, 5 steps × 5 variants, is 91 blocks: under Slack's 100 (test/slack/campaign-modal-sequence*).
 */

/** Slack's limit for a text input; longer bodies go through the REST API. */
export const bodyMaxLength = 3000;

export const modalShape = z.object({
  /** The next unused key. */
  next: z.number().int().min(1),
  steps: z
    .array(
      z.object({
        key: z.number().int().min(0),
        /** The keys of the variants added (2, 3, …): the step's own text is variant 1. */
        variants: z.array(z.number().int().min(1)).max(maxVariants - 1),
      }),
    )
    .min(1)
    .max(maxSteps),
});
export type ModalShape = z.infer<typeof modalShape>;

/** A plain one-step campaign: today's modal. */
export const oneStep = (): ModalShape => ({ next: 1, steps: [{ key: 0, variants: [] }] });

export type ShapeChange =
  | { kind: 'add_step' }
  | { kind: 'remove_step'; step: number }
  | { kind: 'add_variant'; step: number }
  | { kind: 'remove_variant'; variant: number };

/** The shape after a button: beyond the limits (or for a key that is gone) it stays as it was. */
export function changeShape(shape: ModalShape, change: ShapeChange): ModalShape {
  const { next, steps } = shape;
  switch (change.kind) {
    case 'add_step':
      if (steps.length >= maxSteps) return shape;
      return { next: next + 1, steps: [...steps, { key: next, variants: [] }] };
    case 'remove_step':
      return { next, steps: steps.filter((s) => s.key === 0 || s.key !== change.step) };
    case 'add_variant':
      return {
        next: next + 1,
        steps: steps.map((s) =>
          s.key === change.step && s.variants.length < maxVariants - 1
            ? { ...s, variants: [...s.variants, next] }
            : s,
        ),
      };
    case 'remove_variant':
      return {
        next,
        steps: steps.map((s) => ({ ...s, variants: s.variants.filter((v) => v !== change.variant) })),
      };
  }
}

/** Block ids: step 1 keeps the modal's `subject` and `body`. */
export const stepBlock = {
  subject: (key: number) => (key === 0 ? 'subject' : `step_${key}_subject`),
  body: (key: number) => (key === 0 ? 'body' : `step_${key}_body`),
  delay: (key: number) => `step_${key}_delay`,
  variant: (key: number, field: 'subject' | 'body') => `variant_${key}_${field}`,
};

/** A follow-up's delay: at least one business day (the service's rule), at most what the schema takes. */
const delayBounds = { min: 1, max: sequenceStepSchema.shape.delayDays.unwrap().maxValue ?? 60 };
const section = (blockId: string, mrkdwn: string, accessory: ReturnType<typeof button>) => ({
  type: 'section' as const,
  block_id: blockId,
  text: { type: 'mrkdwn' as const, text: mrkdwn },
  accessory,
});
const textInput = (multiline: boolean) => ({
  type: 'plain_text_input',
  ...(multiline ? { multiline: true, max_length: bodyMaxLength } : { max_length: 250 }),
});

/** The label suffix of a step's own fields once it has variants. */
export const ownVariant = (shape: ModalShape, key: number) =>
  (shape.steps.find((s) => s.key === key)?.variants.length ?? 0) > 0 ? ' (variant 1)' : '';

/** A step's added variants, then its "Add variant" button while it has fewer than 5. */
function variantBlocks(stepNo: number, step: ModalShape['steps'][number]) {
  const blocks = step.variants.flatMap((key, i) => {
    const name = `Step ${stepNo} · variant ${i + 2}`;
    return [
      section(
        `variant_${key}`,
        `*${name}*: people are split evenly between the variants; a field left empty uses variant 1's.`,
        button('Remove variant', actionIds.campaignRemoveVariant, JSON.stringify({ variant: key })),
      ),
      input(stepBlock.variant(key, 'subject'), `${name} subject`, textInput(false), true),
      input(stepBlock.variant(key, 'body'), `${name} body`, textInput(true), true),
    ];
  });
  if (step.variants.length >= maxVariants - 1) return blocks;
  const add = button(
    `Add variant to step ${stepNo}`,
    actionIds.campaignAddVariant,
    JSON.stringify({ step: step.key }),
  );
  return [...blocks, { type: 'actions' as const, block_id: `add_variant_${step.key}`, elements: [add] }];
}

/** What follows step 1's Subject and Body: its variants, the follow-ups, the "Add follow-up" button. */
export function sequenceBlocks(shape: ModalShape) {
  const [first, ...later] = shape.steps;
  const followUps = later.flatMap((step, i) => {
    const n = i + 2;
    const own = ownVariant(shape, step.key);
    return [
      section(
        `step_${step.key}`,
        `*Step ${n}: follow-up* in the same thread. It stops for a person who replies, bounces or unsubscribes.`,
        button('Remove step', actionIds.campaignRemoveStep, JSON.stringify({ step: step.key })),
      ),
      input(
        stepBlock.subject(step.key),
        `Step ${n} subject${own}`,
        textInput(false),
        true,
        'Leave it empty to reply in the thread: "Re: " and the subject of step 1.',
      ),
      input(stepBlock.body(step.key), `Step ${n} body${own}`, textInput(true)),
      input(
        stepBlock.delay(step.key),
        `Step ${n} delay: business days after step ${n - 1}`,
        {
          type: 'number_input',
          is_decimal_allowed: false,
          min_value: String(delayBounds.min),
          max_value: String(delayBounds.max),
          initial_value: '3',
        },
        false,
        'Counted on the send window\'s days ("Send only on": Mon–Fri skips weekends); every day without a window.',
      ),
      ...variantBlocks(n, step),
    ];
  });
  const add =
    shape.steps.length < maxSteps
      ? {
          type: 'actions' as const,
          block_id: 'add_step',
          elements: [button('Add follow-up', actionIds.campaignAddStep, '{}')],
        }
      : context(`${maxSteps} steps: the most a sequence has.`);
  return [...(first ? variantBlocks(1, first) : []), ...followUps, add];
}

/** One step as the campaign input takes it (`steps` of POST /campaigns). */
export type ModalStep = {
  subject?: string;
  body: string;
  delayDays: number;
  variants?: { subject?: string; body?: string }[];
};
export type ModalProblem = { block: string; message: string };

/**
 * The steps typed in the modal (`read`: a block's trimmed text, undefined when empty), or none for
 * a plain one-step campaign (exactly today's input). Step 1's text is the modal's Subject and Body.
 */
export function readSteps(
  shape: ModalShape,
  read: (blockId: string) => string | undefined,
  first: { subject: string; body: string },
): { steps?: ModalStep[]; problem?: ModalProblem } {
  if (shape.steps.length === 1 && shape.steps[0]?.variants.length === 0) return {};
  const steps: ModalStep[] = [];
  for (const [i, step] of shape.steps.entries()) {
    const n = i + 1;
    const subject = i === 0 ? first.subject || undefined : read(stepBlock.subject(step.key));
    const body = i === 0 ? first.body : read(stepBlock.body(step.key));
    if (body === undefined)
      return {
        problem: {
          block: stepBlock.body(step.key),
          message: `Step ${n}: write its body, or remove the step.`,
        },
      };
    let delayDays = 0;
    if (i > 0) {
      const typed = read(stepBlock.delay(step.key));
      delayDays = typed !== undefined && /^\d{1,3}$/.test(typed) ? Number(typed) : Number.NaN;
      if (!(delayDays >= delayBounds.min && delayDays <= delayBounds.max))
        return {
          problem: {
            block: stepBlock.delay(step.key),
            message: `Step ${n}: the delay is a whole number of business days from ${delayBounds.min} to ${delayBounds.max}${typed === undefined ? '' : `, not ${typed}`}.`,
          },
        };
    }
    const own = { ...(subject ? { subject } : {}), body };
    const added: ModalStep['variants'] = [];
    for (const [j, key] of step.variants.entries()) {
      const v = {
        subject: read(stepBlock.variant(key, 'subject')),
        body: read(stepBlock.variant(key, 'body')),
      };
      if (v.subject === undefined && v.body === undefined)
        return {
          problem: {
            block: stepBlock.variant(key, 'subject'),
            message: `Step ${n}, variant ${j + 2}: write its subject, its body or both, or remove the variant.`,
          },
        };
      added.push({ ...(v.subject ? { subject: v.subject } : {}), ...(v.body ? { body: v.body } : {}) });
    }
    steps.push({ ...own, delayDays, ...(added.length > 0 ? { variants: [own, ...added] } : {}) });
  }
  return { steps };
}

/**
 * The input block a refusal of the steps belongs to, with the step (and variant) named: a zod issue
 * under `steps` (0-based path), or a domain error whose field or message names one (0-based:
 * "steps.1.variants.2.body", "steps[1].body"; 1-based: "body of step 2, variant 3"). Null when it
 * is not about a step.
 */
export function stepErrorBlock(e: unknown, shape: ModalShape): ModalProblem | null {
  if (e instanceof z.ZodError) {
    const issue = e.issues[0];
    if (issue?.path[0] !== 'steps' || typeof issue.path[1] !== 'number') return null;
    const inVariant = issue.path[2] === 'variants';
    const variant = inVariant && typeof issue.path[3] === 'number' ? issue.path[3] : undefined;
    const field = String((inVariant ? issue.path[4] : issue.path[2]) ?? 'body');
    return locate(shape, issue.path[1], variant, field, issue.message);
  }
  if (!isDomainError(e)) return null;
  const field = typeof e.details?.field === 'string' ? e.details.field : e.message;
  const step0 = /\bsteps?[.[](\d+)/i.exec(field);
  const step1 = /\bstep\s+(\d+)/i.exec(field);
  const step = step0 ? Number(step0[1]) : step1 ? Number(step1[1]) - 1 : undefined;
  if (step === undefined) return null;
  const v0 = /\bvariants?[.[](\d+)/i.exec(field);
  const v1 = /\bvariant\s+(\d+)/i.exec(field);
  const variant = v0 ? Number(v0[1]) : v1 ? Number(v1[1]) - 1 : undefined;
  const named = [...field.matchAll(/subject|body|html|delay/gi)].at(-1)?.[0] ?? 'body';
  return locate(shape, step, variant, named.toLowerCase(), e.message);
}

function locate(
  shape: ModalShape,
  step: number,
  variant: number | undefined,
  field: string,
  message: string,
): ModalProblem | null {
  const s = shape.steps[step];
  if (!s) return null;
  const name = `Step ${step + 1}${variant !== undefined ? `, variant ${variant + 1}` : ''}`;
  const text = /\bstep/i.test(message) ? message : `${name}: ${message}`;
  const addedKey = variant !== undefined && variant > 0 ? s.variants[variant - 1] : undefined;
  if (addedKey !== undefined)
    return { block: stepBlock.variant(addedKey, field === 'subject' ? 'subject' : 'body'), message: text };
  if (field === 'subject') return { block: stepBlock.subject(s.key), message: text };
  if (field.startsWith('delay') && s.key !== 0) return { block: stepBlock.delay(s.key), message: text };
  return { block: stepBlock.body(s.key), message: text };
}
