import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startTestApp, tempDir, uploadCsv } from '../helpers.js';

let url: string;
let stop: () => Promise<void>;
let dir: ReturnType<typeof tempDir>;

beforeEach(async () => {
  dir = tempDir();
  const t = await startTestApp(
    {
      MAIL_FROM: 'Sales <sales@coldbatch.test>',
      MAIL_POSTAL_ADDRESS: 'Av. Paulista 1000, São Paulo',
      MAIL_OUTBOX_DIR: `${dir.dir}/outbox`,
    },
    { scheduler: false },
  );
  ({ url, stop } = t);
  await uploadCsv(url, 'email,name\nana@x.com,Ana\nbia@x.com,Bia\n');
});
afterEach(async () => {
  await stop();
  dir.cleanup();
});

type Body = {
  campaign?: Record<string, unknown>;
  campaigns?: unknown[];
  error?: { code: string; message: string };
};
const call = async (method: string, path: string, body?: unknown) => {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as Body };
};

const sequence = {
  name: 'Intro sequence',
  sendAt: '2030-01-07T09:00:00Z',
  window: { days: [1, 2, 3, 4, 5], start: '09:00', end: '17:00', timezone: 'Europe/Berlin' },
  steps: [
    {
      subject: 'Quick question, {{first_name|there}}',
      body: 'Hi {{first_name|there}}, … {{unsubscribe_url}}',
      variants: [{ subject: 'An idea for {{company|your team}}' }, { body: 'Hello {{first_name|there}}, …' }],
    },
    { body: 'Bumping this up in case it got buried.', delayDays: 3 },
    { subject: 'Should I close your file?', body: 'Last note from me.', delayDays: 4 },
  ],
};

describe('POST /campaigns with steps', () => {
  it('saves a 3-step sequence with variants and returns every step, from POST and GET', async () => {
    const created = await call('POST', '/campaigns', sequence);
    expect(created.status).toBe(201);
    const c = created.body.campaign!;
    expect(c).toMatchObject({
      status: 'scheduled',
      subject: sequence.steps[0]!.subject,
      body: sequence.steps[0]!.body,
      html: null,
    });
    const steps = [
      {
        index: 1,
        subject: sequence.steps[0]!.subject,
        delayDays: 0,
        variants: [
          { index: 1, subject: 'An idea for {{company|your team}}' },
          { index: 2, body: 'Hello {{first_name|there}}, …' },
        ],
      },
      { index: 2, body: 'Bumping this up in case it got buried.', delayDays: 3 },
      { index: 3, subject: 'Should I close your file?', body: 'Last note from me.', delayDays: 4 },
    ];
    expect(c.steps).toMatchObject(steps);
    expect((c.steps as Record<string, unknown>[])[1]).not.toHaveProperty('subject'); // a reply in the thread
    const got = await call('GET', `/campaigns/${String(c.id)}`);
    expect(got.body.campaign!.steps).toMatchObject(steps);
    const listed = await call('GET', '/campaigns');
    expect(listed.body.campaigns).toMatchObject([{ id: c.id, steps }]);
  });

  it('a campaign without steps shows one step; the same top-level subject and body are accepted', async () => {
    const plain = await call('POST', '/campaigns', { name: 'Plain', subject: 'Hi', body: 'Hello' });
    expect(plain.body.campaign!.steps).toMatchObject([
      { index: 1, subject: 'Hi', body: 'Hello', delayDays: 0 },
    ]);
    const both = await call('POST', '/campaigns', { ...sequence, subject: sequence.steps[0]!.subject });
    expect(both.status).toBe(201);
  });

  it('every bad input is a 400 that says what is wrong, and saves nothing', async () => {
    const s = sequence.steps;
    const cases: [unknown, RegExp][] = [
      [{ ...sequence, steps: [s[0], { body: 'x' }] }, /^step 2: give delayDays of 1 or more/],
      [
        { ...sequence, steps: [s[0], { ...s[1], variants: [{ body: 'a' }, { body: 'b' }, { body: '' }] }] },
        /^step 2, variant 3: the body is empty$/,
      ],
      [{ ...sequence, steps: [{ ...s[0], subject: undefined }, s[1]] }, /^step 1: the subject is missing/],
      [{ ...sequence, steps: [{ ...s[0], delayDays: 1 }] }, /^step 1: delayDays must be 0 or left out/],
      [{ ...sequence, steps: [...s, s[1], s[1], s[1]] }, /^steps: give 1 to 5 steps/],
      [{ ...sequence, steps: [] }, /^steps: give 1 to 5 steps/],
      [{ ...sequence, steps: 'three' }, /^steps: steps must be a list/],
      [{ ...sequence, subject: 'Something else' }, /^subject: subject differs from step 1's/],
      [
        { ...sequence, sendAt: undefined, cron: '0 9 * * 1-5', dailyLimit: 50 },
        /^cron: A sequence .* not as a cron drip/,
      ],
      [
        { ...sequence, steps: [s[0], { ...s[1], body: 'Hi {{frist_name}}' }] },
        /Unknown variable \{\{frist_name\}\}.* in body of step 2\./,
      ],
      [
        {
          ...sequence,
          steps: [s[0], s[1], { ...s[2], variants: [{ html: '<a href="javascript:x()">x</a>' }, {}] }],
        },
        /^The html of step 3, variant 1 links to "javascript:x\(\)"/,
      ],
    ];
    for (const [body, message] of cases) {
      const r = await call('POST', '/campaigns', body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.error).toMatchObject({ code: 'invalid_input', message: expect.stringMatching(message) });
    }
    expect((await call('GET', '/campaigns')).body.campaigns).toEqual([]);
  });

  it('a sequence draft cannot be scheduled as a cron drip (400), and nothing changes', async () => {
    const { sendAt: _, ...draft } = sequence;
    const c = (await call('POST', '/campaigns', draft)).body.campaign!;
    const r = await call('POST', `/campaigns/${String(c.id)}/schedule`, {
      cron: '0 9 * * 1-5',
      dailyLimit: 50,
    });
    expect(r.status).toBe(400);
    expect(r.body.error!.message).toMatch(/runs from one send time/);
    expect((await call('GET', `/campaigns/${String(c.id)}`)).body.campaign).toMatchObject({
      status: 'draft',
      cron: null,
    });
  });
});
