/**
 * Slack with what the mailbox found: the campaign's progress message and `/campaigns show` (replies
 * with the reply and interested rates, complaints, soft bounces), the batch report's rates with the
 * counts behind them, `/contacts status` back to active and `/contacts why` (interest, suppression,
 * what the mailbox read). Asserted on what the stand-in Web API received.
 */
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bytes, startTestApp, tempDir, waitFor } from '../helpers.js';
import { campaignSubmission, commandBody, FakeSlack, signingSecret, slackPost } from './fake-slack.js';

let slack: FakeSlack;
let url: string;
let stop: () => Promise<void>;
let app: Awaited<ReturnType<typeof startTestApp>>['app'];
let dir: ReturnType<typeof tempDir>;
let batchId: string;
let campaignId: string;

const people = ['ana', 'bia', 'cai', 'dan', 'eva', 'fay'].map((p) => `${p}@x.com`);

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
  // Saved from the modal: the progress message is posted in C1.
  await slackPost(
    url,
    campaignSubmission({
      name: { type: 'plain_text_input', value: 'Intro Q1' },
      subject: { type: 'plain_text_input', value: 'Hi' },
      body: { type: 'plain_text_input', value: 'Hello' },
      when: { type: 'radio_buttons', selected_option: { value: 'now' } },
      timezone: { type: 'plain_text_input', value: 'UTC' },
    }),
    { type: 'form' },
  );
  await app.slack?.background.idle();
  campaignId = (await app.services.campaigns.list()).campaigns[0]!.id;
  for (let i = 0; i < 10 && (await app.services.campaigns.get(campaignId)).status !== 'completed'; i++)
    await app.services.sending.runDue();
  await app.slack?.background.idle();
});
afterEach(async () => {
  await stop();
  await slack.stop();
  dir.cleanup();
});

/** What the mailbox store writes: 3 replies (2 marked interested), a complaint, a soft bounce. */
async function mailboxFound() {
  const sql = app.db.$client;
  const idOf = (email: string) =>
    sql.prepare<[string], { id: number }>('SELECT id FROM contacts WHERE email = ?').get(email)!.id;
  const mark = (email: string, column: string) =>
    sql.prepare(`UPDATE sends SET ${column} = ? WHERE contact_id = ?`).run(Date.now(), idOf(email));
  for (const p of ['ana@x.com', 'bia@x.com', 'cai@x.com']) {
    mark(p, 'replied_at');
    await app.services.contacts.setStatus(idOf(p), 'replied', 'system');
  }
  sql.prepare("UPDATE contacts SET interest = 'interested' WHERE email IN ('ana@x.com', 'bia@x.com')").run();
  mark('dan@x.com', 'complained_at');
  await app.services.contacts.setStatus(idOf('dan@x.com'), 'complained', 'system', 'spam report');
  mark('eva@x.com', 'soft_bounced_at');
  return idOf;
}

let seq = 0;
/** Runs a slash command and returns the JSON of the blocks it answered with (through response_url). */
async function command(name: string, text: string, user = 'UADMIN'): Promise<string> {
  const path = `r${++seq}`;
  const res = await slackPost(url, commandBody(text, user, slack.responseUrl(path), name), { type: 'form' });
  expect(res.status).toBe(200);
  const answer = await waitFor(() => slack.responses.find((r) => r.path === `/respond/${path}`));
  return JSON.stringify((answer.body as { blocks?: unknown }).blocks ?? answer.body);
}

const inboxLine =
  ':speech_balloon: 3 replies (50.0% of 6 sent) · 2 interested (66.7% of replies) · ' +
  ':rotating_light: 1 complaint · 1 soft bounce';

