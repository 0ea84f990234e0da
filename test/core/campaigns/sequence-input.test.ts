import { afterEach, describe, expect, it } from 'vitest';
import { parseCampaignInput } from '../../../src/core/campaigns/campaign.js';
import { DomainError } from '../../../src/errors.js';
import { importText, refusal, testClock, testCore } from '../../helpers.js';

const step1 = { subject: 'Hi {{first_name|there}}', body: 'First {{unsubscribe_url}}' };
const sequence = {
  name: 'Intro sequence',
  steps: [
    { ...step1, variants: [{ subject: 'Quick question, {{first_name|there}}' }, { body: 'First, B' }] },
    { body: 'Bumping this up.', delayDays: 2 },
    {
      subject: 'Last one',
      body: 'Closing the loop.',
      html: '<p>Closing <a href="https://acme.example">the loop</a>.</p>',
      delayDays: 3,
      variants: [{ body: 'Closing, A' }, { body: 'Closing, B' }, { subject: 'Should I stop?' }],
    },
  ],
};

/** The message a bad input is refused with (DomainError or ZodError alike). */
function problem(raw: unknown): string {
  try {
    parseCampaignInput(raw);
  } catch (e) {
    if (e instanceof DomainError) return e.message;
    const issues = (e as { issues?: { path: PropertyKey[]; message: string }[] }).issues ?? [];
    return issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
  }
  return 'accepted';
}

