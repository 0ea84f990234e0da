/** `/contacts suppress|unsuppress|suppressed` and a completed campaign's Retry failed / Resend unknown buttons. */
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { importText, startTestApp, tempDir, testClock, waitFor } from '../helpers.js';
import { startSink } from '../smtp-sink.js';
import { actionBody, commandBody, FakeSlack, signingSecret, slackPost } from './fake-slack.js';

type Block = { type: string; elements?: { action_id?: string; value?: string; text?: { text: string } }[] };

let slack: FakeSlack;
let dir: ReturnType<typeof tempDir>;
let sink: Awaited<ReturnType<typeof startSink>>;
let stop: () => Promise<void>;
let url: string;
let app: Awaited<ReturnType<typeof startTestApp>>['app'];
let failing = true;
const clock = testClock(Date.UTC(2026, 0, 14, 12));

beforeEach(async () => {
  failing = true;
  clock.set(Date.UTC(2026, 0, 14, 12));
  slack = await new FakeSlack().start();
  dir = tempDir();
  sink = await startSink({ reject: (to) => (failing && to.startsWith('f') ? 451 : undefined) });
  const t = await startTestApp(
    {
      SLACK_BOT_TOKEN: slack.botToken,
      SLACK_SIGNING_SECRET: signingSecret,
      SLACK_API_URL: slack.apiUrl,
      SLACK_ADMIN_USERS: 'UADMIN',
      DATABASE_PATH: join(dir.dir, 'app.db'),
      MAIL_FROM: 'Sales <sales@coldbatch.test>',
      MAIL_POSTAL_ADDRESS: 'Rua Exemplo 1, São Paulo',
      SMTP_URL: sink.url,
    },
    { slackRetries: 0, slackProgressIntervalMs: 0, scheduler: false, clock },
  );
  ({ url, stop, app } = t);
});
afterEach(async () => {
  await stop();
  await sink.close();
  await slack.stop();
  dir.cleanup();
});

let responses = 0;
async function command(name: 'contacts' | 'campaigns', text: string, user = 'UADMIN') {
  const path = `cmd${responses++}`;
  const body = commandBody(text, user, slack.responseUrl(path), `/${name}`);
  expect((await slackPost(url, body, { type: 'form' })).status).toBe(200);
  const answer = await waitFor(() => slack.responses.find((r) => r.path === `/respond/${path}`));
  return answer.body as { blocks: Block[] };
}
async function click(actionId: string, value: string, user = 'UADMIN') {
  const path = `click${responses++}`;
  const res = await slackPost(
    url,
    actionBody({ action_id: actionId, value }, user, slack.responseUrl(path)),
    {
      type: 'form',
    },
  );
  expect(res.status).toBe(200);
  await app.slack?.background.idle();
  return (await waitFor(() => slack.responses.find((r) => r.path === `/respond/${path}`))).body as {
    blocks: Block[];
    replace_original?: boolean;
  };
}
const buttons = (blocks: Block[]) => blocks.flatMap((b) => b.elements ?? []).filter((e) => e.action_id);

describe('/contacts suppress', () => {
  it('suppresses a domain (admins only), lists and removes rules, explains a bad pattern', async () => {
    await importText(app.services, 'email\nana@acme.com\nbob@sub.acme.com\ncai@notacme.com\n');
    const refused = await command('contacts', 'suppress @acme.com', 'USOMEONE');
    expect(JSON.stringify(refused.blocks)).toContain('Only coldbatch admins may suppress domains');
    expect(await app.services.domainSuppressions.list()).toEqual([]);

    const bad = await command('contacts', 'suppress acme');
    expect(JSON.stringify(bad.blocks)).toContain('is not a domain');
    expect(await app.services.domainSuppressions.list()).toEqual([]);

    const ok = await command('contacts', 'suppress *.ACME.com asked to stop');
    expect(JSON.stringify(ok.blocks)).toContain('2 contacts already held were suppressed');
    expect(await app.services.domainSuppressions.list()).toMatchObject([
      { pattern: '*.acme.com', actor: 'UADMIN', reason: 'asked to stop' },
    ]);
    expect(await app.services.contacts.isSuppressed('bob@sub.acme.com')).toBe(true);
    expect(await app.services.contacts.isSuppressed('cai@notacme.com')).toBe(false);

    const list = await command('contacts', 'suppressed');
    expect(JSON.stringify(list.blocks)).toContain('*.acme.com');
    expect(JSON.stringify(list.blocks)).toContain('asked to stop');

    const notAdmin = await command('contacts', 'unsuppress *.acme.com', 'USOMEONE');
    expect(JSON.stringify(notAdmin.blocks)).toContain('Only coldbatch admins');
    expect(await app.services.domainSuppressions.list()).toHaveLength(1);
    const removed = await command('contacts', 'unsuppress *.acme.com');
    expect(JSON.stringify(removed.blocks)).toContain('no longer suppressed');
    expect(await app.services.domainSuppressions.list()).toEqual([]);
  });
});

