/**
 * The campaign modal's sequence buttons, clicked as Slack would: the real app in HTTP mode, the
 * stand-in Web API, signed requests. The buttons are collected from the views the stand-in received
 * (views.open, then each views.update), the typed values travel in `view.state.values` the way Slack
 * sends them, and the saved campaign is read back through the services.
 */
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bytes, startTestApp, tempDir, waitFor } from '../helpers.js';
import {
  commandBody,
  FakeSlack,
  signingSecret,
  slackPost,
  viewActionBody,
  viewSubmission,
} from './fake-slack.js';

type Json = Record<string, unknown>;
type Block = {
  type: string;
  block_id?: string;
  element?: Json;
  elements?: Json[];
  accessory?: Json;
  text?: { text: string };
};
type View = { callback_id: string; private_metadata: string; blocks: Block[] };
type Cell = Json & { type: string };

let slack: FakeSlack;
let url: string;
let stop: () => Promise<void>;
let app: Awaited<ReturnType<typeof startTestApp>>['app'];
let dir: ReturnType<typeof tempDir>;

beforeEach(async () => {
  slack = await new FakeSlack().start();
  dir = tempDir();
  const t = await startTestApp(
    {
      SLACK_BOT_TOKEN: slack.botToken,
      SLACK_SIGNING_SECRET: signingSecret,
      SLACK_API_URL: slack.apiUrl,
      SLACK_ADMIN_USERS: 'UADMIN',
      MAIL_FROM: 'Sales <sales@coldbatch.test>',
      MAIL_POSTAL_ADDRESS: 'Rua Exemplo 1, São Paulo',
      MAIL_OUTBOX_DIR: join(dir.dir, 'outbox'),
    },
    { slackRetries: 0, slackProgressIntervalMs: 0, scheduler: false },
  );
  ({ url, stop, app } = t);
  await app.services.imports.importFile({
    source: bytes('email,name\nana@x.com,Ana\nbia@x.com,Bia\ncai@x.com,Cai\n'),
    fileName: 'leads.csv',
    origin: 'api',
    actor: 'api',
  });
});
afterEach(async () => {
  await stop();
  await slack.stop();
  dir.cleanup();
});

const asView = (raw: unknown): View => (typeof raw === 'string' ? JSON.parse(raw) : raw) as View;
const views = () =>
  slack.calls.filter((c) => c.method === 'views.open' || c.method === 'views.update').map((c) => c.params);

/** `/campaigns new`: the modal as views.open received it. */
async function openModal(): Promise<View> {
  const res = await slackPost(url, commandBody('new', 'UADMIN', slack.responseUrl('c'), '/campaigns'), {
    type: 'form',
  });
  expect(res.status).toBe(200);
  return asView((await waitFor(() => slack.callsTo('views.open')[0])).params.view);
}

/** The buttons of a view (in actions blocks and as section accessories), with their block. */
function buttons(view: View): { block: Block; button: Json }[] {
  return view.blocks.flatMap((block) =>
    [...(block.elements ?? []), ...(block.accessory ? [block.accessory] : [])]
      .filter((e) => e.type === 'button')
      .map((button) => ({ block, button })),
  );
}
const inputs = (view: View) => view.blocks.filter((b) => b.type === 'input');
const inputIds = (view: View) => inputs(view).map((b) => b.block_id!);

/**
 * The state Slack sends with a view: every input block, with what was typed in it, else what the
 * element shows at first (its initial value), else empty.
 */
function stateOf(view: View, typed: Record<string, Cell>): Record<string, Record<string, Json>> {
  const values: Record<string, Record<string, Json>> = {};
  for (const b of inputs(view)) {
    const el = b.element!;
    const shown: Json = { type: el.type };
    if (el.initial_value !== undefined) shown.value = el.initial_value;
    if (el.initial_option !== undefined) shown.selected_option = el.initial_option;
    if (el.initial_options !== undefined) shown.selected_options = el.initial_options;
    if (el.initial_date_time !== undefined) shown.selected_date_time = el.initial_date_time;
    if (el.initial_time !== undefined) shown.selected_time = el.initial_time;
    values[b.block_id!] = { [String(el.action_id)]: typed[b.block_id!] ?? shown };
  }
  return values;
}