describe('the campaign input with steps', () => {
  it('names the step and variant of every problem inside steps, 1-based', () => {
    const s2 = (extra: object) => ({ name: 'x', steps: [step1, { body: 'b', delayDays: 1, ...extra }] });
    expect(problem(s2({ variants: [{ body: 'a' }, { body: 'b' }, { body: '  ' }] }))).toBe(
      'step 2, variant 3: the body is empty',
    );
    expect(problem(s2({ body: '' }))).toBe('step 2: the body is empty');
    expect(problem({ name: 'x', steps: [step1, { delayDays: 1 }] })).toBe('step 2: the body is missing');
    expect(problem(s2({ variants: [{ body: 'a' }] }))).toBe('step 2: give 2 to 5 variants, or none');
    expect(problem(s2({ delayDays: 'two' }))).toBe('step 2: delayDays must be a number of business days');
    expect(problem(s2({ delayDays: 1.5 }))).toBe('step 2: delayDays must be a whole number of business days');
    expect(problem(s2({ delayDays: 61 }))).toBe('step 2: delayDays may be at most 60 business days');
    expect(problem(s2({ subject: 'x'.repeat(251) }))).toBe('step 2: the subject is over 250 characters');
    expect(problem({ name: 'x', steps: [step1, 'follow up'] })).toMatch(/^step 2: a step is an object/);
  });

  it('step 1 needs a subject and no delay; later steps need a delay of 1 or more business days', () => {
    expect(problem({ name: 'x', steps: [{ body: 'b' }] })).toMatch(/^step 1: the subject is missing/);
    expect(problem({ name: 'x', steps: [{ ...step1, delayDays: 2 }] })).toMatch(
      /^step 1: delayDays must be 0 or left out/,
    );
    expect(problem({ name: 'x', steps: [step1, { body: 'b' }] })).toMatch(
      /^step 2: give delayDays of 1 or more: a follow-up goes that many business days after step 1/,
    );
    expect(
      problem({ name: 'x', steps: [step1, { body: 'b', delayDays: 1 }, { body: 'c', delayDays: 0 }] }),
    ).toMatch(/^step 3: give delayDays of 1 or more.*after step 2/);
  });

  it('1 to 5 steps; the top-level subject/body may be left out or must equal step 1', () => {
    const follow = { body: 'again', delayDays: 1 };
    expect(problem({ name: 'x', steps: [] })).toMatch(/^steps: give 1 to 5 steps/);
    expect(problem({ name: 'x', steps: [step1, follow, follow, follow, follow, follow] })).toMatch(
      /^steps: give 1 to 5 steps/,
    );
    expect(problem({ name: 'x', steps: [step1, follow, follow, follow, follow] })).toBe('accepted');
    expect(problem({ name: 'x', ...step1, steps: [step1, follow] })).toBe('accepted');
    expect(problem({ name: 'x', subject: 'Other', steps: [step1, follow] })).toMatch(
      /^subject: subject differs from step 1's/,
    );
    expect(problem({ name: 'x', body: 'Other', steps: [step1] })).toMatch(
      /^body: body differs from step 1's/,
    );
    expect(problem({ name: 'x' })).toMatch(/^subject: give a subject \(or steps/);
  });

  it('a sequence with follow-ups is not a cron drip; one step (even with variants) may be', () => {
    const drip = { cron: '0 9 * * 1-5', dailyLimit: 10 };
    expect(problem({ name: 'x', ...drip, steps: [step1, { body: 'b', delayDays: 1 }] })).toMatch(
      /^cron: A sequence \(steps with follow-ups\) runs from one send time.*give sendAt instead of cron/,
    );
    expect(
      problem({ name: 'x', ...drip, steps: [{ ...step1, variants: [{ body: 'a' }, { body: 'b' }] }] }),
    ).toBe('accepted');
  });
});

let core: ReturnType<typeof testCore> | undefined;
afterEach(() => {
  core?.cleanup();
  core = undefined;
});

async function setup() {
  core = testCore({ clock: testClock() });
  await importText(core.services, 'email,name\nana@x.com,Ana\nbia@x.com,Bia\n');
  return core.services;
}
const rows = () =>
  core!.db.$client.prepare('SELECT subject, body, html, steps FROM campaigns ORDER BY created_at').all() as {
    subject: string;
    body: string;
    html: string | null;
    steps: string | null;
  }[];

describe('CampaignService.create with steps', () => {
  it('saves a 3-step sequence with variants: step 1 in the columns, every step in steps', async () => {
    const s = await setup();
    const c = await s.campaigns.create(sequence, 'UADMIN');
    expect(c).toMatchObject({ subject: step1.subject, body: step1.body, html: null });
    expect(c.steps).toEqual([
      {
        index: 1,
        ...step1,
        delayDays: 0,
        variants: [
          { index: 1, subject: 'Quick question, {{first_name|there}}' },
          { index: 2, body: 'First, B' },
        ],
      },
      { index: 2, body: 'Bumping this up.', delayDays: 2 },
      {
        index: 3,
        subject: 'Last one',
        body: 'Closing the loop.',
        html: '<p>Closing <a href="https://acme.example">the loop</a>.</p>',
        delayDays: 3,
        variants: [
          { index: 1, body: 'Closing, A' },
          { index: 2, body: 'Closing, B' },
          { index: 3, subject: 'Should I stop?' },
        ],
      },
    ]);
    const [row] = rows();
    expect(row).toMatchObject({ subject: step1.subject, body: step1.body, html: null });
    expect(JSON.parse(row!.steps!)).toHaveLength(3);
    expect((await s.campaigns.get(c.id)).steps).toEqual(c.steps);
  });

  it('a one-step campaign keeps steps null in the database and shows one step', async () => {
    const s = await setup();
    const plain = await s.campaigns.create({ name: 'Plain', ...step1, html: '<p>Hi</p>' }, 'UADMIN');
    expect(plain.steps).toEqual([{ index: 1, ...step1, html: '<p>Hi</p>', delayDays: 0 }]);
    const given = await s.campaigns.create({ name: 'One step', steps: [step1] }, 'UADMIN');
    expect(given.steps).toEqual([{ index: 1, ...step1, delayDays: 0 }]);
    expect(rows().map((r) => r.steps)).toEqual([null, null]);
  });

  it('checks the templates and links of every step and variant, naming them, and saves nothing', async () => {
    const s = await setup();
    const badVariant = structuredClone(sequence);
    badVariant.steps[2]!.variants![1] = { body: 'Hi {{firstname}}' };
    const e1 = await refusal(() => s.campaigns.create(badVariant, 'UADMIN'));
    expect(e1.message).toMatch(/Unknown variable \{\{firstname\}\} .* in body of step 3, variant 2\./);
    const badLink = structuredClone(sequence);
    badLink.steps[2]!.html = '<a href="javascript:alert(1)">x</a>';
    const e2 = await refusal(() => s.campaigns.create(badLink, 'UADMIN'));
    expect(e2.message).toMatch(/^The html of step 3 links to "javascript:alert\(1\)"/);
    const badSubject = structuredClone(sequence);
    badSubject.steps[1] = { ...badSubject.steps[1]!, subject: 'Re {{{name}}}' } as (typeof sequence.steps)[1];
    const e3 = await refusal(() => s.campaigns.create(badSubject, 'UADMIN'));
    expect(e3.message).toMatch(/subject of step 2/);
    await expect(
      s.campaigns.create({ ...sequence, cron: '0 9 * * *', dailyLimit: 5 }, 'UADMIN'),
    ).rejects.toThrow(/runs from one send time/);
    expect(rows()).toEqual([]);
  });

  it('a saved sequence cannot be scheduled as a cron drip, only with sendAt', async () => {
    const s = await setup();
    const c = await s.campaigns.create(sequence, 'UADMIN');
    const e = await refusal(() =>
      s.campaigns.schedule(c.id, { cron: '0 9 * * 1-5', dailyLimit: 5 }, 'UADMIN'),
    );
    expect(e.message).toMatch(/runs from one send time/);
    expect((await s.campaigns.get(c.id)).status).toBe('draft');
    const scheduled = await s.campaigns.schedule(c.id, { sendAt: '2030-01-07T09:00:00Z' }, 'UADMIN');
    expect(scheduled).toMatchObject({ status: 'scheduled', cron: null });
  });
});
