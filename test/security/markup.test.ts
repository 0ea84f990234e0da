import { parse } from 'csv-parse/sync';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers.js';
import { eventBody, slackPost, viewSubmission } from '../slack/fake-slack.js';
import { campaignSubmission, command, interactive, postForm, startSlackApp } from './slack-kit.js';

/**
 * User data with Slack markup (mentions, channel links, links, &) must reach Slack escaped in
 * every message the app posts, and exported CSV cells must never start a spreadsheet formula.
 */

/** A name made of everything Slack would turn into a ping, a link or formatting. */
const hostile = '<!channel> <!here> <@U123> <#C1> <https://evil|click> & *bold*';
/** What must never appear in mrkdwn the app sends: each piece of `hostile` as Slack would parse it. */
const raw = ['<!channel>', '<!here>', '<@U123>', '<#C1>', '<https://evil|click>', '& *bold*'];
const escapedMention = '&lt;!channel&gt;';

let t: Awaited<ReturnType<typeof startSlackApp>>;
beforeEach(async () => {
  t = await startSlackApp({ SLACK_ADMIN_USERS: 'UADMIN' });
});
afterEach(() => t.stop());

type Surface = { label: string; body: unknown };

/** Every string Slack would read as mrkdwn (or plain text in a message): all but plain_text objects. */
function markupStrings(node: unknown, out: string[] = [], plain = false): string[] {
  if (typeof node === 'string') {
    if (!plain) out.push(node);
  } else if (Array.isArray(node)) {
    for (const x of node) markupStrings(x, out);
  } else if (node && typeof node === 'object') {
    const o = node as Record<string, unknown>;
    for (const [k, v] of Object.entries(o)) markupStrings(v, out, o.type === 'plain_text' && k === 'text');
  }
  return out;
}

/** Every body the app sent to Slack: Web API calls, response_url posts, and acks. */
function sentToSlack(acks: Surface[]): Surface[] {
  return [
    ...t.slack.calls
      .filter((c) => c.method !== 'auth.test')
      // a file's title and name are plain text; only its comment is mrkdwn
      .map((c) => ({
        label: c.method,
        body: c.method.startsWith('files.') ? { initial_comment: c.params.initial_comment } : c.params,
      })),
    ...t.slack.responses.map((r) => ({ label: `response ${r.path}`, body: r.body })),
    ...acks,
  ];
}

function expectNoRawMarkup(surfaces: Surface[]) {
  for (const s of surfaces) {
    for (const text of markupStrings(s.body)) {
      for (const r of raw)
        expect(text.includes(r), `${s.label} carries ${r} unescaped: ${text.slice(0, 300)}`).toBe(false);
    }
  }
}

const csvFile = [
  'email,name,company,position',
  `ana@x.com,"${hostile}","${hostile}","${hostile}"`,
  'formula@evil.com,"=HYPERLINK(""http://evil"",""x"")",+SUM(1;2),-2+3',
  'at@evil.com,@cmd,"-1+1","+1"',
  '<!channel>,Bad,Row,X',
  '',
].join('\n');

async function dropHostileFile() {
  t.slack.files.set('FHOST', {
    id: 'FHOST',
    name: `${hostile}.csv`,
    filetype: 'csv',
    user: 'UADMIN',
    content: csvFile,
    channel: 'C1',
    ts: '1700000000.000001',
  });
  const ev = {
    type: 'file_shared',
    file_id: 'FHOST',
    user_id: 'UADMIN',
    channel_id: 'C1',
    file: { id: 'FHOST' },
  };
  expect((await slackPost(t.url, eventBody(ev, 'EvHost'))).status).toBe(200);
  await t.settle();
  const batch = await t.app.services.batches.getActive();
  expect(batch?.name).toBe(`${hostile}.csv`);
  return batch!;
}

/** The file inside a multipart/form-data body (files.uploadV2 posts one part). */
function filePart(body: string): string {
  const boundary = body.slice(0, body.indexOf('\r\n'));
  if (!boundary.startsWith('--')) return body;
  const start = body.indexOf('\r\n\r\n') + 4;
  return body.slice(start, body.indexOf(`\r\n${boundary}`, start));
}

