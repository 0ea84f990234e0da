import type { z } from 'zod';
import { DomainError } from '../../errors.js';
import type { CampaignRecord } from './campaign-store.js';
import { campaignSteps, isSequence, type SequenceStep } from './sequence.js';
import { validateTemplate } from './template.js';

/**
 * The sequence rules of a campaign input (PRODUCT.md §8), beside the schema in campaign.ts: `steps`
 * is the whole sequence and the top-level subject/body/html are step 1; every message names the step
 * and variant it is about (1-based), so a person can find it.
 */

/** Why a sequence cannot be a cron drip. */
export const sequenceCronRefusal =
  'A sequence (steps with follow-ups) runs from one send time, continuously, not as a cron drip: give sendAt instead of cron, or keep one step for a drip.';

/** The fields of a campaign input the sequence rules read. */
type StepsInput = {
  subject?: string | undefined;
  body?: string | undefined;
  html?: string | undefined;
  cron?: string | undefined;
  steps?: SequenceStep[] | undefined;
};

/** The campaign input's own checks (superRefine): step 1 from `steps` or the top level, the delays, no cron with follow-ups. */
export function checkSteps(v: StepsInput, ctx: z.RefinementCtx): void {
  const issue = (path: (string | number)[], message: string) =>
    ctx.addIssue({ code: 'custom', path, message });
  if (!v.steps) {
    if (v.subject === undefined) issue(['subject'], 'give a subject (or steps, with step 1 first)');
    if (v.body === undefined) issue(['body'], 'give a body (or steps, with step 1 first)');
    return;
  }
  const [first, ...later] = v.steps;
  if (!first) return; // the schema says steps needs 1 to 5
  for (const f of ['subject', 'body', 'html'] as const) {
    if (v[f] !== undefined && (v[f] || undefined) !== (first[f] || undefined)) {
      issue(
        [f],
        `${f} differs from step 1's (steps[0].${f}): give step 1 once, in steps, or the same text in both`,
      );
    }
  }
  if (first.subject === undefined) {
    issue(
      ['steps', 0, 'subject'],
      'the subject is missing: the first message needs one (a later step without one replies in the thread)',
    );
  }
  if (first.delayDays !== 0) {
    issue(
      ['steps', 0, 'delayDays'],
      'delayDays must be 0 or left out: step 1 goes at the send time, and each later step counts its delay from the one before',
    );
  }
  later.forEach((s, i) => {
    if (s.delayDays < 1) {
      issue(
        ['steps', i + 1, 'delayDays'],
        `give delayDays of 1 or more: a follow-up goes that many business days after step ${i + 1} reached the person`,
      );
    }
  });
  if (later.length > 0 && v.cron !== undefined) issue(['cron'], sequenceCronRefusal);
}

/** Where an input path points inside `steps`, 1-based: "step 2" or "step 2, variant 3"; null outside steps. */
export function stepLabel(path: readonly PropertyKey[]): string | null {
  const [root, step, variants, variant] = path;
  if (root !== 'steps' || typeof step !== 'number') return null;
  const v = variants === 'variants' && typeof variant === 'number' ? `, variant ${variant + 1}` : '';
  return `step ${step + 1}${v}`;
}

/** The steps of a checked campaign input: `steps`, or step 1 from the top-level subject/body/html. */
export function inputSteps(v: StepsInput): SequenceStep[] {
  if (v.steps) return v.steps;
  return [{ subject: v.subject, body: v.body ?? '', ...(v.html ? { html: v.html } : {}), delayDays: 0 }];
}

/**
 * Validates the templates of every step and variant (variables, braces, html links) and returns the
 * columns a campaign is saved with: step 1's text, and the steps as JSON when it is a sequence.
 */
export function stepColumns(steps: SequenceStep[]): {
  subject: string;
  body: string;
  html: string | null;
  steps: string | null;
} {
  const plain = !isSequence(steps);
  steps.forEach((step, k) => {
    const texts: [StepTextFields, string][] = [
      [step, plain ? '' : ` of step ${k + 1}`],
      ...(step.variants ?? []).map((v, j): [StepTextFields, string] => [
        v,
        ` of step ${k + 1}, variant ${j + 1}`,
      ]),
    ];
    for (const [t, where] of texts) {
      if (t.subject !== undefined) validateTemplate(t.subject, `subject${where}`);
      if (t.body !== undefined) validateTemplate(t.body, `body${where}`);
      if (t.html) validateTemplate(t.html, `html${where}`, { html: true });
    }
  });
  const first = steps[0];
  if (!first?.subject)
    throw new DomainError('invalid_input', 'Step 1 needs a subject.', { field: 'subject' });
  return {
    subject: first.subject,
    body: first.body,
    html: first.html ?? null,
    steps: plain ? null : JSON.stringify(steps),
  };
}

type StepTextFields = { subject?: string | undefined; body?: string | undefined; html?: string | undefined };

/** Refuses a cron drip for a campaign with follow-ups (scheduling a saved draft). */
export function assertCronAllowed(row: Pick<CampaignRecord, 'subject' | 'body' | 'html' | 'steps'>): void {
  if (campaignSteps(row).length > 1) {
    throw new DomainError('invalid_input', sequenceCronRefusal, { field: 'cron' });
  }
}
