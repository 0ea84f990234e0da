import { createReadStream } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { signedPost, slackSecret } from './users/slack.js';
import { percentile, round, seedContacts } from './util.js';

/** A Web API stand-in that answers ok to everything (the bench measures our acks, not Slack). */
async function fakeSlack(): Promise<{ url: string; close: () => void }> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ ok: true, user_id: 'UBOT', bot_id: 'B1', ts: '1.1', channel: 'C1' }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/`,
    close: () => server.close(),
  };
}

/** `/batches` and a button click, acked while a large import runs in the same process. */
export async function benchSlackAck(dir: string, csv: string, rows: number) {
  const api = await fakeSlack();
  const config = loadConfig({
    DATABASE_PATH: join(dir, 'slack.db'),
    PORT: '0',
    IMPORT_MAX_BYTES: '4GB',
    LOG_LEVEL: 'silent',
    SLACK_BOT_TOKEN: 'xoxb-bench',
    SLACK_SIGNING_SECRET: slackSecret,
    SLACK_API_URL: api.url,
    VALIDATE_ON_IMPORT: 'false', // DNS lookups are not what this measures
  });
  const app = buildApp(config, { scheduler: false });
  seedContacts(app.db.$client, rows, 'batch_0000seed_1', 'old');
  const { port } = await app.start();
  const url = `http://127.0.0.1:${port}`;
  const command = new URLSearchParams({
    command: '/batches',
    text: 'list',
    user_id: 'U1',
    channel_id: 'C1',
    team_id: 'T1',
    response_url: `${api.url}respond`,
    trigger_id: '1',
  }).toString();
  const click = new URLSearchParams({
    payload: JSON.stringify({
      type: 'block_actions',
      user: { id: 'U1' },
      team: { id: 'T1' },
      container: { type: 'message', is_ephemeral: true },
      response_url: `${api.url}respond`,
      trigger_id: '1',
      actions: [
        {
          type: 'button',
          action_id: 'batches_page',
          block_id: 'b',
          value: JSON.stringify({ view: 'list', page: null }),
          action_ts: '1',
        },
      ],
    }),
  }).toString();

  const times: number[] = [];
  let done = false;
  const importing = app.services.imports
    .importFile({ source: createReadStream(csv), fileName: 'import.csv', origin: 'cli', actor: 'bench' })
    .finally(() => {
      done = true;
    });
  while (!done) {
    times.push(await signedPost(url, command), await signedPost(url, click));
    await new Promise((r) => setTimeout(r, 50));
  }
  await importing;
  await app.stop();
  api.close();
  const p99 = round(percentile(times, 99), 1);
  return {
    case: 'slack ack during import (p99)',
    figure: p99,
    unit: 'ms',
    target: '< 500 ms',
    met: p99 < 500 && times.length > 10,
    extra: {
      requests: times.length,
      'max ms': round(Math.max(...times), 1),
      'median ms': round(percentile(times, 50), 1),
    },
  };
}