const formulaStart = /^[=+\-@\t\r]/;

/** Every cell of an exported CSV (every column, ours included): none may start a formula. */
function expectNeutralised(csv: string) {
  const rows = parse(csv, { relax_column_count: true }) as string[][];
  expect(rows[0]?.slice(0, 4)).toEqual(['email', 'name', 'company', 'position']);
  expect(rows.length).toBeGreaterThan(3);
  for (const row of rows.slice(1)) {
    for (const cell of row) expect(cell, JSON.stringify(row)).not.toMatch(formulaStart);
  }
  return rows;
}

describe('Slack markup in user data is escaped in every message', () => {
  it('import reply, /batches, details, App Home, modal, campaign progress, /campaigns, undo', async () => {
    const acks: Surface[] = [];
    const ack = async (label: string, body: string) => {
      const r = await postForm(t.url, body);
      expect(r.status, label).toBe(200);
      if (r.text) acks.push({ label: `ack ${label}`, body: r.json() });
    };

    // 1. a CSV dropped with a hostile file name and hostile contacts (and an invalid row echoing markup)
    const batch = await dropHostileFile();
    const thread = [...t.slack.callsTo('chat.postMessage'), ...t.slack.callsTo('chat.update')];
    expect(JSON.stringify(thread.map((c) => c.params))).toContain(escapedMention);
    // a second batch named by the API with hostile text, activated with a hostile reason
    const second = await t.app.services.imports.importFile({
      source: (async function* () {
        yield Buffer.from('email,name\nother@x.com,Other\n');
      })(),
      fileName: 'f.csv',
      origin: 'api',
      actor: 'api',
      options: { name: hostile, activate: false },
    });
    await t.app.services.batches.activate(batch.id, 'api', hostile);

    // 2. /batches list, show, and ids that are markup
    await ack('/batches list', command('/batches', 'list', 'UADMIN', t.slack.responseUrl('l')));
    await ack('/batches show', command('/batches', `show ${batch.id}`, 'UADMIN', t.slack.responseUrl('s')));
    await ack(
      '/batches show 2nd',
      command('/batches', `show ${second.batch.id}`, 'UOTHER', t.slack.responseUrl('s2')),
    );
    await ack(
      '/batches show <!channel>',
      command('/batches', 'show <!channel>', 'UADMIN', t.slack.responseUrl('x')),
    );
    await ack(
      '/batches activate <@U123>',
      command('/batches', 'activate <@U123>', 'UADMIN', t.slack.responseUrl('y')),
    );
    await ack('/batches <!here>', command('/batches', '<!here> <#C1>', 'UADMIN', t.slack.responseUrl('z')));
    for (const label of ['/batches list', '/batches show', '/batches show 2nd']) {
      expect(JSON.stringify(acks.find((a) => a.label === `ack ${label}`)?.body), label).toContain(
        escapedMention,
      );
    }

    // 3. the Details button (answers through response_url)
    const details = interactive({
      type: 'block_actions',
      user: { id: 'UADMIN', username: 'a', team_id: 'T1' },
      api_app_id: 'A1',
      token: 'legacy',
      container: { type: 'message', is_ephemeral: true },
      trigger_id: '1.2.3',
      team: { id: 'T1', domain: 'acme' },
      channel: { id: 'C1', name: 'leads' },
      response_url: t.slack.responseUrl('details'),
      actions: [
        {
          type: 'button',
          action_id: 'batch_details',
          block_id: 'b',
          value: JSON.stringify({ id: batch.id, view: 'list', page: null }),
          action_ts: '1',
        },
      ],
    });
    await ack('Details', details);
    const shown = await waitFor(() => t.slack.responses.find((r) => r.path === '/respond/details'));
    expect(JSON.stringify(shown.body)).toContain(escapedMention);

    // 4. the App Home
    await slackPost(t.url, eventBody({ type: 'app_home_opened', user: 'UADMIN', tab: 'home' }, 'EvHome'));
    const home = await waitFor(() => t.slack.callsTo('views.publish').at(-1));
    expect(JSON.stringify(home.params)).toContain(escapedMention);

    // 5. /campaigns new: the modal previews the active batch by name
    await ack('/campaigns new', command('/campaigns', 'new', 'UADMIN', t.slack.responseUrl('new')));
    const modal = await waitFor(() => t.slack.callsTo('views.open')[0]);
    expect(JSON.stringify(modal.params)).toContain(escapedMention);

    // 6. the modal submitted with a hostile campaign name: its progress message, then its updates
    await ack(
      'view_submission',
      campaignSubmission({
        name: { type: 'plain_text_input', value: hostile },
        subject: { type: 'plain_text_input', value: 'Hi {{first_name|there}}' },
        body: { type: 'plain_text_input', value: 'Hello' },
        when: { type: 'radio_buttons', selected_option: { value: 'now' } },
      }),
    );
    const progress = await waitFor(() =>
      t.slack.callsTo('chat.postMessage').find((c) => JSON.stringify(c.params).includes('Pause')),
    );
    expect(JSON.stringify(progress.params)).toContain(escapedMention);
    const campaign = (await t.app.services.campaigns.list({})).campaigns[0]!;
    expect(campaign.name).toBe(hostile);
    await t.app.services.sending.runDue();
    const updated = await waitFor(() =>
      t.slack
        .callsTo('chat.update')
        .find(
          (c) => String(c.params.text).startsWith('Campaign') && JSON.stringify(c.params).includes('3/3'),
        ),
    );
    expect(JSON.stringify(updated.params)).toContain(escapedMention);
    await t.settle();

    // 7. /campaigns list and show
    await ack('/campaigns list', command('/campaigns', 'list', 'UADMIN', t.slack.responseUrl('clist')));
    await ack(
      '/campaigns show',
      command('/campaigns', `show ${campaign.id}`, 'UADMIN', t.slack.responseUrl('cshow')),
    );
    await ack(
      '/campaigns show <!here>',
      command('/campaigns', 'show <!here>', 'UADMIN', t.slack.responseUrl('cx')),
    );
    for (const path of ['/respond/clist', '/respond/cshow']) {
      const r = await waitFor(() => t.slack.responses.find((x) => x.path === path));
      expect(JSON.stringify(r.body), path).toContain(escapedMention);
    }
    await waitFor(() => t.slack.responses.find((x) => x.path === '/respond/cx'));

    // 8. Undo under the import: the answer names both batches
    const undoButton = JSON.stringify(t.slack.callsTo('chat.update').map((c) => c.params.blocks)).match(
      /"action_id":"import_undo","value":"((?:[^"\\]|\\.)*)"/,
    );
    expect(undoButton).not.toBeNull();
    await ack(
      'Undo',
      interactive({
        type: 'block_actions',
        user: { id: 'UADMIN', username: 'a', team_id: 'T1' },
        api_app_id: 'A1',
        token: 'legacy',
        container: { type: 'message', is_ephemeral: false },
        trigger_id: '1.2.3',
        team: { id: 'T1', domain: 'acme' },
        channel: { id: 'C1', name: 'leads' },
        response_url: t.slack.responseUrl('undo'),
        actions: [
          {
            type: 'button',
            action_id: 'import_undo',
            block_id: 'b',
            value: JSON.parse(`"${undoButton![1]}"`),
            action_ts: '1',
          },
        ],
      }),
    );
    const undone = await waitFor(() => t.slack.responses.find((r) => r.path === '/respond/undo'));
    expect(JSON.stringify(undone.body)).toContain(escapedMention);
    await t.settle();

    const surfaces = sentToSlack(acks);
    expect(surfaces.length).toBeGreaterThan(15);
    expectNoRawMarkup(surfaces);
  });
});

