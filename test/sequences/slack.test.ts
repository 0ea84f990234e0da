/**
 * A sequence from Slack (issue 16, PRODUCT.md §8): built in the campaign modal ("Add follow-up",
 * a Mon–Fri window in Berlin), sent by the engine's passes on the settable clock, with the SMTP
 * sink, the IMAP mailbox and the stand-in Web API. The progress message shows each step's figures;
 * a reply's notice says the sequence stopped; "Stop sequence" (collected from what the stand-in
 * received, clicked as Slack sends it) stops a waiting person with reason `stopped`.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir, waitFor } from '../helpers.js';
import { startImapServer } from '../mail/imap-server.js';
import {
  commandBody,
  FakeSlack,
  postedClickBody,
  slackPost,
  viewActionBody,
  viewSubmission,
} from '../slack/fake-slack.js';
import { startSink } from '../smtp-sink.js';
import {
  boot,
  byRecipient,
  importPeople,
  type Json,
  peopleOf,
  type Running,
  reply,
  testClock,
} from './kit.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

type Block = { type: string; block_id?: string; element?: Json; elements?: Json[]; accessory?: Json };
type View = { callback_id: string; private_metadata: string; blocks: Block[] };
type Cell = Json & { type: string };
type Button = { type: string; action_id: string; value?: string; text: { text: string } };

const asView = (raw: unknown): View => (typeof raw === 'string' ? JSON.parse(raw) : raw) as View;
const inputs = (v: View) => v.blocks.filter((b) => b.type === 'input');
const inputIds = (v: View) => inputs(v).map((b) => b.block_id!);
const txt = (value: string): Cell => ({ type: 'plain_text_input', value });
const num = (value: string): Cell => ({ type: 'number_input', value });

/** The state Slack sends with a view: what was typed in each input, else what it shows at first. */
function stateOf(view: View, typed: Record<string, Cell>): Record<string, Record<string, Json>> {
  const values: Record<string, Record<string, Json>> = {};
  for (const b of inputs(view)) {
    const el = b.element!;
    const shown: Json = { type: el.type };
    if (el.initial_value !== undefined) shown.value = el.initial_value;
    if (el.initial_option !== undefined) shown.selected_option = el.initial_option;
    if (el.initial_options !== undefined) shown.selected_options = el.initial_options;
    if (el.initial_time !== undefined) shown.selected_time = el.initial_time;
    values[b.block_id!] = { [String(el.action_id)]: typed[b.block_id!] ?? shown };
  }
  return values;
}

function buttonsOf(blocks: unknown): Button[] {
  return ((blocks as Json[]) ?? []).flatMap((b) =>
    [...((b.elements as Json[] | undefined) ?? []), ...(b.accessory ? [b.accessory as Json] : [])].filter(
      (e) => e.type === 'button',
    ),
  ) as Button[];
}

let clicks = 0;
/** Clicks a button of a message as Slack sends it; the app's answer through response_url. */
async function click(
  t: Running,
  slack: FakeSlack,
  posted: { channel: string; ts: string; text: unknown; blocks: unknown },
  button: Button,
  user = 'UADMIN',
) {
  const name = `seq-click${++clicks}`;
  const res = await slackPost(t.url, postedClickBody(posted, button, user, slack.responseUrl(name)), {
    type: 'form',
  });
  expect(res.status).toBe(200);
  await t.app.slack?.background.idle();
  return (await waitFor(() => slack.responses.find((r) => r.path === `/respond/${name}`))).body;
}

/** A slash command; its answer through response_url. */
async function command(t: Running, slack: FakeSlack, name: string, text: string) {
  const path = `seq-cmd${++clicks}`;
  const res = await slackPost(t.url, commandBody(text, 'UADMIN', slack.responseUrl(path), name), {
    type: 'form',
  });
  expect(res.status).toBe(200);
  return (await waitFor(() => slack.responses.find((r) => r.path === `/respond/${path}`))).body;
}

