import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { memoryLog, startTestApp, tempDir, uploadCsv, waitFor } from '../helpers.js';
import { eventBody, FakeSlack, sign, slackPost } from '../slack/fake-slack.js';
import { startSink } from '../smtp-sink.js';
import { command } from './slack-kit.js';

/**
 * A whole working session (import, Slack commands and events, failing requests, a campaign sent
 * over SMTP) logged at the most verbose level: the log must hold no secret and no contact list.
 */

const secrets = {
  botToken: 'xoxb-1111111111-2222222222-SeCrEtBoTtOkEn0123',
  signingSecret: 'signing-secret-5f2c9a7e1d3b',
  apiToken: 'api-token-9d8c7b6a5f4e3d2c1b0a',
  unsubscribeSecret: 'unsubscribe-secret-0a1b2c3d4e5f6a7b',
  smtpPassword: 'smtp-pa55w0rd-Xy7Qz',
};

const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop();
});

/** Every form a secret may take in a log line: as is, URL-encoded, base64 (SMTP AUTH), in JSON. */
function spellings(secret: string): string[] {
  return [
    secret,
    encodeURIComponent(secret),
    Buffer.from(secret).toString('base64'),
    Buffer.from(`\0user\0${secret}`).toString('base64'),
    JSON.stringify(secret).slice(1, -1),
  ];
}

