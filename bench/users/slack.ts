/**
 * Slack acks while the big import runs in the same server: a local stand-in for Slack's Web API
 * (SLACK_API_URL; it answers ok to everything), and `/batches list` plus a page button posted to
 * POST /slack/events signed like Slack's (v0:timestamp:body, HMAC-SHA256), each timed until its
 * answer (the ack). The idea of bench/slack.ts, against the real server process.
 */
import { createHmac } from 'node:crypto';
import { once } from 'node:events';
import { createServer } from 'node:http';
import { curlImport } from './imports.js';
import type { Server } from './procs.js';

export const slackSecret = 'bench-signing-secret';

/** A Web API stand-in that answers ok to everything (the bench measures our acks, not Slack). */
export async function fakeSlack(): Promise<{ url: string; close: () => Promise<void> }> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({ ok: true, user_id: 'UBOT', bot_id: 'B1', team_id: 'T1', ts: '1.1', channel: 'C1' }),
      );
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}/api/`,
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

/** Env that turns on Slack in HTTP mode against the stand-in. */
export const slackEnv = (apiUrl: string) => ({
  SLACK_BOT_TOKEN: 'xoxb-bench',
  SLACK_SIGNING_SECRET: slackSecret,
  SLACK_API_URL: apiUrl,
  SLACK_APP_TOKEN: '',
});

/** A request signed like Slack's to the app's /slack/events; the time to its answer (ms). */
export async function signedPost(url: string, body: string): Promise<number> {
  const ts = Math.floor(Date.now() / 1000);
  const sig = `v0=${createHmac('sha256', slackSecret).update(`v0:${ts}:${body}`).digest('hex')}`;
  const t = performance.now();
  const res = await fetch(`${url}/slack/events`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-slack-request-timestamp': String(ts),
      'x-slack-signature': sig,
    },
    body,
  });
  await res.arrayBuffer();
  if (res.status !== 200) throw new Error(`Slack request answered ${res.status}`);
  return performance.now() - t;
}

/** Posts a `/batches list` and a page click every 50 ms while curl imports `csv`; the ack times (ms). */
export async function slackAcksDuringImport(server: Server, apiUrl: string, csv: string) {
  const command = new URLSearchParams({
    command: '/batches',
    text: 'list',
    user_id: 'U1',
    channel_id: 'C1',
    team_id: 'T1',
    response_url: `${apiUrl}respond`,
    trigger_id: '1',
  }).toString();
  const click = new URLSearchParams({
    payload: JSON.stringify({
      type: 'block_actions',
      user: { id: 'U1' },
      team: { id: 'T1' },
      container: { type: 'message', is_ephemeral: true },
      response_url: `${apiUrl}respond`,
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
  const importing = curlImport(server, csv, 'slack-ack').finally(() => {
    done = true;
  });
  // let the upload start before the first request
  await new Promise((r) => setTimeout(r, 200));
  while (!done) {
    times.push(await signedPost(server.url, command), await signedPost(server.url, click));
    await new Promise((r) => setTimeout(r, 50));
  }
  const r = await importing;
  if (r.status !== 201) throw new Error(`import answered ${r.status}`);
  return times;
}
