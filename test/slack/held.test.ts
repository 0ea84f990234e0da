/**
 * A campaign the domain doctor holds, in Slack: the New campaign modal's campaign message says why
 * (each failing check with its fix), carries the content check and a "Send anyway" button (with
 * Slack's confirmation); a non-admin's click is refused, an admin's releases it and it is sent;
 * `/campaigns show` ends with its history. Real app in HTTP mode, the stand-in Web API, a real SMTP
 * sink, the doctor resolving through a DNS server on loopback.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type App, buildApp } from '../../src/app.js';
import { zones } from '../core/deliverability/dns-zone.js';
import { FakeDns, type Zone } from '../core/validation/fake-dns.js';
import { bytes, testClock, testConfig, waitFor } from '../helpers.js';
import { startSink } from '../smtp-sink.js';
import {
  type Call,
  campaignSubmission,
  commandBody,
  FakeSlack,
  postedClickBody,
  signingSecret,
  slackPost,
} from './fake-slack.js';

type Button = { type: string; action_id: string; value?: string; text: { text: string }; confirm?: unknown };
type Block = { type: string; elements?: (Button & { text: unknown })[] };

const clock = testClock(Date.UTC(2026, 2, 10, 12));
let dns: FakeDns;
let slack: FakeSlack;
let app: App;
let url: string;
let sink: Awaited<ReturnType<typeof startSink>>;

/** heldco.com with no SPF and no DMARC: two failing checks. */
const bad: Record<string, Zone> = { 'heldco.com': { a: ['203.0.113.80'] } };
/** heldco.com set up (DKIM only warns). */
const good: Record<string, Zone> = {
  'heldco.com': { mx: ['mx.good.test'], txt: ['v=spf1 ip4:127.0.0.1 -all'] },
  '_dmarc.heldco.com': { txt: ['v=DMARC1; p=quarantine'] },
};
let zone = bad;

beforeAll(async () => {
  dns = await new FakeDns((name) => zone[name] ?? zones[name]).start();
});
afterAll(() => dns.stop());
afterEach(async () => {
  zone = bad;
  clock.set(Date.UTC(2026, 2, 10, 12));
  await app.stop();
  await slack.stop();
  await sink.close();
});

async function start() {
  slack = await new FakeSlack().start();
  sink = await startSink();
  const config = testConfig({
    SLACK_BOT_TOKEN: slack.botToken,
    SLACK_SIGNING_SECRET: signingSecret,
    SLACK_API_URL: slack.apiUrl,
    SLACK_ADMIN_USERS: 'UADMIN',
    MAIL_FROM: 'Sales <sales@heldco.com>',
    MAIL_POSTAL_ADDRESS: 'Rua Exemplo 1, São Paulo',
    SMTP_URL: sink.url,
    DNS_SERVERS: dns.address,
  });
  config.campaigns.holdOnDoctor = true;
  app = buildApp(config, { slackRetries: 0, slackProgressIntervalMs: 0, scheduler: false, clock });
  url = `http://127.0.0.1:${(await app.start()).port}`;
  await app.services.imports.importFile({
    source: bytes('email,name\nana@acme.com,Ana\nbia@acme.com,Bia\n'),
    fileName: 'leads.csv',
    origin: 'api',
    actor: 'api',
  });
}

const buttonsOf = (blocks: unknown) =>
  (blocks as Block[]).flatMap((b) => (b.type === 'actions' ? (b.elements ?? []) : []));

let clicks = 0;
/** Clicks a button of the campaign message the app posted, as Slack sends it. */
async function click(posted: Call, button: Button, user: string) {
  const name = `click${++clicks}`;
  const body = postedClickBody(
    {
      channel: String(posted.result?.channel),
      ts: String(posted.result?.ts),
      text: posted.params.text,
      blocks: posted.params.blocks,
    },
    button,
    user,
    slack.responseUrl(name),
  );
  expect((await slackPost(url, body, { type: 'form' })).status).toBe(200);
  return waitFor(() => slack.responses.find((r) => r.path === `/respond/${name}`));
}