async function session(level: string) {
  const log = memoryLog();
  const slack = await new FakeSlack().start();
  slack.botToken = secrets.botToken;
  const sink = await startSink();
  const dir = tempDir();
  stops.push(async () => {
    await sink.close();
    await slack.stop().catch(() => {});
    dir.cleanup();
  });
  const smtpUrl = `smtp://coldbatch:${encodeURIComponent(secrets.smtpPassword)}@127.0.0.1:${sink.port}`;
  const t = await startTestApp(
    {
      LOG_LEVEL: level,
      HOST: '127.0.0.1',
      API_TOKEN: secrets.apiToken,
      SLACK_BOT_TOKEN: secrets.botToken,
      SLACK_SIGNING_SECRET: secrets.signingSecret,
      SLACK_API_URL: slack.apiUrl,
      SMTP_URL: smtpUrl,
      UNSUBSCRIBE_SECRET: secrets.unsubscribeSecret,
      MAIL_FROM: 'Sales <sales@coldbatch.test>',
      MAIL_POSTAL_ADDRESS: 'Rua Exemplo 1, São Paulo',
      DATABASE_PATH: join(dir.dir, 'app.db'),
      BACKUP_DIR: join(dir.dir, 'backups'),
    },
    { logDestination: log.stream, scheduler: false, slackRetries: 0, slackProgressIntervalMs: 0 },
  );
  stops.push(t.stop);
  const { url, app } = t;
  const auth = { authorization: `Bearer ${secrets.apiToken}` };
  const slackSigned = (body: string, type: 'json' | 'form' = 'form') => {
    const ts = Math.floor(Date.now() / 1000);
    return slackPost(url, body, { type, timestamp: ts, signature: sign(body, ts, secrets.signingSecret) });
  };

  // 1. an import of 50 contacts over REST, and one dropped in Slack
  const people = Array.from({ length: 50 }, (_, i) => `person${i}@leads-example.com`);
  const up = await uploadCsv(url, `email,name\n${people.map((p, i) => `${p},Person ${i}`).join('\n')}\n`, {
    headers: auth,
  });
  expect(up.status).toBe(201);
  const batchId = (up.body as { batch: { id: string } }).batch.id;
  slack.files.set('FLOG', {
    id: 'FLOG',
    name: 'more.csv',
    filetype: 'csv',
    user: 'UADMIN',
    content: 'email\nslack-one@leads-example.com\nslack-two@leads-example.com\nbroken-address\n',
    channel: 'C1',
  });
  const ev = {
    type: 'file_shared',
    file_id: 'FLOG',
    user_id: 'UADMIN',
    channel_id: 'C1',
    file: { id: 'FLOG' },
  };
  expect((await slackSigned(eventBody(ev, 'EvLog'), 'json')).status).toBe(200);
  await app.slack?.background.idle();
  await app.services.batches.activate(batchId, 'api');

  // 2. Slack commands that show contacts, and a badly signed one
  expect(
    (await slackSigned(command('/batches', `show ${batchId}`, 'UADMIN', slack.responseUrl('s')))).status,
  ).toBe(200);
  expect((await slackSigned(command('/batches', 'list', 'UADMIN', slack.responseUrl('l')))).status).toBe(200);
  const bad = await slackPost(url, command('/batches', 'list', 'UADMIN', slack.responseUrl('b')), {
    type: 'form',
    signature: 'v0=0000',
  });
  expect(bad.status).toBe(401);

  // 3. failing REST requests: no token, a wrong token, a bad body, a contact status change refused
  expect((await fetch(`${url}/contacts/batches`)).status).toBe(401);
  expect(
    (await fetch(`${url}/contacts/batches`, { headers: { authorization: `Bearer ${secrets.apiToken}x` } }))
      .status,
  ).toBe(401);
  expect(
    (
      await fetch(`${url}/campaigns`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: `{"name": "${secrets.apiToken}`,
      })
    ).status,
  ).toBe(400);

  // 4. a campaign sent over SMTP to everyone in the active batch
  const created = await fetch(`${url}/campaigns`, {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/json' },
    body: JSON.stringify({
      name: 'Intro',
      subject: 'Hi {{first_name|there}}',
      body: 'Hello {{email}}',
      sendAt: 'now',
    }),
  });
  expect(created.status).toBe(201);
  await app.services.sending.runDue();
  await waitFor(() => sink.received.length >= 50);

  // 5. Slack unreachable: a Web API call fails at the network level (the SDK error carries its request)
  slack.failures.set('views.publish', 'invalid_auth');
  await slackSigned(eventBody({ type: 'app_home_opened', user: 'UADMIN', tab: 'home' }, 'EvHome1'), 'json');
  await app.slack?.background.idle();
  await slack.stop();
  await slackSigned(eventBody({ type: 'app_home_opened', user: 'UADMIN', tab: 'home' }, 'EvHome2'), 'json');
  await slackSigned(command('/batches', `export ${batchId}`, 'UADMIN', slack.responseUrl('e')));
  await app.slack?.background.idle();

  // 6. an internal error on a REST route
  app.db.$client.exec('DROP TABLE batch_events');
  expect(
    (await fetch(`${url}/contacts/batches/${batchId}/deactivate`, { method: 'POST', headers: auth })).status,
  ).toBe(500);

  await t.stop();
  stops.splice(stops.indexOf(t.stop), 1);
  return {
    lines: log.lines(),
    text: log
      .lines()
      .map((l) => JSON.stringify(l))
      .join('\n'),
    people,
  };
}

function expectNoSecrets(text: string) {
  for (const [name, secret] of Object.entries(secrets)) {
    for (const s of spellings(secret)) expect(text.includes(s), `${name} (${s}) is in the log`).toBe(false);
  }
}

describe('secrets and contact lists never reach the log', () => {
  it('at the default level (info)', async () => {
    const { text, lines, people } = await session('info');
    expect(lines.length).toBeGreaterThan(10);
    expect(text).toMatch(/request failed|slack/i); // the failures above were logged
    expectNoSecrets(text);
    const addresses = new Set(text.match(/[a-z0-9._+-]+@leads-example\.com/gi) ?? []);
    expect([...addresses].length, [...addresses].join(' ')).toBeLessThanOrEqual(3);
    expect(people.filter((p) => text.includes(p)).length).toBeLessThanOrEqual(3);
  }, 30_000);

  it('at the most verbose level (trace), secrets still never appear and no contact list is dumped', async () => {
    const { text, people } = await session('trace');
    expectNoSecrets(text);
    const leaked = people.filter((p) => text.includes(p));
    expect(
      leaked.length,
      `contact addresses in the trace log: ${leaked.slice(0, 5).join(' ')}`,
    ).toBeLessThanOrEqual(5);
  }, 30_000);
});