describe('campaign retry buttons', () => {
  async function ticks(id: string) {
    for (let i = 0; i < 20 && (await app.services.campaigns.get(id)).status !== 'completed'; i++) {
      await app.services.sending.runDue();
      clock.advance(2 * 3_600_000);
    }
    expect((await app.services.campaigns.get(id)).status).toBe('completed');
  }
  /** A completed campaign: ok and u1 sent, f1 and f2 failed; then u1 made unknown the way a crash does. */
  async function completed() {
    await importText(app.services, 'email\nok@x.com\nf1@x.com\nf2@x.com\nu1@x.com\n');
    const c = await app.services.campaigns.create(
      { name: 'c', subject: 's', body: 'b', sendAt: 'now' },
      'UADMIN',
    );
    await ticks(c.id);
    app.db.$client
      .prepare(
        `UPDATE sends SET status = 'claimed' WHERE contact_id = (SELECT id FROM contacts WHERE email = ?)`,
      )
      .run('u1@x.com');
    expect(await app.services.sending.sweepInterrupted()).toBe(1);
    expect(await app.services.campaigns.counts(c.id)).toMatchObject({ sent: 1, failed: 2, unknown: 1 });
    failing = false;
    return c.id;
  }
  const received = (to: string) => sink.received.filter((m) => m.to === to).length;

  it('Retry failed (N) re-sends the failed ones once (admins only), not the unknown one', async () => {
    const id = await completed();
    const shown = await command('campaigns', `show ${id}`);
    const retry = buttons(shown.blocks).find((b) => b.action_id === 'campaign_retry_failed');
    expect(retry?.text?.text).toBe('Retry failed (2)');

    const refused = await click('campaign_retry_failed', retry!.value!, 'USOMEONE');
    expect(JSON.stringify(refused.blocks)).toContain('Only coldbatch admins');
    expect((await app.services.campaigns.get(id)).status).toBe('completed');

    const done = await click('campaign_retry_failed', retry!.value!);
    expect(done.replace_original).toBe(true);
    expect((await app.services.campaigns.get(id)).status).toBe('sending');
    await ticks(id);
    expect(sink.received.map((m) => m.to).sort()).toEqual(['f1@x.com', 'f2@x.com', 'ok@x.com', 'u1@x.com']);
    expect(await app.services.campaigns.counts(id)).toMatchObject({ sent: 3, failed: 0, unknown: 1 });
    const after = await command('campaigns', `show ${id}`);
    expect(buttons(after.blocks).map((b) => b.action_id)).not.toContain('campaign_retry_failed');
  });

  it('Resend unknown (N)… re-queues only after the second click on Yes, resend', async () => {
    const id = await completed();
    const shown = await command('campaigns', `show ${id}`);
    const ask = buttons(shown.blocks).find((b) => b.action_id === 'campaign_resend_unknown');
    expect(ask?.text?.text).toBe('Resend unknown (1)…');

    const question = await click('campaign_resend_unknown', ask!.value!);
    expect(JSON.stringify(question.blocks)).toContain('may already have this message');
    expect((await app.services.campaigns.get(id)).status).toBe('completed'); // nothing re-queued yet
    const yes = buttons(question.blocks).find((b) => b.action_id === 'campaign_resend_unknown_confirm');
    expect(yes?.text?.text).toBe('Yes, resend');

    expect(
      JSON.stringify((await click('campaign_resend_unknown_confirm', yes!.value!, 'USOMEONE')).blocks),
    ).toContain('Only coldbatch admins');
    const done = await click('campaign_resend_unknown_confirm', yes!.value!);
    expect(JSON.stringify(done.blocks)).toContain('3 recipients re-queued');
    await ticks(id);
    expect(received('u1@x.com')).toBe(2);
    expect(received('ok@x.com')).toBe(1);
    expect(received('f1@x.com')).toBe(1);
    expect(await app.services.campaigns.counts(id)).toMatchObject({ sent: 4, failed: 0, unknown: 0 });
  });
});
