import { type ContentWarning, checkContent } from './content-check.js';
import { type SequenceStep, stepText } from './sequence.js';

/**
 * The content check over every message a campaign sends: each step, and each variant where a step
 * has variants (the step's own text is then not sent). With several steps the message starts with
 * "step N: ", with variants "variant M: ". Warnings only: nothing is refused for them.
 */
export function campaignWarnings(steps: readonly SequenceStep[]): ContentWarning[] {
  const all = [...steps];
  const many = all.length > 1;
  return all.flatMap((step, k) => {
    const variants = step.variants?.length ?? 0;
    const texts =
      variants > 0
        ? Array.from({ length: variants }, (_, j) => ({ text: stepText(all, k + 1, j + 1), variant: j + 1 }))
        : [{ text: stepText(all, k + 1, null), variant: null }];
    return texts.flatMap(({ text, variant }) => {
      const where = [many ? `step ${k + 1}` : null, variant ? `variant ${variant}` : null].filter(Boolean);
      const prefix = where.length > 0 ? `${where.join(', ')}: ` : '';
      return checkContent({ subject: text.subject, body: text.body, html: text.html }).map((w) => ({
        code: w.code,
        message: `${prefix}${w.message}`,
      }));
    });
  });
}
