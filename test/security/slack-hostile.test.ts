import { request } from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bytes, waitFor } from '../helpers.js';
import { eventBody, sign, signingSecret, slackPost } from '../slack/fake-slack.js';
import { campaignSubmission, command, interactive, postForm, startSlackApp } from './slack-kit.js';

/**
 * Hostile requests to POST /slack/events. test/slack/http-mode.test.ts already covers a bad
 * signature, a missing one and a stale timestamp on an event; this adds forged signatures of other
 * kinds on commands and actions, and signed payloads of unexpected shapes: none may get a 500,
 * hang until Slack's timeout, crash the process or change anything.
 */

let t: Awaited<ReturnType<typeof startSlackApp>>;
let batchId: string;

beforeEach(async () => {
  t = await startSlackApp({ SLACK_ADMIN_USERS: 'UADMIN' });
  const r = await t.app.services.imports.importFile({
    source: bytes('email,name\nana@x.com,Ana\nbia@x.com,Bia\n'),
    fileName: 'leads.csv',
    origin: 'api',
    actor: 'api',
  });
  batchId = r.batch.id;
});
afterEach(() => t.stop());

/** What a hostile request must never change. */
function state() {
  const db = t.app.db.$client;
  return {
    batches: db.prepare('SELECT id, status FROM batches ORDER BY id').all(),
    contacts: db.prepare('SELECT count(*) FROM contacts').pluck().get(),
    campaigns: db.prepare('SELECT id, status FROM campaigns ORDER BY id').all(),
  };
}

/** Slack calls other than Bolt's own auth.test: what a request made the app do. */
const effects = () => t.slack.calls.filter((c) => c.method !== 'auth.test').map((c) => c.method);

const deactivate = () => command('/batches', `deactivate ${batchId}`, 'UADMIN', t.slack.responseUrl('d'));

describe('Slack hostile requests: forged and replayed signatures', () => {
  it('refuses forged signatures on a command that would change something: 401, nothing done', async () => {
    const body = deactivate();
    const now = Math.floor(Date.now() / 1000);
    const attempts: [string, Parameters<typeof slackPost>[2]][] = [
      ['another secret', { timestamp: now, signature: sign(body, now, 'not-the-signing-secret') }],
      ['the signature of another body', { timestamp: now, signature: sign(`${body}&x=1`, now) }],
      ['the signature of another timestamp', { timestamp: now, signature: sign(body, now - 1) }],
      ['an unknown version', { timestamp: now, signature: sign(body, now).replace(/^v0=/, 'v1=') }],
      ['an upper-cased digest', { timestamp: now, signature: sign(body, now).toUpperCase() }],
      ['a truncated digest', { timestamp: now, signature: sign(body, now).slice(0, 40) }],
      ['an empty signature', { timestamp: now, signature: '' }],
      ['no signature', { timestamp: now, signature: null }],
      [
        'a replay older than 5 minutes',
        { timestamp: now - 5 * 60 - 30, signature: sign(body, now - 5 * 60 - 30) },
      ],
      ['a replay a day old', { timestamp: now - 86_400, signature: sign(body, now - 86_400) }],
    ];
    for (const [what, opts] of attempts) {
      const r = await slackPost(t.url, body, { type: 'form', ...opts });
      expect(r.status, what).toBe(401);
    }
    // a timestamp that is not a number, or missing: refused too
    for (const ts of ['yesterday', '', '1e3']) {
      const res = await fetch(`${t.url}/slack/events`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'x-slack-request-timestamp': ts,
          'x-slack-signature': sign(body, Number(ts) || 0),
        },
        body,
      });
      expect(res.status, `timestamp ${JSON.stringify(ts)}`).toBe(401);
    }
    expect((await t.app.services.batches.get(batchId)).status).toBe('active');
    expect(effects()).toEqual([]);
    expect(t.slack.responses).toEqual([]);
    // the same request, correctly signed now, works (the refusals above were about the signature)
    const ok = await postForm(t.url, body);
    expect(ok.status).toBe(200);
    expect((await t.app.services.batches.get(batchId)).status).toBe('inactive');
  });

  it('refuses a forged button click and a forged modal submission', async () => {
    const before = state();
    const click = interactive({
      type: 'block_actions',
      user: { id: 'UADMIN' },
      team: { id: 'T1' },
      response_url: t.slack.responseUrl('c'),
      actions: [{ action_id: 'batch_deactivate', value: JSON.stringify({ id: batchId, view: 'list' }) }],
    });
    const submit = campaignSubmission({
      name: { value: 'Forged' },
      subject: { value: 'S' },
      body: { value: 'B' },
      when: { selected_option: { value: 'now' } },
    });
    for (const body of [click, submit]) {
      const ts = Math.floor(Date.now() / 1000);
      expect(
        (await slackPost(t.url, body, { type: 'form', signature: sign(body, ts, 'wrong-secret') })).status,
      ).toBe(401);
      const old = ts - 10 * 60;
      expect(
        (await slackPost(t.url, body, { type: 'form', timestamp: old, signature: sign(body, old) })).status,
      ).toBe(401);
    }
    expect(state()).toEqual(before);
    expect(effects()).toEqual([]);
  });

  it('a body over the 4 MB limit is refused with 413', async () => {
    const { status, received } = await new Promise<{ status: number; received: boolean }>(
      (resolve, reject) => {
        const body = command('/batches', 'list', 'UADMIN', t.slack.responseUrl('big'));
        const ts = Math.floor(Date.now() / 1000);
        const req = request(`${t.url}/slack/events`, {
          method: 'POST',
          headers: {
            'content-type': 'application/x-www-form-urlencoded',
            'content-length': String(5 * 1024 * 1024),
            'x-slack-request-timestamp': String(ts),
            'x-slack-signature': sign(body, ts),
          },
        });
        req.on('response', (res) => {
          res.resume();
          resolve({ status: res.statusCode ?? 0, received: t.slack.responses.length > 0 });
          req.destroy();
        });
        req.on('error', reject);
        req.write(body);
        req.write('&pad='.padEnd(4.5 * 1024 * 1024, 'x'));
      },
    );
    expect(status).toBe(413);
    expect(received).toBe(false);
  });
});