describe('Slack figures with what the mailbox found', () => {
  it('the progress message and /campaigns show add replies, rates, complaints and soft bounces', async () => {
    const done = await waitFor(() =>
      slack.callsTo('chat.update').find((u) => JSON.stringify(u.params.blocks).includes('*6/6* sent')),
    );
    expect(JSON.stringify(done.params.blocks)).not.toContain('repl');

    await mailboxFound();
    // The mailbox tells the engine's listeners a campaign's figures moved: the message follows.
    app.services.events.emit({ type: 'progress', campaignId });
    const updated = await waitFor(() =>
      slack.callsTo('chat.update').find((u) => JSON.stringify(u.params.blocks).includes('3 replies')),
    );
    const blocks = JSON.stringify(updated.params.blocks);
    expect(blocks).toContain(inboxLine);
    expect(updated.params.ts).toBe(JSON.parse((await app.services.campaigns.progressRef(campaignId))!).ts);

    const shown = await command('/campaigns', `show ${campaignId}`, 'UOTHER');
    expect(shown).toContain('*6/6* sent');
    expect(shown).toContain(inboxLine);
  });

  it('the batch report shows the reply and interested rates with the counts behind them', async () => {
    await mailboxFound();
    const res = await slackPost(url, commandBody(`report ${batchId}`, 'U7', slack.responseUrl('rep')), {
      type: 'form',
    });
    expect(res.status).toBe(200);
    await app.slack?.background.idle();
    const post = await waitFor(() =>
      slack.callsTo('chat.postMessage').find((p) => JSON.stringify(p.params.blocks).includes('Report of')),
    );
    const blocks = JSON.stringify(post.params.blocks);
    expect(blocks).toContain(
      '6 sent · 0 bounced · 0 failed · 0 unknown · 0 unsubscribed · 3 replied · 1 complained · 1 soft-bounced',
    );
    expect(blocks).toContain('reply 50.0% (3/6) · interested 66.7% (2/3)');
    expect(blocks).toContain('· 3 replied · 1 complained');
    expect(String(post.params.text)).toContain('3 replied (50.0%)');
  });

  it('/contacts status sets a replied or complained contact active; a complaint stays suppressed', async () => {
    const idOf = await mailboxFound();
    const refused = await command('/contacts', 'status ana@x.com active', 'UOTHER');
    expect(refused).toContain('Only coldbatch admins may change contact statuses');
    expect((await app.services.contacts.get(idOf('ana@x.com'))).status).toBe('replied');

    const ana = await command(
      '/contacts',
      'status <mailto:ana@x.com|ana@x.com> active called back, wants a demo',
    );
    expect(ana).toContain('`ana@x.com` (contact #');
    expect(ana).toContain('is *active* now, marked *interested*');
    expect(ana).not.toContain('Suppressed');
    expect((await app.services.contacts.history(idOf('ana@x.com'))).at(-1)).toMatchObject({
      from: 'replied',
      to: 'active',
      actor: 'UADMIN',
      reason: 'called back, wants a demo',
    });

    const dan = await command('/contacts', 'status dan@x.com active');
    expect(dan).toContain('is *active* now');
    expect(dan).toContain('Suppressed (*complained*: a spam complaint)');
    expect(dan).toContain('A status change does not lift a suppression');
    expect(await app.services.contacts.isSuppressed('dan@x.com')).toBe(true);

    expect(await command('/contacts', 'status eva@x.com bounced')).toContain('cannot be set here');
  });

  it('/contacts why shows the interest, the suppression and what the mailbox found', async () => {
    await mailboxFound();
    const ana = await command('/contacts', 'why ana@x.com', 'UOTHER');
    expect(ana).toContain('status *replied*, marked *interested*');
    expect(ana).toContain('Not suppressed.');
    expect(ana).toContain(':speech_balloon: replied');
    const dan = await command('/contacts', 'why dan@x.com', 'UOTHER');
    expect(dan).toContain('Suppressed (*complained*: a spam complaint)');
    expect(dan).toContain(':rotating_light: complained');
    const eva = await command('/contacts', 'why eva@x.com', 'UOTHER');
    expect(eva).toContain('soft bounce');
  });
});
