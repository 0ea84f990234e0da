/**
 * Slack with a sequence's figures: a 3-step campaign with variants (its ledger and who waits for a
 * follow-up built in the test database) shows each step's and variant's figures and the next
 * follow-ups in its progress message, in `/campaigns show`, in the App Home (also among
 * "Sequences in progress" once newer campaigns push it out of the latest five), and per variant in
 * the batch report; 5 steps × 5 variants stay within Block Kit's limits. Asserted on what the
 * stand-in Web API received.
 */
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CampaignCounts } from '../../src/core/campaigns/campaign.js';
import type { SequenceStep } from '../../src/core/campaigns/sequence.js';
import { type StepFigures, stepRates } from '../../src/core/campaigns/step-figures.js';
import type { BatchReport, CampaignReach } from '../../src/core/reports/report-service.js';
import { campaignProgressBlocks } from '../../src/slack/blocks/campaigns.js';
import { reportBlocks } from '../../src/slack/blocks/report.js';
import { bytes, startTestApp, tempDir, waitFor } from '../helpers.js';
import {
  campaignSubmission,
  commandBody,
  eventBody,
  FakeSlack,
  signingSecret,
  slackPost,
} from './fake-slack.js';

let slack: FakeSlack;
let url: string;
let stop: () => Promise<void>;
let app: Awaited<ReturnType<typeof startTestApp>>['app'];
let dir: ReturnType<typeof tempDir>;
let batchId: string;
let campaignId: string;

const people = Array.from({ length: 12 }, (_, i) => `p${i}@x.com`);
const day = 86_400_000;

const steps: SequenceStep[] = [
  {
    subject: 'Hi',
    body: 'Hello',
    delayDays: 0,
    variants: [{ subject: 'Hi A' }, { subject: 'Quick question' }],
  },
  { body: 'Following up', delayDays: 2 },
  { subject: 'Last try', body: 'Last one', delayDays: 3, variants: [{ body: 'v1' }, { body: 'v2' }] },
];

/**
 * The ledger of a sequence halfway, paused (so its figures are counted when shown, not the latest
 * count): step 1 to all 12 (variants A/B in turn; p10 bounced, p11 failed; p1 replied and is
 * interested, p3 unsubscribed), step 2 to the 8 others still in it (p4 replied), step 3 to p0 (A)
 * and p2 (B, replied); p5–p9 wait for step 3, the first due in a day.
 */