/** `/campaigns new`, "Add follow-up" twice, the fields typed, submitted: a 3-step sequence sent now. */
async function newSequenceFromModal(t: Running, slack: FakeSlack): Promise<void> {
  const res = await slackPost(t.url, commandBody('new', 'UADMIN', slack.responseUrl('new'), '/campaigns'), {
    type: 'form',
  });
  expect(res.status).toBe(200);
  let view = asView((await waitFor(() => slack.callsTo('views.open')[0])).params.view);
  const typed: Record<string, Cell> = {
    name: txt('Slack sequence'),
    subject: txt('Quick question, {{first_name|there}}'),
    body: txt('step-1 Hi {{first_name|there}}.'),
    when: { type: 'radio_buttons', selected_option: { value: 'now' } },
    window_days: {
      type: 'checkboxes',
      selected_options: [1, 2, 3, 4, 5].map((d) => ({ value: String(d) })),
    },
    window_start: { type: 'timepicker', selected_time: '09:00' },
    window_end: { type: 'timepicker', selected_time: '17:00' },
    timezone: txt('Europe/Berlin'),
  };
  for (const [body, delay] of [
    ['step-2 bumping this.', '2'],
    ['step-3 last one.', '3'],
  ] as const) {
    const add = buttonsOf(view.blocks).find((b) => b.action_id === 'campaign_add_step');
    expect(add, '"Add follow-up" is in the modal').toBeDefined();
    const before = slack.callsTo('views.update').length;
    const body0 = viewActionBody(
      { action_id: add!.action_id, value: String(add!.value), block_id: 'steps' },
      'UADMIN',
      { ...view, type: 'modal', id: 'V1', hash: `h${before}`, state: { values: stateOf(view, typed) } },
    );
    expect((await slackPost(t.url, body0, { type: 'form' })).status).toBe(200);
    const next = asView((await waitFor(() => slack.callsTo('views.update')[before])).params.view);
    const added = inputIds(next).filter((id) => !inputIds(view).includes(id));
    const bodyId = added.find((id) => /body$/.test(id));
    const delayId = added.find((id) => /delay$/.test(id));
    expect(bodyId && delayId, `the new step's inputs: ${added.join(', ')}`).toBeTruthy();
    typed[bodyId!] = txt(body);
    typed[delayId!] = num(delay);
    view = next;
  }
  const submit = viewSubmission(
    { callbackId: view.callback_id, title: 'New campaign', metadata: JSON.parse(view.private_metadata) },
    stateOf(view, typed),
  );
  const answer = await slackPost(t.url, submit, { type: 'form' });
  expect(answer.status).toBe(200);
  expect(answer.text).toBe('');
  await t.app.slack?.background.idle();
}

/** The app with Slack, the mailbox and four people; the sequence built in the modal; its progress message. */
async function setup() {
  const dirs = tempDir();
  cleanups.push(dirs.cleanup);
  const slack = await new FakeSlack().start();
  cleanups.push(() => slack.stop());
  const sink = await startSink();
  cleanups.push(sink.close);
  const imap = await startImapServer();
  cleanups.push(() => imap.kill());
  const clock = testClock(Date.UTC(2026, 2, 10, 9, 0)); // Tuesday 10 March 2026, 10:00 in Berlin
  const t = await boot({ db: join(dirs.dir, 'slack.db'), sink, imap, slack, clock }, cleanups);
  await importPeople(t, ['ana', 'ben', 'cem', 'dora'].map(at));

  await newSequenceFromModal(t, slack);
  const [saved] = (await t.app.services.campaigns.list()).campaigns;
  const id = saved!.id;
  const campaign = await t.app.services.campaigns.get(id);
  expect(campaign.steps.map((s) => s.delayDays)).toEqual([0, 2, 3]);
  expect(campaign.window).toEqual({
    days: [1, 2, 3, 4, 5],
    start: '09:00',
    end: '17:00',
    timezone: 'Europe/Berlin',
  });
  // Its progress message, in the channel the command was used in.
  const progress = await waitFor(() =>
    slack.callsTo('chat.postMessage').find((c) => JSON.stringify(c.params.blocks ?? []).includes(id)),
  );
  expect(progress.params.channel).toBe('C1');
  const progressTs = String(progress.result?.ts);
  /** The progress message as last drawn (the post, then each chat.update of it). */
  const latestProgress = () =>
    slack
      .callsTo('chat.update')
      .filter((u) => u.params.ts === progressTs)
      .map((u) => JSON.stringify(u.params.blocks))
      .at(-1) ?? JSON.stringify(progress.params.blocks);
  return { t, slack, sink, imap, clock, id, latestProgress };
}

const at = (p: string) => `${p}@x.com`;