/** Clicks a button of the view with what was typed; returns the view the app drew in its place. */
async function click(view: View, typed: Record<string, Cell>, pick: (b: Json, block: Block) => boolean) {
  const found = buttons(view).find(({ button, block }) => pick(button, block));
  expect(found, 'the button is in the view').toBeDefined();
  const { button, block } = found!;
  const before = slack.callsTo('views.update').length;
  const body = viewActionBody(
    { action_id: String(button.action_id), value: String(button.value), block_id: block.block_id },
    'UADMIN',
    { ...view, type: 'modal', id: 'V1', hash: `h${before}`, state: { values: stateOf(view, typed) } },
  );
  const res = await slackPost(url, body, { type: 'form' });
  expect(res.status).toBe(200);
  const update = await waitFor(() => slack.callsTo('views.update')[before]);
  expect(update.params).toMatchObject({ view_id: 'V1', hash: `h${before}` });
  return asView(update.params.view);
}
const byAction = (id: string) => (b: Json) => b.action_id === id;
/** The button of `id` in the block that comes after the input `afterBlock` (a step's own button). */
const below = (view: View, afterBlock: string, id: string) => {
  const from = view.blocks.findIndex((b) => b.block_id === afterBlock);
  return (b: Json, block: Block) => b.action_id === id && view.blocks.indexOf(block) > from;
};

/** Submits the view with what was typed, as Slack sends it. */
async function submit(view: View, typed: Record<string, Cell>) {
  const body = viewSubmission(
    { callbackId: view.callback_id, title: 'New campaign', metadata: JSON.parse(view.private_metadata) },
    stateOf(view, typed),
  );
  const res = await slackPost(url, body, { type: 'form' });
  expect(res.status).toBe(200);
  return res;
}

const txt = (value: string): Cell => ({ type: 'plain_text_input', value });
const num = (value: string): Cell => ({ type: 'number_input', value });
const newIds = (now: View, before: View) => inputIds(now).filter((id) => !inputIds(before).includes(id));
const base: Record<string, Cell> = {
  name: txt('Intro sequence'),
  subject: txt('Quick question, {{first_name|there}}'),
  body: txt('Hello {{name}}, a first note.'),
  when: { type: 'radio_buttons', selected_option: { value: 'draft' } },
};