describe('a held campaign in Slack', () => {
  it('its message says why with a Send anyway button; a non-admin is refused, an admin releases it', async () => {
    await start();
    await slackPost(
      url,
      campaignSubmission({
        name: { type: 'plain_text_input', value: 'Spring' },
        subject: { type: 'plain_text_input', value: 'LAST CHANCE TO SAVE' },
        body: { type: 'plain_text_input', value: 'Hello {{name}}, a short note.' },
        when: { type: 'radio_buttons', selected_option: { value: 'now' } },
        timezone: { type: 'plain_text_input', value: 'UTC' },
      }),
      { type: 'form' },
    );
    await app.slack?.background.idle();
    const [campaign] = (await app.services.campaigns.list()).campaigns;
    expect(campaign?.status).toBe('held');
    const posted = slack.callsTo('chat.postMessage')[0]!;
    const shown = JSON.stringify(posted.params.blocks);
    expect(shown).toContain('Held by the domain doctor');
    expect(shown).toContain('*SPF* (heldco.com)');
    expect(shown).toContain('*DMARC* (heldco.com)');
    // the content check of what was saved, in the same message
    expect(shown).toContain('Content check:');
    expect(shown).toContain('capital letters');
    const sendAnyway = buttonsOf(posted.params.blocks).find((b) => b.action_id === 'campaign_send_anyway')!;
    expect(sendAnyway.text).toMatchObject({ text: 'Send anyway' });
    expect(sendAnyway.confirm).toBeDefined();
    expect(buttonsOf(posted.params.blocks).map((b) => b.action_id)).not.toContain('campaign_pause');

    await app.services.sending.runDue();
    expect(sink.received).toHaveLength(0);

    const refused = await click(posted, sendAnyway, 'USTRANGER');
    expect(JSON.stringify(refused.body)).toContain('Only coldbatch admins may send a held campaign anyway');
    expect((await app.services.campaigns.get(campaign!.id)).status).toBe('held');

    const ok = await click(posted, sendAnyway, 'UADMIN');
    expect(ok.body.replace_original).toBe(true);
    expect(JSON.stringify(ok.body)).not.toContain('Held by the domain doctor');
    expect((await app.services.campaigns.get(campaign!.id)).status).toBe('scheduled');
    const { history } = await app.services.campaigns.history(campaign!.id);
    expect(history.at(-1)).toMatchObject({ kind: 'sent_anyway', actor: 'UADMIN' });

    await app.services.sending.runDue();
    expect(sink.received).toHaveLength(2);

    // /campaigns show ends with the last lines of its history
    await slackPost(
      url,
      commandBody(`show ${campaign!.id}`, 'UADMIN', slack.responseUrl('show'), '/campaigns'),
      {
        type: 'form',
      },
    );
    const show = await waitFor(() => slack.responses.find((r) => r.path === '/respond/show'));
    const text = JSON.stringify(show.body);
    expect(text).toContain('*History*');
    expect(text).toContain('sent anyway by <@UADMIN>');
    expect(text).toContain('completed by `system`');
  });

  it('held at its first start by the send engine: the campaign message is updated to say why', async () => {
    zone = good;
    await start();
    await slackPost(
      url,
      campaignSubmission({
        name: { type: 'plain_text_input', value: 'Later' },
        subject: { type: 'plain_text_input', value: 'A note' },
        body: { type: 'plain_text_input', value: 'Hello {{name}}, a short note.' },
        when: { type: 'radio_buttons', selected_option: { value: 'at' } },
        send_at: { type: 'datetimepicker', selected_date_time: Math.floor(clock.now() / 1000) + 3600 },
        timezone: { type: 'plain_text_input', value: 'UTC' },
      }),
      { type: 'form' },
    );
    await app.slack?.background.idle();
    const [campaign] = (await app.services.campaigns.list()).campaigns;
    expect(campaign?.status).toBe('scheduled');
    const posted = slack.callsTo('chat.postMessage')[0]!;
    expect(JSON.stringify(posted.params.blocks)).not.toContain('Content check');
    // Not held, but the doctor's warn (no DKIM selector known) is in its message (PRODUCT.md §9)…
    const message = JSON.stringify(posted.params.blocks);
    expect(message).toContain('Domain doctor:');
    expect(message).toContain(':warning: DKIM (heldco.com)');
    // …and in the next New campaign modal, from the doctor's last report (no checks run to open it).
    await slackPost(url, commandBody('new', 'UADMIN', slack.responseUrl('new'), '/campaigns'), {
      type: 'form',
    });
    const modal = JSON.stringify((await waitFor(() => slack.callsTo('views.open')[0])).params.view);
    expect(modal).toContain('Domain doctor:');
    expect(modal).toContain(':warning: DKIM (heldco.com)');

    zone = bad;
    clock.advance(3_600_000);
    await app.services.sending.runDue();
    expect((await app.services.campaigns.get(campaign!.id)).status).toBe('held');
    const update = await waitFor(() =>
      slack
        .callsTo('chat.update')
        .find((c) => JSON.stringify(c.params.blocks).includes('Held by the domain doctor')),
    );
    expect(update.params.ts).toBe(posted.result?.ts);
    expect(buttonsOf(update.params.blocks).map((b) => b.action_id)).toContain('campaign_send_anyway');
    expect(sink.received).toHaveLength(0);
  });
});
