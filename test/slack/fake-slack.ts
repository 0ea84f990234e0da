import { createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Call = {
  method: string;
  params: Record<string, unknown>;
  auth: string | undefined;
  /** What the stand-in answered (e.g. the ts of a posted message). */
  result?: Record<string, unknown>;
};
export type SlackFile = {
  id: string;
  name: string;
  filetype: string;
  mimetype?: string;
  user: string;
  content: string | Buffer;
  /** Send `content`, then keep the download open without ending it (a stalled transfer). */
  stall?: boolean;
  /** Served instead of the content (e.g. Slack's login page when a scope is missing). */
  contentType?: string;
  channel?: string;
  ts?: string;
};

/**
 * A Web API fault: 429 with a Retry-After header (seconds), an HTTP 500, `hang` (the request is
 * read and never answered), or a normal answer after `delayMs`.
 */
export type SlackFault = { status: 429; retryAfter: number } | { status: 500 } | 'hang' | { delayMs: number };

type Answer = {
  status: number;
  body: unknown;
  type?: string;
  headers?: Record<string, string>;
  /** Leave the response open after the body (a stalled download). */
  hold?: boolean;
};

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of req) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

function parseParams(body: Buffer, type: string | undefined): Record<string, unknown> {
  const text = body.toString('utf8');
  if (!text) return {};
  if (type?.includes('json')) return JSON.parse(text) as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [k, v] of new URLSearchParams(text)) {
    out[k] = /^[[{]/.test(v) ? safeJson(v) : v;
  }
  return out;
}

function safeJson(v: string): unknown {
  try {
    return JSON.parse(v);
  } catch {
    return v;
  }
}

/**
 * A stand-in for the Slack Web API on loopback: records every call, serves files.info and the
 * file bytes (only with the bot token), and records posts to response_url.
 */
export class FakeSlack {
  readonly calls: Call[] = [];
  readonly responses: { path: string; body: Record<string, unknown> }[] = [];
  readonly uploads: { path: string; bytes: Buffer }[] = [];
  readonly files = new Map<string, SlackFile>();
  /** The file ids downloaded (url_private_download), in order. */
  readonly downloads: string[] = [];
  /** Methods that answer with an error, e.g. `{ 'chat.postMessage': 'channel_not_found' }`. */
  readonly failures = new Map<string, string>();
  /** An error answer chosen per call (e.g. `not_in_channel` for one channel only); undefined: answer normally. */
  refuse: (call: Call) => string | undefined = () => undefined;
  private server!: Server;
  private ts = 1_700_000_000;
  url = '';
  botToken = 'xoxb-test-token';
  /** What apps.connections.open hands out (Socket Mode). */
  socketUrl = '';
  /** Calls answered with an injected fault: Slack did nothing for them, so they are not in `calls`. */
  readonly faulted: Call[] = [];
  private readonly faults = new Map<string, SlackFault[]>();

  /**
   * Answers the next `times` calls of a Web API method (or `response_url`, every POST to a
   * response URL) with a fault instead of doing anything; later calls are answered normally.
   */
  inject(method: string, fault: SlackFault, times = 1): this {
    this.faults.set(method, [
      ...(this.faults.get(method) ?? []),
      ...Array.from({ length: times }, () => fault),
    ]);
    return this;
  }

  /** The calls of a method that got a fault. */
  faultedCalls(method: string): Call[] {
    return this.faulted.filter((c) => c.method === method);
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      this.handle(req).then(
        ({ status, body, type, headers, hold }) => {
          res.writeHead(status, { 'content-type': type ?? 'application/json', ...headers });
          const bytes = typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
          if (hold) res.write(bytes);
          else res.end(bytes);
        },
        (e: unknown) => {
          res.writeHead(500);
          res.end(String(e));
        },
      );
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  get apiUrl(): string {
    return `${this.url}/api/`;
  }

  responseUrl(name = 'r'): string {
    return `${this.url}/respond/${name}`;
  }

  callsTo(method: string): Call[] {
    return this.calls.filter((c) => c.method === method);
  }

  private nextTs(): string {
    this.ts += 1;
    return `${this.ts}.000100`;
  }

  /** The injected fault for this call, if any (recorded in `faulted`). */
  private takeFault(call: Call): Promise<Answer> | null {
    const fault = this.faults.get(call.method)?.shift();
    if (!fault) return null;
    this.faulted.push(call);
    if (fault === 'hang') return new Promise<Answer>(() => {});
    if ('delayMs' in fault)
      return new Promise<Answer>((resolve) =>
        setTimeout(() => {
          // Answered normally, late: only now is it a call Slack answered.
          call.result = this.answer(call.method, call.params);
          this.calls.push(call);
          resolve({ status: 200, body: call.result });
        }, fault.delayMs),
      );
    if (fault.status === 429)
      return Promise.resolve({
        status: 429,
        body: { ok: false, error: 'ratelimited' },
        headers: { 'retry-after': String(fault.retryAfter) },
      });
    return Promise.resolve({ status: 500, body: 'Internal Server Error', type: 'text/plain' });
  }

  private async handle(req: IncomingMessage): Promise<Answer> {
    const url = new URL(req.url ?? '/', this.url);
    const body = await readBody(req);
    if (url.pathname.startsWith('/respond/')) {
      const fault = this.takeFault({
        method: 'response_url',
        params: { path: url.pathname, ...(JSON.parse(body.toString('utf8')) as Record<string, unknown>) },
        auth: req.headers.authorization,
      });
      if (fault) return fault;
      this.responses.push({
        path: url.pathname,
        body: JSON.parse(body.toString('utf8')) as Record<string, unknown>,
      });
      return { status: 200, body: 'ok', type: 'text/plain' };
    }
    if (url.pathname.startsWith('/upload/')) {
      this.uploads.push({ path: url.pathname, bytes: body });
      return { status: 200, body: 'OK', type: 'text/plain' };
    }
    if (url.pathname.startsWith('/files/')) {
      const file = this.files.get(url.pathname.slice('/files/'.length));
      if (!file || req.headers.authorization !== `Bearer ${this.botToken}`)
        return { status: 404, body: 'no' };
      this.downloads.push(file.id);
      return { status: 200, body: file.content, type: file.contentType ?? 'text/csv', hold: file.stall };
    }
    const method = url.pathname.replace(/^\/api\//, '');
    const params = parseParams(body, req.headers['content-type']);
    const fault = this.takeFault({ method, params, auth: req.headers.authorization });
    if (fault) return fault;
    const call: Call = { method, params, auth: req.headers.authorization };
    this.calls.push(call);
    const failure = this.failures.get(method) ?? this.refuse(call);
    if (failure) return { status: 200, body: { ok: false, error: failure } };
    call.result = this.answer(method, params);
    return { status: 200, body: call.result };
  }

  private answer(method: string, params: Record<string, unknown>): Record<string, unknown> {
    switch (method) {
      case 'auth.test':
        return { ok: true, user_id: 'UBOT', bot_id: 'BBOT', team_id: 'T1', user: 'coldbatch' };
      case 'files.info': {
        const f = this.files.get(String(params.file));
        if (!f) return { ok: false, error: 'file_not_found' };
        const content = Buffer.from(f.content);
        return {
          ok: true,
          file: {
            id: f.id,
            name: f.name,
            filetype: f.filetype,
            mimetype: f.mimetype ?? 'text/csv',
            size: content.length,
            user: f.user,
            url_private_download: `${this.url}/files/${f.id}`,
            shares: f.channel ? { public: { [f.channel]: [{ ts: f.ts ?? '1700000000.000001' }] } } : {},
          },
        };
      }
      case 'chat.postMessage':
        return { ok: true, channel: params.channel, ts: this.nextTs() };
      case 'chat.update':
        return { ok: true, channel: params.channel, ts: params.ts };
      case 'chat.postEphemeral':
        return { ok: true, message_ts: this.nextTs() };
      case 'apps.connections.open':
        return { ok: true, url: this.socketUrl };
      case 'conversations.open':
        return { ok: true, channel: { id: 'DUSER1' } };
      case 'files.getUploadURLExternal':
        return { ok: true, upload_url: `${this.url}/upload/FUP1`, file_id: 'FUP1' };
      case 'files.completeUploadExternal':
        return { ok: true, files: [{ id: 'FUP1', title: 'export' }] };
      default:
        return { ok: true };
    }
  }
}

export const signingSecret = 'test-signing-secret-123';

/** Signs a body like Slack: `v0=` HMAC-SHA256 of `v0:timestamp:body`. */
export function sign(body: string, timestamp: number, secret = signingSecret): string {
  return `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
}

/** POSTs to the app's /slack/events as Slack would. */
export async function slackPost(
  appUrl: string,
  body: string,
  opts: {
    type?: 'json' | 'form';
    timestamp?: number;
    signature?: string | null;
    headers?: Record<string, string>;
  } = {},
): Promise<{ status: number; text: string; json: () => unknown }> {
  const ts = opts.timestamp ?? Math.floor(Date.now() / 1000);
  const headers: Record<string, string> = {
    'content-type': opts.type === 'form' ? 'application/x-www-form-urlencoded' : 'application/json',
    'x-slack-request-timestamp': String(ts),
    ...opts.headers,
  };
  if (opts.signature !== null) headers['x-slack-signature'] = opts.signature ?? sign(body, ts);
  const res = await fetch(`${appUrl}/slack/events`, { method: 'POST', headers, body });
  const text = await res.text();
  return { status: res.status, text, json: () => JSON.parse(text) };
}

export function eventBody(event: Record<string, unknown>, eventId: string): string {
  return JSON.stringify({
    token: 'legacy',
    team_id: 'T1',
    api_app_id: 'A1',
    type: 'event_callback',
    event_id: eventId,
    event_time: Math.floor(Date.now() / 1000),
    event,
  });
}

/** A slash command as Slack sends it (form-encoded), `/batches` unless another is named. */
export function commandBody(text: string, user: string, responseUrl: string, command = '/batches'): string {
  return new URLSearchParams({
    token: 'legacy',
    team_id: 'T1',
    team_domain: 'acme',
    channel_id: 'C1',
    channel_name: 'leads',
    user_id: user,
    user_name: 'someone',
    command,
    text,
    api_app_id: 'A1',
    response_url: responseUrl,
    trigger_id: '123.456.abc',
  }).toString();
}

export function actionBody(
  action: { action_id: string; value: string; block_id?: string },
  user: string,
  responseUrl: string,
  container: Record<string, unknown> = { type: 'message', is_ephemeral: true },
): string {
  const payload = {
    type: 'block_actions',
    user: { id: user, username: 'someone', team_id: 'T1' },
    api_app_id: 'A1',
    token: 'legacy',
    container,
    trigger_id: '123.456.def',
    team: { id: 'T1', domain: 'acme' },
    channel: { id: 'C1', name: 'leads' },
    response_url: responseUrl,
    actions: [{ type: 'button', block_id: action.block_id ?? 'b1', action_ts: '1700000000.1', ...action }],
  };
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}

/**
 * A click on a button of a message the app posted (as the stand-in Web API received it), as
 * Slack sends it: the message with its blocks, a response_url, the button as it was.
 */
export function postedClickBody(
  posted: { channel: string; ts: string; text: unknown; blocks: unknown },
  button: { action_id: string; text?: unknown; value?: string },
  user: string,
  responseUrl: string,
): string {
  const { channel, ts } = posted;
  const payload = {
    type: 'block_actions',
    user: { id: user, username: 'someone', team_id: 'T1' },
    api_app_id: 'A1',
    token: 'legacy',
    trigger_id: '123.456.click',
    team: { id: 'T1', domain: 'acme' },
    channel: { id: channel, name: 'replies' },
    container: { type: 'message', message_ts: ts, channel_id: channel, is_ephemeral: false },
    message: { type: 'message', user: 'UBOT', bot_id: 'BBOT', ts, text: posted.text, blocks: posted.blocks },
    response_url: responseUrl,
    actions: [
      {
        type: 'button',
        action_id: button.action_id,
        block_id: 'b1',
        text: button.text,
        ...(button.value !== undefined ? { value: button.value } : {}),
        action_ts: '1700000999.000100',
      },
    ],
  };
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}

/** A click in a view (the App Home, a modal) as Slack sends it: the view, and no response_url. */
export function viewActionBody(
  action: { action_id: string; value: string; block_id?: string },
  user: string,
  view: Record<string, unknown> & { type: string },
): string {
  const payload = {
    type: 'block_actions',
    user: { id: user, username: 'someone', team_id: 'T1' },
    api_app_id: 'A1',
    token: 'legacy',
    container: { type: 'view', view_id: 'V1' },
    trigger_id: '123.456.ghi',
    team: { id: 'T1', domain: 'acme' },
    view: { id: 'V1', team_id: 'T1', state: { values: {} }, hash: 'h', ...view },
    actions: [{ type: 'button', block_id: action.block_id ?? 'b1', action_ts: '1700000000.1', ...action }],
  };
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}

/** A view_submission of a modal, as Slack sends it: `values` is the view's state (block → action → value). */
export function viewSubmission(
  modal: { callbackId: string; title: string; metadata: unknown },
  values: Record<string, Record<string, unknown>>,
  user = 'UADMIN',
) {
  return new URLSearchParams({
    payload: JSON.stringify({
      type: 'view_submission',
      team: { id: 'T1', domain: 'acme' },
      user: { id: user, username: 'someone', team_id: 'T1' },
      api_app_id: 'A1',
      token: 'legacy',
      trigger_id: '1.2.3',
      view: {
        id: 'V1',
        team_id: 'T1',
        type: 'modal',
        callback_id: modal.callbackId,
        private_metadata: JSON.stringify(modal.metadata),
        state: { values },
        hash: 'h',
        title: { type: 'plain_text', text: modal.title },
        blocks: [],
      },
    }),
  }).toString();
}

/** A view_submission of the "New campaign" modal with the given input values. */
export function campaignSubmission(
  values: Record<string, Record<string, unknown>>,
  user = 'UADMIN',
  channelId: string | null = 'C1',
) {
  const state = Object.fromEntries(Object.entries(values).map(([k, v]) => [k, { v }]));
  return viewSubmission(
    { callbackId: 'campaign_new_modal', title: 'New campaign', metadata: { channelId } },
    state,
    user,
  );
}