describe('Slack hostile requests: signed payloads of unexpected shapes', () => {
  const action = (actions: unknown, extra: Record<string, unknown> = {}) =>
    interactive({
      type: 'block_actions',
      user: { id: 'UADMIN', username: 'a', team_id: 'T1' },
      team: { id: 'T1', domain: 'acme' },
      api_app_id: 'A1',
      token: 'legacy',
      trigger_id: '1.2.3',
      container: { type: 'message', is_ephemeral: true },
      response_url: t.slack.responseUrl('act'),
      actions,
      ...extra,
    });
  const view = (v: Record<string, unknown>) =>
    interactive({ type: 'view_submission', user: { id: 'UADMIN' }, team: { id: 'T1' }, view: v });

  /** Each request signed correctly, its answer status, and how long it took. */
  async function send(cases: [string, string, 'json' | 'form'][]) {
    const out: { label: string; status: number; ms: number; text: string }[] = [];
    for (const [label, body, type] of cases) {
      const started = Date.now();
      const r = await postForm(t.url, body, { type });
      out.push({ label, status: r.status, ms: Date.now() - started, text: r.text });
    }
    return out;
  }

  it('never answers 500 or lets Slack time out; changes nothing; the process stays up', async () => {
    const before = state();
    const results = await send([
      ['payload {}', 'payload=%7B%7D', 'form'],
      ['payload []', 'payload=%5B%5D', 'form'],
      ['payload null', 'payload=null', 'form'],
      ['payload "x"', 'payload=%22x%22', 'form'],
      ['payload 42', 'payload=42', 'form'],
      ['form garbage', '%%%&&&===', 'form'],
      ['JSON array', '[]', 'json'],
      ['JSON null', 'null', 'json'],
      [
        'event_callback without event',
        JSON.stringify({ type: 'event_callback', event_id: 'E0', team_id: 'T1' }),
        'json',
      ],
      [
        'event is a string',
        JSON.stringify({ type: 'event_callback', event_id: 'E1', team_id: 'T1', event: 'x' }),
        'json',
      ],
      ['file_shared without fields', eventBody({ type: 'file_shared' }, 'E2'), 'json'],
      [
        'file_shared with wrong types',
        eventBody({ type: 'file_shared', file_id: 5, channel_id: [], user_id: {} }, 'E3'),
        'json',
      ],
      [
        'file_share message, files a string',
        eventBody({ type: 'message', subtype: 'file_share', files: 'x' }, 'E4'),
        'json',
      ],
      ['app_home_opened without user', eventBody({ type: 'app_home_opened' }, 'E5'), 'json'],
      ['an event nobody listens to', eventBody({ type: 'reaction_added', user: 'U1' }, 'E6'), 'json'],
      [
        'event_id a number',
        JSON.stringify({
          type: 'event_callback',
          event_id: 5,
          team_id: 'T1',
          event: { type: 'app_home_opened', user: 'U1' },
        }),
        'json',
      ],
      [
        'block_actions without actions',
        interactive({ type: 'block_actions', user: { id: 'UADMIN' } }),
        'form',
      ],
      ['block_actions, actions a string', action('x'), 'form'],
      ['block_actions, no actions', action([]), 'form'],
      ['an unknown action id', action([{ type: 'button', action_id: 'drop_tables', value: 'x' }]), 'form'],
      ['an action id that is a number', action([{ type: 'button', action_id: 5, value: 'x' }]), 'form'],
      ['Activate without a value', action([{ type: 'button', action_id: 'batch_activate' }]), 'form'],
      [
        'Deactivate with a value that is not JSON',
        action([{ type: 'button', action_id: 'batch_deactivate', value: '{bad' }]),
        'form',
      ],
      [
        'Deactivate with a value of the wrong shape',
        action([{ type: 'button', action_id: 'batch_deactivate', value: '{"id":5}' }]),
        'form',
      ],
      [
        'Pause with a value that is not JSON',
        action([{ type: 'button', action_id: 'campaign_pause', value: '{bad' }]),
        'form',
      ],
      [
        'Pause without a user',
        interactive({
          type: 'block_actions',
          response_url: t.slack.responseUrl('act'),
          actions: [{ action_id: 'campaign_pause', value: '{}' }],
        }),
        'form',
      ],
      ['Undo with a number value', action([{ type: 'button', action_id: 'import_undo', value: 5 }]), 'form'],
      [
        'Undo with another batch in its value',
        action([
          {
            type: 'button',
            action_id: 'import_undo',
            value: JSON.stringify({ batchId: 'batch_nope_1', previousId: "'; DROP TABLE batches; --" }),
          },
        ]),
        'form',
      ],
      ['view_submission without state', view({ callback_id: 'campaign_new_modal', type: 'modal' }), 'form'],
      [
        'view_submission, values of wrong types',
        campaignSubmission({ name: { value: 5 }, when: { selected_option: 'now' } }),
        'form',
      ],
      [
        'view_submission, state values null',
        view({ callback_id: 'campaign_new_modal', type: 'modal', state: { values: null } }),
        'form',
      ],
      [
        'view_submission, unknown callback',
        view({ callback_id: 'nope', type: 'modal', state: { values: {} } }),
        'form',
      ],
      [
        'view_closed',
        interactive({
          type: 'view_closed',
          user: { id: 'UADMIN' },
          view: { callback_id: 'campaign_new_modal' },
        }),
        'form',
      ],
      ['an unknown interactive type', interactive({ type: 'weird', user: { id: 'U1' } }), 'form'],
      [
        'a shortcut nobody handles',
        interactive({ type: 'shortcut', callback_id: 'x', user: { id: 'U1' }, trigger_id: '1' }),
        'form',
      ],
      ['an unknown command', command('/drop', 'list', 'UADMIN', t.slack.responseUrl('u')), 'form'],
      [
        'a command with only its name and response_url',
        `command=%2Fcampaigns&response_url=${encodeURIComponent(t.slack.responseUrl('only'))}`,
        'form',
      ],
    ]);
    for (const r of results) {
      expect(r.status, `${r.label}: ${r.text.slice(0, 100)}`).toBe(200);
      // answered promptly: Slack gives up after 3 seconds and shows the user an error
      expect(r.ms, r.label).toBeLessThan(2500);
    }
    await t.settle();
    expect(state()).toEqual(before);
    expect((await fetch(`${t.url}/healthz`)).status).toBe(200);
  });

  it('bodies that are not JSON where JSON is due are a 400, never a 500', async () => {
    for (const [label, body, type] of [
      ['payload not JSON', 'payload=%7Bnot', 'form'],
      ['payload truncated', `payload=${encodeURIComponent('{"type":"block_actions","actions":[')}`, 'form'],
      ['JSON body not JSON', '{not json', 'json'],
    ] as const) {
      const r = await postForm(t.url, body, { type });
      expect(r.status, label).toBe(400);
    }
  });

  it('a modal submission that cannot be read keeps the modal open with a message', async () => {
    for (const body of [
      view({ callback_id: 'campaign_new_modal', type: 'modal' }),
      campaignSubmission({ name: { value: 5 }, when: { selected_option: 'now' } }),
    ]) {
      const r = await postForm(t.url, body);
      expect(r.status).toBe(200);
      expect(r.json()).toEqual({
        response_action: 'errors',
        errors: { name: expect.stringMatching(/could not be read.*\/campaigns new/) },
      });
    }
    expect((await t.app.services.campaigns.list({})).campaigns).toEqual([]);
  });

  it('a button with a broken value gets an answer only its user sees', async () => {
    await postForm(t.url, action([{ type: 'button', action_id: 'batch_deactivate', value: '{bad' }]));
    const answer = await waitFor(() => t.slack.responses.find((r) => r.path === '/respond/act'));
    expect(answer.body).toMatchObject({ response_type: 'ephemeral', replace_original: false });
    expect(JSON.stringify(answer.body)).toMatch(/went wrong|try again/i);
    expect((await t.app.services.batches.get(batchId)).status).toBe('active');
  });

  it('a slash command with 100 KB of text gets a polite ephemeral answer', async () => {
    const batches = await postForm(
      t.url,
      command('/batches', 'x'.repeat(100_000), 'UADMIN', t.slack.responseUrl('b')),
    );
    expect(batches.status).toBe(200);
    const ack = batches.json() as { response_type: string; blocks: unknown[] };
    expect(ack.response_type).toBe('ephemeral');
    const shown = JSON.stringify(ack.blocks);
    expect(shown).toMatch(/I don't know `x{1,30}`/);
    expect(shown.length).toBeLessThan(5000);

    const show = await postForm(
      t.url,
      command('/batches', `show ${'y'.repeat(100_000)}`, 'UADMIN', t.slack.responseUrl('s')),
    );
    expect(show.status).toBe(200);
    expect(JSON.stringify(show.json())).toMatch(/ephemeral/);

    const campaigns = await postForm(
      t.url,
      command('/campaigns', `pause ${'z'.repeat(100_000)}`, 'UADMIN', t.slack.responseUrl('c')),
    );
    expect(campaigns.status).toBe(200);
    const answer = await waitFor(() => t.slack.responses.find((r) => r.path === '/respond/c'));
    expect(answer.body.response_type).toBe('ephemeral');
    expect(JSON.stringify(answer.body).length).toBeLessThan(10_000);

    const spaces = await postForm(
      t.url,
      command('/batches', `${' \n\t'.repeat(30_000)}list`, 'UADMIN', t.slack.responseUrl('w')),
    );
    expect(spaces.status).toBe(200);
    expect(JSON.stringify(spaces.json())).toContain('leads.csv');
    expect((await t.app.services.batches.get(batchId)).status).toBe('active');
  });

  it('the signing secret is not the only thing checked: a request for another endpoint path is 404', async () => {
    const body = deactivate();
    const ts = Math.floor(Date.now() / 1000);
    const res = await fetch(`${t.url}/slack/events/../events2`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-slack-request-timestamp': String(ts),
        'x-slack-signature': sign(body, ts, signingSecret),
      },
      body,
    });
    expect(res.status).toBe(404);
    expect((await t.app.services.batches.get(batchId)).status).toBe('active');
  });
});
