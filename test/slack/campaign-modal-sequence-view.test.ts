/**
 * The campaign modal's sequence blocks as pure Block Kit: Slack's limits in the worst case (5 steps
 * × 5 variants), what the buttons do to the modal's shape, typed values of every input kind put
 * back, and refusals placed on the field of the step or variant they name.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { DomainError } from '../../src/errors.js';
import { campaignModal, readCampaignModal } from '../../src/slack/views/campaign-modal.js';
import {
  changeShape,
  type ModalShape,
  oneStep,
  stepBlock,
  stepErrorBlock,
} from '../../src/slack/views/campaign-steps.js';
import { readTyped } from '../../src/slack/views/modal-inputs.js';

type Json = Record<string, unknown>;
const ctx = {
  audience: { count: 3, excluded: {}, batch: { id: 'b_1', name: 'leads.csv' } },
  eta: null,
  channelId: 'C1',
};

function grow(steps: number, variantsEach: number): ModalShape {
  let shape = oneStep();
  for (let i = 1; i < steps; i++) shape = changeShape(shape, { kind: 'add_step' });
  for (const s of shape.steps)
    for (let i = 1; i < variantsEach; i++) shape = changeShape(shape, { kind: 'add_variant', step: s.key });
  return shape;
}
const blocksOf = (shape: ModalShape) => campaignModal(ctx, shape).blocks as unknown as Json[];

describe('the campaign modal within Slack limits', () => {
  it('5 steps × 5 variants is 91 blocks (Slack: 100), ids unique, texts within their limits', () => {
    const worst = grow(5, 5);
    expect(worst.steps.map((s) => s.variants.length)).toEqual([4, 4, 4, 4, 4]);
    const blocks = blocksOf(worst);
    expect(blocks).toHaveLength(91);
    expect(blocksOf(oneStep())).toHaveLength(16);
    // Every other shape on the way is smaller.
    for (let s = 1; s <= 5; s++)
      for (let v = 1; v <= 5; v++) expect(blocksOf(grow(s, v)).length).toBeLessThanOrEqual(91);
    const ids = blocks.map((b) => b.block_id).filter(Boolean);
    expect(new Set(ids).size).toBe(ids.length);
    for (const b of blocks) {
      expect(String(b.block_id ?? '').length).toBeLessThanOrEqual(255);
      const label = (b.label as { text?: string } | undefined)?.text ?? '';
      expect(label.length).toBeLessThanOrEqual(2000);
      const els = [...((b.elements as Json[]) ?? []), ...(b.accessory ? [b.accessory as Json] : [])];
      for (const el of els.filter((e) => e.type === 'button'))
        expect((el.text as { text: string }).text.length).toBeLessThanOrEqual(75);
    }
    expect(campaignModal(ctx, worst).private_metadata!.length).toBeLessThanOrEqual(3000);
  });

  it('the buttons change the shape within the limits; step 1 cannot be removed', () => {
    const full = grow(5, 5);
    expect(changeShape(full, { kind: 'add_step' })).toBe(full);
    expect(changeShape(full, { kind: 'add_variant', step: 0 }).steps).toEqual(full.steps);
    expect(changeShape(full, { kind: 'remove_step', step: 0 }).steps).toHaveLength(5);
    const third = full.steps[2]!.key;
    const removed = changeShape(full, { kind: 'remove_step', step: third });
    expect(removed.steps.map((s) => s.key)).toEqual(
      full.steps.filter((s) => s.key !== third).map((s) => s.key),
    );
    // Keys are never reused: a step added after a removal gets new block ids.
    const again = changeShape(removed, { kind: 'add_step' });
    expect(full.steps.flatMap((s) => [s.key, ...s.variants])).not.toContain(again.steps.at(-1)!.key);
  });

  it('typed values of every kind come back as initial values; a cleared field stays cleared', () => {
    const typed = readTyped({
      timezone: { v: { type: 'plain_text_input', value: null } },
      window_days: { v: { type: 'checkboxes', selected_options: [{ value: '1' }, { value: '5' }] } },
      window_start: { v: { type: 'timepicker', selected_time: '09:00' } },
      send_at: { v: { type: 'datetimepicker', selected_date_time: 1_800_000_000 } },
      when: { v: { type: 'radio_buttons', selected_option: { value: 'at' } } },
      daily_limit: { v: { type: 'number_input', value: '40' } },
    });
    const blocks = campaignModal(ctx, oneStep(), typed).blocks as unknown as Json[];
    const el = (id: string) => blocks.find((b) => b.block_id === id)!.element as Json;
    expect(el('timezone').initial_value).toBeUndefined();
    expect(el('window_days').initial_options).toEqual([
      { text: { type: 'plain_text', text: 'Monday' }, value: '1' },
      { text: { type: 'plain_text', text: 'Friday' }, value: '5' },
    ]);
    expect(el('window_start').initial_time).toBe('09:00');
    expect(el('send_at').initial_date_time).toBe(1_800_000_000);
    expect(el('when').initial_option).toEqual({
      text: { type: 'plain_text', text: 'At a date and time' },
      value: 'at',
    });
    expect(el('daily_limit').initial_value).toBe('40');
    // A state that is not Slack's shape redraws the modal as it was first shown.
    expect(campaignModal(ctx, oneStep(), readTyped('nonsense')).blocks).toEqual(campaignModal(ctx).blocks);
  });

  it('a one-step modal reads as before: no steps in the input', () => {
    const cell = (value: string) => ({ v: { type: 'plain_text_input', value } });
    const { input } = readCampaignModal({ name: cell('A'), subject: cell('S'), body: cell('B') });
    expect(input).not.toHaveProperty('steps');
    expect(input).toMatchObject({ name: 'A', subject: 'S', body: 'B' });
  });
});

describe('refusals about a step land on its field', () => {
  const shape = changeShape(changeShape(grow(3, 1), { kind: 'add_variant', step: 2 }), {
    kind: 'add_variant',
    step: 2,
  });
  const [, two, three] = shape.steps;
  it('the service messages (0-based paths and "of step k, variant j") and zod issues', () => {
    const domain = (message: string, field?: string) =>
      new DomainError('invalid_input', message, field ? { field } : undefined);
    expect(
      stepErrorBlock(domain('step 3, variant 3: the body is empty', 'steps.2.variants.2.body'), shape),
    ).toEqual({
      block: stepBlock.variant(three!.variants[1]!, 'body'),
      message: 'step 3, variant 3: the body is empty',
    });
    expect(
      stepErrorBlock(
        domain('Unknown variable {{x}} in subject of step 3, variant 2.', 'subject of step 3, variant 2'),
        shape,
      )?.block,
    ).toBe(stepBlock.variant(three!.variants[0]!, 'subject'));
    // Variant 1 is the step's own text.
    expect(stepErrorBlock(domain('bad', 'body of step 3, variant 1'), shape)).toEqual({
      block: stepBlock.body(three!.key),
      message: 'Step 3, variant 1: bad',
    });
    expect(
      stepErrorBlock(domain('step 2: give delayDays of 1 or more', 'steps.1.delayDays'), shape)?.block,
    ).toBe(stepBlock.delay(two!.key));
    expect(stepErrorBlock(domain('Step 1 needs a subject.', 'subject'), shape)).toBeNull();
    expect(stepErrorBlock(domain('Unknown variable {{x}} in body.', 'body'), shape)).toBeNull();
    const issue = new z.ZodError([
      { code: 'custom', path: ['steps', 1, 'subject'], message: 'too long', input: '' },
    ]);
    expect(stepErrorBlock(issue, shape)).toEqual({
      block: stepBlock.subject(two!.key),
      message: 'Step 2: too long',
    });
    expect(
      stepErrorBlock(new z.ZodError([{ code: 'custom', path: ['cron'], message: 'x', input: '' }]), shape),
    ).toBeNull();
    // A step the modal does not have (a stale form): not placed on a step.
    expect(stepErrorBlock(domain('x', 'steps.4.body'), shape)).toBeNull();
  });
});