describe('Slack markup in the names of failed imports', () => {
  it('a refused file and a file that fails inside are answered with the name escaped', async () => {
    const share = (id: string, content: string) => {
      t.slack.files.set(id, {
        id,
        name: `${hostile}.csv`,
        filetype: 'csv',
        user: 'UADMIN',
        content,
        channel: 'C1',
      });
      return eventBody(
        { type: 'file_shared', file_id: id, user_id: 'UADMIN', channel_id: 'C1', file: { id } },
        `Ev${id}`,
      );
    };
    await slackPost(t.url, share('FBAD', 'nome,empresa\nAna,Acme\n'));
    await t.settle();
    // an internal failure (not a refusal): the generic answer names what it was doing
    t.app.db.$client.exec('DROP TABLE batch_events');
    await slackPost(t.url, share('FBROKEN', 'email\nx@y.com\n'));
    await t.settle();
    const updates = t.slack.callsTo('chat.update').map((c) => JSON.stringify(c.params));
    expect(updates.some((u) => /No e-mail column/.test(u) && u.includes(escapedMention))).toBe(true);
    expect(updates.some((u) => /Something went wrong/.test(u) && u.includes(escapedMention))).toBe(true);
    expectNoRawMarkup(sentToSlack([]));
  });
});

describe('exported CSV cells never start a formula', () => {
  it('through REST and through Slack (/batches export), also for legacy cells starting with tab or CR', async () => {
    const batch = await dropHostileFile();
    // cells no import can produce (imports trim) but an older database may hold
    t.app.db.$client
      .prepare(
        `UPDATE contacts SET name = char(9) || '=tab', company = char(13) || 'cr', position = '@x' WHERE email = 'at@evil.com'`,
      )
      .run();

    const rest = await fetch(`${t.url}/contacts/batches/${batch.id}/export`);
    expect(rest.status).toBe(200);
    const rows = expectNeutralised(await rest.text());
    const formula = rows.find((r) => r[0] === 'formula@evil.com')!;
    expect(formula.slice(1, 4)).toEqual(['\'=HYPERLINK("http://evil","x")', "'+SUM(1;2)", "'-2+3"]);
    const at = rows.find((r) => r[0] === 'at@evil.com')!;
    expect(at.slice(1, 4)).toEqual(["'\t=tab", "'\rcr", "'@x"]);

    await postForm(t.url, command('/batches', `export ${batch.id}`, 'UADMIN', t.slack.responseUrl('exp')));
    await t.settle();
    const upload = await waitFor(() => t.slack.uploads[0]);
    const slackRows = expectNeutralised(filePart(upload.bytes.toString('utf8')));
    expect(slackRows).toEqual(rows);
    expect(t.slack.callsTo('files.completeUploadExternal')).toHaveLength(1);

    // A filtered export repeats the filter in the file's comment (mrkdwn): escaped, it pings nobody.
    await postForm(
      t.url,
      command('/batches', `export ${batch.id} <!channel> <@U123>`, 'UADMIN', t.slack.responseUrl('exp2')),
    );
    await t.settle();
    const comment = String(t.slack.callsTo('files.completeUploadExternal')[1]?.params.initial_comment);
    expect(comment).toContain(escapedMention);
    expectNoRawMarkup(sentToSlack([]));
  });
});

describe('plain text where Slack shows text as it is', () => {
  it("a modal's errors carry no mrkdwn: no escaped entities, no mentions", async () => {
    const submit = (user: string, id: string) =>
      viewSubmission(
        { callbackId: 'batch_schedule_activation_modal', title: 'Schedule activation', metadata: { id } },
        {
          when: {
            at: { type: 'datetimepicker', selected_date_time: Math.floor(Date.now() / 1000) + 86_400 },
          },
        },
        user,
      );
    const refused = await postForm(t.url, submit('UOTHER', 'batch_x'));
    const notFound = await postForm(t.url, submit('UADMIN', 'R&D <b>'));
    const errors = [refused, notFound].map((r) => (r.json() as { errors: { when: string } }).errors.when);
    expect(errors[0]).toBe('Only coldbatch admins may schedule activations. Ask one of them.');
    expect(errors[1]).toContain('R&D <b>');
    for (const e of errors) expect(e).not.toMatch(/&amp;|&lt;|<@/);
  });
});
