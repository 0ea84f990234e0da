import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  campaignSteps,
  isSequence,
  type SequenceStep,
  stepText,
  variantFor,
} from '../../../src/core/campaigns/sequence.js';

describe('variantFor', () => {
  it('splits 1,000 consecutive contact ids evenly (±1) over 2–5 variants, for any campaign and start', () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^cmp_[0-9a-f]{8}$/),
        fc.integer({ min: 1, max: 5_000_000 }),
        fc.integer({ min: 2, max: 5 }),
        (campaignId, firstId, n) => {
          const tally = new Array<number>(n).fill(0);
          for (let id = firstId; id < firstId + 1000; id++) {
            const v = variantFor(campaignId, id, n);
            if (v === null || v < 1 || v > n) throw new Error(`variant ${v} of ${n}`);
            tally[v - 1]! += 1;
          }
          expect(Math.max(...tally) - Math.min(...tally)).toBeLessThanOrEqual(1);
          expect(tally.reduce((a, b) => a + b, 0)).toBe(1000);
        },
      ),
      { numRuns: 100 },
    );
  });

  it('is deterministic: the same person gets the same variant at every call', () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^cmp_[0-9a-f]{8}$/),
        fc.integer({ min: 1, max: 2 ** 31 }),
        fc.integer({ min: 2, max: 5 }),
        (campaignId, contactId, n) => {
          expect(variantFor(campaignId, contactId, n)).toBe(variantFor(campaignId, contactId, n));
        },
      ),
    );
    expect(variantFor('cmp_0000abcd', 42, 3)).toBe(variantFor('cmp_0000abcd', 42, 3));
  });

  it('differs between campaigns (a campaign picks where people start), and is null without variants', () => {
    const firsts = new Set(
      Array.from({ length: 40 }, (_, i) => variantFor(`cmp_${String(i).padStart(8, '0')}`, 1, 5)),
    );
    expect(firsts.size).toBeGreaterThan(1);
    expect(variantFor('cmp_0000abcd', 7, 1)).toBeNull();
    expect(variantFor('cmp_0000abcd', 7, 0)).toBeNull();
  });
});

const steps: SequenceStep[] = [
  {
    subject: 'Hello {{first_name|there}}',
    body: 'Step 1',
    html: '<p>Step 1</p>',
    delayDays: 0,
    variants: [{ subject: 'Quick question' }, { body: 'Step 1 B' }],
  },
  { body: 'Step 2', delayDays: 2 },
  {
    subject: 'Another idea',
    body: 'Step 3',
    delayDays: 3,
    variants: [{ body: 'Step 3 A' }, { subject: 'Alt', html: '<p>Step 3 B</p>' }],
  },
];

describe('stepText', () => {
  it('a variant’s missing fields fall back to the step’s', () => {
    expect(stepText(steps, 1, 1)).toEqual({
      subject: 'Quick question',
      body: 'Step 1',
      html: '<p>Step 1</p>',
      followUp: false,
    });
    expect(stepText(steps, 1, 2)).toEqual({
      subject: 'Hello {{first_name|there}}',
      body: 'Step 1 B',
      html: '<p>Step 1</p>',
      followUp: false,
    });
    expect(stepText(steps, 3, 1, 1)).toEqual({
      subject: 'Another idea',
      body: 'Step 3 A',
      html: null,
      followUp: true,
    });
    expect(stepText(steps, 3, 2, 1)).toEqual({
      subject: 'Alt',
      body: 'Step 3',
      html: '<p>Step 3 B</p>',
      followUp: true,
    });
  });

  it('a follow-up without a subject replies to the step-1 subject the person got', () => {
    expect(stepText(steps, 2, null, 1).subject).toBe('Re: Quick question');
    expect(stepText(steps, 2, null, 2).subject).toBe('Re: Hello {{first_name|there}}'); // variant 2 kept step 1's subject
    expect(stepText(steps, 2, null, null).subject).toBe('Re: Hello {{first_name|there}}');
    expect(stepText(steps, 2, null, 1)).toMatchObject({ body: 'Step 2', html: null, followUp: true });
  });

  it('a step that does not exist is an error', () => {
    expect(() => stepText(steps, 4, null)).toThrow(/no step 4/);
  });
});

describe('campaignSteps and isSequence', () => {
  it('a campaign without steps JSON is one step from its columns; with it, the stored steps', () => {
    const one = campaignSteps({ subject: 'S', body: 'B', html: null, steps: null });
    expect(one).toEqual([{ subject: 'S', body: 'B', delayDays: 0 }]);
    expect(isSequence(one)).toBe(false);
    const stored = campaignSteps({ subject: 'x', body: 'x', html: null, steps: JSON.stringify(steps) });
    expect(stored).toEqual(steps);
    expect(isSequence(stored)).toBe(true);
    expect(isSequence([{ body: 'B', delayDays: 0, variants: [{ body: 'a' }, { body: 'b' }] }])).toBe(true);
  });
});
