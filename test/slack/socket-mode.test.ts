import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { type WebSocket, WebSocketServer } from 'ws';
import { startTestApp, waitFor } from '../helpers.js';
import { FakeSlack } from './fake-slack.js';

describe('Slack Socket Mode', () => {
  let slack: FakeSlack;
  let wss: WebSocketServer;
  let stop: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await stop?.();
    for (const c of wss.clients) c.terminate();
    await new Promise<void>((r) => wss.close(() => r()));
    await slack.stop();
  });

  it('opens its connection through the Web API, receives hello and a /batches envelope, and acks it', async () => {
    slack = await new FakeSlack().start();
    wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise<void>((r) => wss.once('listening', () => r()));
    slack.socketUrl = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/link`;
    const received: unknown[] = [];
    const connected = new Promise<WebSocket>((resolve) => {
      wss.on('connection', (socket) => {
        socket.on('message', (data) => received.push(JSON.parse(String(data))));
        socket.send(JSON.stringify({ type: 'hello', num_connections: 1, connection_info: { app_id: 'A1' } }));
        resolve(socket);
      });
    });

    const t = await startTestApp(
      { SLACK_BOT_TOKEN: slack.botToken, SLACK_APP_TOKEN: 'xapp-1-A1-test', SLACK_API_URL: slack.apiUrl },
      { slackRetries: 0 },
    );
    stop = t.stop;
    expect(t.app.slack?.mode).toBe('socket');
    const socket = await connected;
    const open = slack.callsTo('apps.connections.open')[0];
    expect(open?.auth).toBe('Bearer xapp-1-A1-test');

    socket.send(
      JSON.stringify({
        envelope_id: 'env-1',
        type: 'slash_commands',
        accepts_response_payload: true,
        payload: {
          token: 'legacy',
          team_id: 'T1',
          channel_id: 'C1',
          user_id: 'U1',
          command: '/batches',
          text: 'help',
          api_app_id: 'A1',
          response_url: slack.responseUrl('socket'),
          trigger_id: '1.2.3',
        },
      }),
    );
    const ack = (await waitFor(() =>
      received.find((m) => (m as { envelope_id?: string }).envelope_id === 'env-1'),
    )) as { payload: { response_type: string; blocks: unknown[] } };
    expect(ack.payload.response_type).toBe('ephemeral');
    expect(JSON.stringify(ack.payload.blocks)).toContain('/batches activate');

    const health = await (await fetch(`${t.url}/healthz`)).json();
    expect(health).toMatchObject({ slack: 'socket' });
  });
});