/**
 * The scheduler's passes for a few more minutes, one a minute: a sending campaign's figures may be
 * drawn up to a minute old (figuresMaxStaleMs), then counted again, so the message catches up.
 */
async function schedulerMinutes(t: Running, clock: { advance(ms: number): void }, minutes: number) {
  for (let i = 0; i < minutes; i++) {
    clock.advance(61_000);
    await t.app.services.sending.runDue();
    await t.app.slack?.background.idle();
  }
}

/** Waits until the progress message matches every pattern; fails showing what it says. */
async function progressShows(latest: () => string, patterns: RegExp[]): Promise<void> {
  await waitFor(() => patterns.every((p) => p.test(latest())), 10_000).catch(() => undefined);
  for (const p of patterns) expect(latest(), `the progress message shows ${p}`).toMatch(p);
}

describe('a sequence in Slack', () => {
  it("the progress message shows each step's figures after each step goes, and the follow-ups waiting", async () => {
    const { t, sink, clock, latestProgress } = await setup();
    await t.app.services.sending.runDue();
    expect(byRecipient(sink.received, 1).size).toBe(4);
    await schedulerMinutes(t, clock, 3);
    await t.app.slack?.background.idle();
    await progressShows(latestProgress, [
      /\*Step 1\*: \*4\* sent/,
      /\*Step 2\*[^"]*: \*0\* sent/,
      /\*Step 3\*[^"]*: \*0\* sent/,
      /next: 4 follow-ups waiting/,
    ]);

    // Thursday: step 2 to all four.
    clock.set(Date.UTC(2026, 2, 12, 9, 0));
    await t.app.services.sending.runDue();
    expect(byRecipient(sink.received, 2).size).toBe(4);
    await schedulerMinutes(t, clock, 3);
    await t.app.slack?.background.idle();
    await progressShows(latestProgress, [
      /\*Step 1\*: \*4\* sent/,
      /\*Step 2\*[^"]*: \*4\* sent/,
      /\*Step 3\*[^"]*: \*0\* sent/,
      /next: 4 follow-ups waiting/,
    ]);
  });

  it('a reply\'s notice says the sequence stopped; "Stop sequence" (in /contacts why) stops a waiting person with reason `stopped`', async () => {
    const { t, slack, sink, imap, clock, id } = await setup();
    await t.app.services.sending.runDue();
    const one = byRecipient(sink.received, 1);
    expect(one.size).toBe(4);

    // ana answers: her notice says her sequence stopped because she replied (no Stop button: it is).
    imap.append(reply(one.get(at('ana'))!, 'Happy to talk — Thursday?'));
    const notice = await waitFor(
      () =>
        slack
          .callsTo('chat.postMessage')
          .find(
            (c) => c.params.channel === 'CREPLIES' && JSON.stringify(c.params.blocks).includes(at('ana')),
          ),
      20_000,
    );
    expect(JSON.stringify(notice.params.blocks)).toContain('stopped (they replied)');
    expect(buttonsOf(notice.params.blocks).map((b) => b.action_id)).not.toContain('sequence_stop');

    // ben is waiting for step 2: "Stop sequence" in /contacts why, clicked by an admin.
    const why = await command(t, slack, '/contacts', `why ${at('ben')}`);
    const stop = buttonsOf(why.blocks).find((b) => b.action_id === 'sequence_stop');
    expect(stop?.text.text).toBe('Stop sequence');
    const answer = await click(
      t,
      slack,
      { channel: 'C1', ts: '1700000000.000100', text: why.text, blocks: why.blocks },
      stop!,
    );
    expect(JSON.stringify(answer.blocks)).toContain('Sequence stopped by <@UADMIN>');
    const stopped = await peopleOf(t, id, 'stopped');
    expect(stopped.map((p) => [p.email, p.stopReason]).sort()).toEqual([
      [at('ana'), 'replied'],
      [at('ben'), 'stopped'],
    ]);

    // Thursday: step 2 goes to cem and dora only.
    clock.set(Date.UTC(2026, 2, 12, 9, 0));
    await t.app.services.sending.runDue();
    expect([...byRecipient(sink.received, 2).keys()].sort()).toEqual([at('cem'), at('dora')]);
  });

  it.todo(
    'the reply notice\'s own "Stop sequence" button: a human reply stops the sequence itself (reason `replied`), so the notice shows the button only when the reply is read before step 1 is recorded (a race); see the report',
  );
});