function buildLedger(now: number) {
  const sql = app.db.$client;
  sql
    .prepare('UPDATE campaigns SET steps = ?, status = ? WHERE id = ?')
    .run(JSON.stringify(steps), 'paused', campaignId);
  const ids = people.map(
    (e) => sql.prepare<[string], { id: number }>('SELECT id FROM contacts WHERE email = ?').get(e)!.id,
  );
  const insert = sql.prepare(
    `INSERT INTO sends (campaign_id, contact_id, email_hash, run, step, variant, status, claimed_at, updated_at,
       replied_at, unsubscribed_at)
     VALUES (?, ?, randomblob(8), 1, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const row = (
    p: number,
    step: number,
    variant: number | null,
    status = 'sent',
    mark?: 'replied' | 'unsub',
  ) =>
    insert.run(
      campaignId,
      ids[p],
      step,
      variant,
      status,
      now,
      now,
      mark === 'replied' ? now : null,
      mark === 'unsub' ? now : null,
    );
  for (let p = 0; p < 12; p++) {
    const status = p === 10 ? 'bounced' : p === 11 ? 'failed' : 'sent';
    row(p, 1, (p % 2) + 1, status, p === 1 ? 'replied' : p === 3 ? 'unsub' : undefined);
  }
  for (const p of [0, 2, 4, 5, 6, 7, 8, 9]) row(p, 2, null, 'sent', p === 4 ? 'replied' : undefined);
  row(0, 3, 1);
  row(2, 3, 2, 'sent', 'replied');
  sql.prepare(`UPDATE contacts SET interest = 'interested' WHERE id = ?`).run(ids[1]);
  const person = sql.prepare(
    `INSERT INTO sequence_people (campaign_id, contact_id, step, next_due_at, stop_reason, updated_at)
     VALUES (?, ?, ?, ?, ?, ?)`,
  );
  for (let p = 0; p < 12; p++) {
    const waiting = p >= 5 && p <= 9;
    const stop = p === 1 || p === 4 ? 'replied' : p === 3 ? 'unsubscribed' : null;
    const step = p === 0 || p === 2 ? 3 : waiting || p === 4 ? 2 : 1;
    person.run(campaignId, ids[p], step, waiting ? now + (p - 4) * day : null, stop, now);
  }
}

beforeEach(async () => {
  slack = await new FakeSlack().start();
  dir = tempDir();
  ({ url, stop, app } = await startTestApp(
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
  ));
  const r = await app.services.imports.importFile({
    source: bytes(`email\n${people.join('\n')}\n`),
    fileName: 'leads.csv',
    origin: 'api',
    actor: 'api',
  });
  if (r.kind !== 'imported') throw new Error('import failed');
  batchId = r.batch.id;
  // Saved from the modal as a draft: its progress message is posted in C1.
  await slackPost(
    url,
    campaignSubmission({
      name: { type: 'plain_text_input', value: 'Seq Q1' },
      subject: { type: 'plain_text_input', value: 'Hi' },
      body: { type: 'plain_text_input', value: 'Hello' },
      when: { type: 'radio_buttons', selected_option: { value: 'draft' } },
      timezone: { type: 'plain_text_input', value: 'UTC' },
    }),
    { type: 'form' },
  );
  await app.slack?.background.idle();
  campaignId = (await app.services.campaigns.list()).campaigns[0]!.id;
  await waitFor(() =>
    slack.callsTo('chat.postMessage').find((p) => JSON.stringify(p.params).includes(campaignId)),
  );
  buildLedger(Date.now());
});
afterEach(async () => {
  await stop();
  await slack.stop();
  dir.cleanup();
});

let seq = 0;
/** Runs a slash command and returns the JSON of the blocks it answered with (through response_url). */
async function command(name: string, text: string, user = 'UADMIN'): Promise<string> {
  const path = `r${++seq}`;
  const res = await slackPost(url, commandBody(text, user, slack.responseUrl(path), name), { type: 'form' });
  expect(res.status).toBe(200);
  const answer = await waitFor(() => slack.responses.find((r) => r.path === `/respond/${path}`));
  return JSON.stringify((answer.body as { blocks?: unknown }).blocks ?? answer.body);
}

/** The lines each view of the sequence shows (as JSON strings contain them). */
const stepLines = [
  '*Step 1*: *10* sent · 1 replied (10.0% of 10) · 1 interested (100.0% of 1) · 1 bounced · 1 unsubscribed · 1 failed',
  '   A “Hi A”: *5* sent · 0 replied (0.0% of 5) · 0 interested (— of 0) · 1 bounced · 0 unsubscribed',
  '   B “Quick question”: *5* sent · 1 replied (20.0% of 5) · 1 interested (100.0% of 1) · 0 bounced · 1 unsubscribed · 1 failed',
  '*Step 2* · 2 days after step 1 (reply in the thread): *8* sent · 1 replied (12.5% of 8) · 0 interested (0.0% of 1) · 0 bounced · 0 unsubscribed',
  '*Step 3* · 3 days after step 2: *2* sent · 1 replied (50.0% of 2) · 0 interested (0.0% of 1)',
  '   A: *1* sent · 0 replied (0.0% of 1)',
  '   B: *1* sent · 1 replied (100.0% of 1)',
  ':hourglass_flowing_sand: next: 5 follow-ups waiting, the first due <!date^',
];
const json = (s: string) => JSON.stringify(s).slice(1, -1);

describe('Slack figures of a sequence', () => {
  it('the progress message and /campaigns show have each step, each variant and the next follow-ups', async () => {
    app.services.events.emit({ type: 'progress', campaignId });
    const updated = await waitFor(() =>
      slack.callsTo('chat.update').find((u) => JSON.stringify(u.params.blocks).includes('*Step 3*')),
    );
    const blocks = JSON.stringify(updated.params.blocks);
    for (const line of stepLines) expect(blocks).toContain(json(line));
    expect(blocks).toContain('All steps (messages): *20/22* sent');
    expect(updated.params.ts).toBe(JSON.parse((await app.services.campaigns.progressRef(campaignId))!).ts);

    const shown = await command('/campaigns', `show ${campaignId}`, 'UOTHER');
    for (const line of stepLines) expect(shown).toContain(json(line));
  });

  it('the App Home shows the steps of the sequence, and lists it among sequences in progress when older', async () => {
    const home = async (id: string) => {
      const before = slack.callsTo('views.publish').length;
      await slackPost(url, eventBody({ type: 'app_home_opened', user: 'UADMIN', tab: 'home' }, id));
      const view = await waitFor(() => slack.callsTo('views.publish')[before]);
      return JSON.stringify((view.params.view as { blocks: unknown }).blocks);
    };
    const summary = 'Steps: 1 ▸ 10 sent, 1 replied · 2 ▸ 8 sent, 1 replied · 3 ▸ 2 sent, 1 replied';
    const first = await home('EvHome1');
    expect(first).toContain(json(summary));
    expect(first).toContain(json(':hourglass_flowing_sand: next: 5 follow-ups waiting'));
    expect(first).not.toContain('Sequences in progress');

    for (let i = 0; i < 5; i++)
      await app.services.campaigns.create({ name: `Newer ${i}`, subject: 's', body: 'b' }, 'UADMIN');
    // Sending again (the figures of a sending campaign may be the latest count: the same here).
    app.db.$client.prepare(`UPDATE campaigns SET status = 'sending' WHERE id = ?`).run(campaignId);
    const later = await home('EvHome2');
    const send = later.slice(later.indexOf(':rocket: Send'));
    expect(send).toContain('Sequences in progress');
    expect(send.slice(send.indexOf('Sequences in progress'))).toContain(json(summary));
    expect(send).toContain('Newer 4');
  });

  it('the batch report shows each variant with the people behind its rates', async () => {
    const res = await slackPost(url, commandBody(`report ${batchId}`, 'U7', slack.responseUrl('rep')), {
      type: 'form',
    });
    expect(res.status).toBe(200);
    await app.slack?.background.idle();
    const post = await waitFor(() =>
      slack.callsTo('chat.postMessage').find((p) => JSON.stringify(p.params.blocks).includes('Report of')),
    );
    const blocks = JSON.stringify(post.params.blocks);
    expect(blocks).toContain('*Variants of Seq Q1*');
    for (const line of [
      '• step 1 · A: 5 sent · 0 replied (0.0% of 5) · 0 interested (— of 0) · 1 bounced · 0 unsubscribed',
      '• step 1 · B: 5 sent · 1 replied (20.0% of 5) · 1 interested (100.0% of 1) · 0 bounced · 1 unsubscribed',
      '• step 3 · A: 1 sent · 0 replied (0.0% of 1)',
      '• step 3 · B: 1 sent · 1 replied (100.0% of 1) · 0 interested (0.0% of 1)',
    ])
      expect(blocks).toContain(json(line));
    // Twelve people were sent something (twenty messages).
    expect(blocks).toContain('20 sent to 10 people');
  });
});

const big = 1_234_567;
const bigCounts = (): CampaignCounts => ({
  total: big * 9,
  pending: big,
  sent: big * 7,
  failed: big,
  bounced: big,
  unsubscribed: big,
  unknown: big,
  replied: big,
  complained: big,
  softBounced: big,
  interested: big,
});
const bigStep = (index: number): StepFigures => ({
  index,
  counts: bigCounts(),
  rates: stepRates(bigCounts()),
  variants: Array.from({ length: 5 }, (_, v) => ({
    index: v + 1,
    counts: bigCounts(),
    rates: stepRates(bigCounts()),
  })),
});

type Block = { type: string; text?: { text: string }; elements?: { text?: string }[] };
function withinLimits(blocks: unknown[]): void {
  expect(blocks.length).toBeLessThanOrEqual(50);
  for (const b of blocks as Block[]) {
    expect(b.text?.text.length ?? 0).toBeLessThanOrEqual(3000);
    for (const e of b.elements ?? []) expect(e.text?.length ?? 0).toBeLessThanOrEqual(3000);
  }
}

describe('Block Kit limits with 5 steps × 5 variants', () => {
  it('the progress message keeps every step and variant within 50 blocks and 3,000 characters a text', async () => {
    const long = 'A subject that is rather long for a variant of a cold e-mail, really';
    const five: SequenceStep[] = Array.from({ length: 5 }, (_, i) => ({
      subject: `Step ${i + 1}`,
      body: 'b',
      delayDays: i === 0 ? 0 : 2,
      variants: Array.from({ length: 5 }, () => ({ subject: long })),
    }));
    app.db.$client
      .prepare('UPDATE campaigns SET steps = ? WHERE id = ?')
      .run(JSON.stringify(five), campaignId);
    const { campaign } = await app.services.progress.get(campaignId);
    const steps = [1, 2, 3, 4, 5].map(bigStep);
    const blocks = campaignProgressBlocks(campaign, bigCounts(), Date.now() + day, {
      steps,
      followUps: { waiting: big, nextDueAt: new Date(Date.now() + day).toISOString() },
      countedAt: Date.now(),
    });
    withinLimits(blocks);
    const all = JSON.stringify(blocks);
    // Nothing was clipped: the last variant of the last step is there whole.
    expect(all).toContain('*Step 5* · 2 days after step 4');
    expect(
      (all.match(/ E “A subject that is rather long for a var…”: \*8,641,969\* sent/g) ?? []).length,
    ).toBe(5);
    expect(all).toContain('next: 1,234,567 follow-ups waiting');
  });

  it('the batch report keeps 15 campaigns with 25 variants each within the limits, pointing to the rest', async () => {
    const report = await app.services.reports.build(batchId);
    const base = report.campaigns[0]!;
    const variants = Array.from({ length: 25 }, (_, i) => ({
      ...base,
      sent: big,
      replied: big,
      step: Math.floor(i / 5) + 1,
      variant: (i % 5) + 1,
    }));
    const campaigns: CampaignReach[] = Array.from({ length: 20 }, (_, i) => ({
      ...base,
      id: `c${i}`,
      name: `A campaign with a long name number ${i} `.repeat(3),
      variants,
    }));
    const blocks = reportBlocks({ ...report, campaigns } satisfies BatchReport);
    withinLimits(blocks);
    const all = JSON.stringify(blocks);
    expect((all.match(/\*Variants of /g) ?? []).length).toBe(5);
    expect(all).toContain(`more: GET /contacts/batches/${batchId}/report`);
  });
});