describe('the campaign modal builds a sequence', () => {
  it('"Add follow-up" and "Add variant" make a 3-step sequence with variants, saved with its delays', async () => {
    const opened = await openModal();
    expect(buttons(opened).map((b) => b.button.action_id)).toEqual(
      expect.arrayContaining(['campaign_add_step', 'campaign_add_variant']),
    );
    const typed: Record<string, Cell> = { ...base };
    const two = await click(opened, typed, byAction('campaign_add_step'));
    const [s2subject, s2body, s2delay] = newIds(two, opened);
    expect([s2subject, s2body, s2delay]).toEqual([
      expect.stringMatching(/subject$/),
      expect.stringMatching(/body$/),
      expect.stringMatching(/delay$/),
    ]);
    const s2 = two.blocks.find((b) => b.block_id === s2subject)!;
    expect(s2).toMatchObject({
      optional: true,
      hint: { text: expect.stringContaining('reply in the thread') },
    });
    expect(two.blocks.find((b) => b.block_id === s2delay)!.element).toMatchObject({
      type: 'number_input',
      initial_value: '3',
    });
    // What was typed before the click is in the new view.
    const initial = (v: View, id: string) => v.blocks.find((b) => b.block_id === id)?.element;
    expect(initial(two, 'name')).toMatchObject({ initial_value: 'Intro sequence' });
    expect(initial(two, 'body')).toMatchObject({ initial_value: 'Hello {{name}}, a first note.' });
    expect(initial(two, 'when')).toMatchObject({ initial_option: { value: 'draft' } });

    Object.assign(typed, {
      [s2body!]: txt('Just bumping this, {{first_name|there}}.'),
      [s2delay!]: num('2'),
    });
    const three = await click(two, typed, byAction('campaign_add_step'));
    const [s3subject, s3body, s3delay] = newIds(three, two);
    expect(initial(three, s2body!)).toMatchObject({
      initial_value: 'Just bumping this, {{first_name|there}}.',
    });
    expect(initial(three, s2delay!)).toMatchObject({ initial_value: '2' });
    Object.assign(typed, {
      [s3subject!]: txt('A different angle'),
      [s3body!]: txt('Last note from me.'),
      [s3delay!]: num('4'),
    });
    // Step 2's variant, then step 1's.
    const v2 = await click(three, typed, below(three, s2delay!, 'campaign_add_variant'));
    const [v2subject, v2body] = newIds(v2, three);
    expect(v2.blocks.find((b) => b.block_id === v2body)).toMatchObject({
      label: { text: 'Step 2 · variant 2 body' },
    });
    Object.assign(typed, { [v2body!]: txt('Bumping this up, {{first_name|there}}?') });
    const v1 = await click(v2, typed, below(v2, 'body', 'campaign_add_variant'));
    const [v1subject] = newIds(v1, v2);
    expect(v1.blocks.find((b) => b.block_id === 'subject')).toMatchObject({
      label: { text: 'Subject (variant 1)' },
    });
    expect(initial(v1, v2body!)).toMatchObject({ initial_value: 'Bumping this up, {{first_name|there}}?' });
    expect(initial(v1, s3subject!)).toMatchObject({ initial_value: 'A different angle' });
    Object.assign(typed, { [v1subject!]: txt('{{company|Your team}} and cold e-mail') });
    expect(v2subject).toBeDefined();

    const res = await submit(v1, typed);
    expect(res.text).toBe('');
    const [saved] = (await app.services.campaigns.list()).campaigns;
    const campaign = await app.services.campaigns.get(saved!.id);
    expect(campaign).toMatchObject({
      name: 'Intro sequence',
      status: 'draft',
      subject: 'Quick question, {{first_name|there}}',
      body: 'Hello {{name}}, a first note.',
    });
    expect(campaign.steps).toEqual([
      {
        index: 1,
        subject: 'Quick question, {{first_name|there}}',
        body: 'Hello {{name}}, a first note.',
        delayDays: 0,
        variants: [
          {
            index: 1,
            subject: 'Quick question, {{first_name|there}}',
            body: 'Hello {{name}}, a first note.',
          },
          { index: 2, subject: '{{company|Your team}} and cold e-mail' },
        ],
      },
      {
        index: 2,
        body: 'Just bumping this, {{first_name|there}}.',
        delayDays: 2,
        variants: [
          { index: 1, body: 'Just bumping this, {{first_name|there}}.' },
          { index: 2, body: 'Bumping this up, {{first_name|there}}?' },
        ],
      },
      { index: 3, subject: 'A different angle', body: 'Last note from me.', delayDays: 4 },
    ]);
  });

  it('Remove drops just that step or variant; the others keep their text and order', async () => {
    const typed: Record<string, Cell> = { ...base };
    let view = await openModal();
    const steps: string[][] = [];
    for (let i = 0; i < 3; i++) {
      const next = await click(view, typed, byAction('campaign_add_step'));
      const ids = newIds(next, view);
      steps.push(ids);
      Object.assign(typed, { [ids[1]!]: txt(`Follow-up ${i + 2}`), [ids[2]!]: num(String(i + 1)) });
      view = next;
    }
    const withVariant = await click(view, typed, below(view, steps[0]![2]!, 'campaign_add_variant'));
    const [, variantBody] = newIds(withVariant, view);
    typed[variantBody!] = txt('A variant dropped later');
    view = withVariant;
    // Remove step 3 (the second follow-up): steps 2 and 4 stay, with what was typed in them.
    const removeStep3 = (b: Json, block: Block) =>
      b.action_id === 'campaign_remove_step' && (block.text?.text ?? '').startsWith('*Step 3');
    const fewer = await click(view, typed, removeStep3);
    expect(inputIds(fewer)).not.toContain(steps[1]![1]);
    expect(fewer.blocks.find((b) => b.block_id === steps[2]![1])).toMatchObject({
      label: { text: 'Step 3 body' },
      element: { initial_value: 'Follow-up 4' },
    });
    // Remove step 2's variant again.
    const noVariant = await click(fewer, typed, byAction('campaign_remove_variant'));
    expect(buttons(noVariant).filter((b) => b.button.action_id === 'campaign_remove_variant')).toEqual([]);
    expect(await submit(noVariant, typed).then((r) => r.text)).toBe('');
    const [saved] = (await app.services.campaigns.list()).campaigns;
    const campaign = await app.services.campaigns.get(saved!.id);
    expect(campaign.steps.map((s) => [s.body, s.delayDays, s.variants?.length ?? 0])).toEqual([
      ['Hello {{name}}, a first note.', 0, 0],
      ['Follow-up 2', 1, 0],
      ['Follow-up 4', 3, 0],
    ]);
  });

  it('5 steps hide "Add follow-up", 5 variants hide "Add variant"; 5 × 5 fits in a modal', async () => {
    const typed: Record<string, Cell> = { ...base };
    let view = await openModal();
    for (let i = 0; i < 4; i++) view = await click(view, typed, byAction('campaign_add_step'));
    expect(buttons(view).some((b) => b.button.action_id === 'campaign_add_step')).toBe(false);
    expect(JSON.stringify(view.blocks)).toContain('5 steps: the most a sequence has.');
    expect(buttons(view).filter((b) => b.button.action_id === 'campaign_remove_step')).toHaveLength(4);
    // Four variants added to every step (5 each with the step's own text).
    for (let k = 0; k < 5; k++)
      for (let i = 0; i < 4; i++) {
        const adds = buttons(view).filter((b) => b.button.action_id === 'campaign_add_variant');
        view = await click(view, typed, (b) => b === adds[0]!.button);
      }
    expect(buttons(view).some((b) => b.button.action_id === 'campaign_add_variant')).toBe(false);
    expect(inputs(view).filter((b) => /^variant_/.test(b.block_id!))).toHaveLength(5 * 4 * 2);
    expect(view.blocks.length).toBeLessThanOrEqual(100);
    expect(views().length).toBe(1 + 4 + 20);
  });

  it('a bad delay, an empty variant and a bad template are shown on their field, naming the step; nothing is saved', async () => {
    const typed: Record<string, Cell> = { ...base };
    const opened = await openModal();
    const two = await click(opened, typed, byAction('campaign_add_step'));
    const [, body2, delay2] = newIds(two, opened);
    Object.assign(typed, { [body2!]: txt('Following up.'), [delay2!]: num('0') });
    expect((await submit(two, typed)).json()).toEqual({
      response_action: 'errors',
      errors: { [delay2!]: 'Step 2: the delay is a whole number of business days from 1 to 60, not 0.' },
    });
    typed[delay2!] = num('2.5');
    expect((await submit(two, typed)).json()).toMatchObject({
      errors: { [delay2!]: expect.stringContaining('not 2.5') },
    });
    typed[delay2!] = num('3');

    const withVariant = await click(two, typed, below(two, delay2!, 'campaign_add_variant'));
    const [vSubject, vBody] = newIds(withVariant, two);
    expect((await submit(withVariant, typed)).json()).toEqual({
      response_action: 'errors',
      errors: {
        [vSubject!]: 'Step 2, variant 2: write its subject, its body or both, or remove the variant.',
      },
    });
    // The service's template check, on the variant's body.
    typed[vBody!] = txt('Hi {{firstname}}');
    const bad = (await submit(withVariant, typed)).json() as { errors: Record<string, string> };
    expect(Object.keys(bad.errors)).toEqual([vBody]);
    expect(bad.errors[vBody!]).toMatch(/\{\{firstname\}\}.*step 2, variant 2/);
    // … and on the follow-up's own body.
    typed[vBody!] = txt('Hi {{first_name}}');
    typed[body2!] = txt('Following {{up}}');
    const badStep = (await submit(withVariant, typed)).json() as { errors: Record<string, string> };
    expect(Object.keys(badStep.errors)).toEqual([body2]);
    expect(badStep.errors[body2!]).toMatch(/\{\{up\}\}.*step 2/);
    // A drip (cron) keeps one step: said on the cron field.
    typed[body2!] = txt('Following up.');
    Object.assign(typed, {
      when: { type: 'radio_buttons', selected_option: { value: 'cron' } },
      cron: txt('0 9 * * 1-5'),
    });
    const drip = (await submit(withVariant, typed)).json() as { errors: Record<string, string> };
    expect(Object.keys(drip.errors)).toEqual(['cron']);
    expect((await app.services.campaigns.list()).campaigns).toEqual([]);
  });

  it('a campaign without added steps is saved exactly as before: one step, no sequence', async () => {
    const opened = await openModal();
    expect(JSON.parse(opened.private_metadata)).toMatchObject({ channelId: 'C1' });
    expect(
      (await submit(opened, { ...base, when: { type: 'radio_buttons', selected_option: { value: 'now' } } }))
        .text,
    ).toBe('');
    const [saved] = (await app.services.campaigns.list()).campaigns;
    expect(saved).toMatchObject({ status: 'scheduled', subject: 'Quick question, {{first_name|there}}' });
    expect((await app.services.campaigns.get(saved!.id)).steps).toEqual([
      {
        index: 1,
        subject: 'Quick question, {{first_name|there}}',
        body: 'Hello {{name}}, a first note.',
        delayDays: 0,
      },
    ]);
    const row = app.db.$client.prepare('SELECT steps FROM campaigns WHERE id = ?').get(saved!.id);
    expect(row).toEqual({ steps: null });
  });
});
