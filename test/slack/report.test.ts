import { createCanvas, loadImage } from '@napi-rs/canvas';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { chartSize } from '../../src/charts/batch-chart.js';
import { createLogger } from '../../src/logger.js';
import { createMailer } from '../../src/mail/index.js';
import { bytes, startTestApp, testClock, waitFor } from '../helpers.js';
import { startSink } from '../smtp-sink.js';
import { commandBody, eventBody, FakeSlack, signingSecret, slackPost } from './fake-slack.js';

let slack: FakeSlack;
let url: string;
let app: Awaited<ReturnType<typeof startTestApp>>['app'];
let stop: () => Promise<void>;
let sink: Awaited<ReturnType<typeof startSink>>;
let batchId: string;
const clock = testClock(Date.UTC(2026, 2, 10, 14));

beforeEach(async () => {
  slack = await new FakeSlack().start();
  sink = await startSink({ reject: (to) => (to === 'gone@x.com' ? 550 : undefined) });
  const mailer = createMailer({ smtpUrl: sink.url, outboxDir: '/nonexistent', log: createLogger('silent') });
  ({ url, app, stop } = await startTestApp(
    {
      SLACK_BOT_TOKEN: slack.botToken,
      SLACK_SIGNING_SECRET: signingSecret,
      SLACK_API_URL: slack.apiUrl,
      MAIL_FROM: 'Sales <sales@coldbatch.test>',
      MAIL_POSTAL_ADDRESS: 'Rua Exemplo 1, São Paulo',
    },
    { slackRetries: 0, slackProgressIntervalMs: 0, scheduler: false, mailer, clock },
  ));
  const s = app.services;
  const r = await s.imports.importFile({
    source: bytes('email,name\nana@x.com,Ana\nbia@x.com,Bia\ngone@x.com,Gone\ncai@x.com,Cai\n'),
    fileName: 'leads <!channel>.csv',
    origin: 'api',
    actor: 'api',
  });
  if (r.kind !== 'imported') throw new Error('import failed');
  batchId = r.batch.id;
  const c = await s.campaigns.create(
    { name: 'Intro <b>', subject: 's', body: '{{unsubscribe_url}}', sendAt: 'now' },
    'U1',
  );
  for (let i = 0; i < 10 && (await s.campaigns.get(c.id)).status !== 'completed'; i++)
    await s.sending.runDue();
  const cai = sink.received.find((m) => m.to === 'cai@x.com');
  const token = /\/u\/([^>]+)>/.exec(cai?.headers['list-unsubscribe'] ?? '')?.[1] ?? '';
  expect(await s.unsubscribe.unsubscribe(token)).toBe(true);
});
afterEach(async () => {
  await stop();
  await slack.stop();
  await sink.close();
});

const settle = () => app.slack?.background.idle();

/** The file inside the multipart body the SDK posts to the upload URL (its announced length). */
function uploadedFile(body: Buffer, length: number): Buffer {
  const start = body.indexOf('\r\n\r\n') + 4;
  expect(start).toBeGreaterThan(4);
  expect(body.subarray(start + length, start + length + 4).toString('latin1')).toBe('\r\n--');
  return body.subarray(start, start + length);
}

/** The PNG's size from its IHDR chunk, after checking the signature. */
function pngSize(png: Buffer): { width: number; height: number } {
  expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  expect(png.subarray(12, 16).toString('latin1')).toBe('IHDR');
  expect(png.subarray(-8, -4).toString('latin1')).toBe('IEND');
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}

describe('/batches report', () => {
  it('posts the figures in the channel and uploads the chart PNG in that thread', async () => {
    const res = await slackPost(url, commandBody(`report ${batchId}`, 'U7', slack.responseUrl('r')), {
      type: 'form',
    });
    expect(res.status).toBe(200);
    expect(JSON.stringify(res.json())).toContain(`Building the report of ${batchId}`);
    await settle();

    const post = slack.callsTo('chat.postMessage')[0];
    expect(post?.params.channel).toBe('C1');
    const blocks = JSON.stringify(post?.params.blocks);
    expect(blocks).toContain('*Contacts*: 4 — 2 active · 0 inactive · 1 bounced · 1 unsubscribed');
    expect(blocks).toContain('Import: 4 rows: 4 imported');
    // user data escaped: the batch and campaign names ping nobody
    expect(blocks).toContain('leads &lt;!channel&gt;.csv');
    expect(blocks).not.toContain('<!channel>');
    expect(blocks).toContain('*Intro &lt;b&gt;*');
    expect(blocks).toContain('3 sent · 1 bounced · 0 failed · 0 unknown · 1 unsubscribed');
    expect(blocks).toContain('bounce 25.0% · failure 0.0% · unsubscribe 33.3%');
    expect(blocks).toContain('imported by api — 4 contacts from api');
    expect(String(post?.params.text)).toContain('4 contacts, 2 active, 3 sent, 1 bounced (25.0%)');

    const postedTs = '1700000001.000100'; // the fake's first ts
    const getUrl = slack.callsTo('files.getUploadURLExternal')[0];
    expect(getUrl?.params.filename).toBe(`${batchId}-report.png`);
    const complete = slack.callsTo('files.completeUploadExternal')[0];
    expect(complete?.params).toMatchObject({ channel_id: 'C1', thread_ts: postedTs });

    const png = uploadedFile(slack.uploads[0]?.bytes ?? Buffer.alloc(0), Number(getUrl?.params.length));
    expect(pngSize(png)).toEqual({ width: 800, height: 400 });
    expect(chartSize).toEqual({ width: 800, height: 400 });
    expect(png.length).toBeGreaterThan(5 * 1024);

    // It decodes, and it has the funnel's bars: red (bounced) and green (sent) pixels, white background.
    const image = await loadImage(png);
    const canvas = createCanvas(image.width, image.height);
    const ctx = canvas.getContext('2d');
    ctx.drawImage(image, 0, 0);
    const pixels = ctx.getImageData(0, 0, image.width, image.height).data;
    const count = (r: number, g: number, b: number) => {
      let n = 0;
      for (let i = 0; i < pixels.length; i += 4) {
        if (pixels[i] === r && pixels[i + 1] === g && pixels[i + 2] === b) n++;
      }
      return n;
    };
    expect(count(255, 255, 255)).toBeGreaterThan(800 * 400 * 0.4);
    expect(count(0x16, 0xa3, 0x4a)).toBeGreaterThan(2000); // sent, and the day's bar
    expect(count(0xdc, 0x26, 0x26)).toBeGreaterThan(200); // bounced
  });

  it('an unknown batch gets an answer naming it, and nothing is posted', async () => {
    const res = await slackPost(
      url,
      commandBody('report batch_00000000_1700000000', 'U7', slack.responseUrl('r')),
      {
        type: 'form',
      },
    );
    expect(JSON.stringify(res.json())).toContain('No batch batch_00000000_1700000000');
    await settle();
    expect(slack.callsTo('chat.postMessage')).toHaveLength(0);
    const help = await slackPost(url, commandBody('report', 'U7', slack.responseUrl('r')), { type: 'form' });
    expect(JSON.stringify(help.json())).toContain('/batches report &lt;batch id&gt;');
  });

  it('says to invite the app when it is not in the channel', async () => {
    slack.failures.set('chat.postMessage', 'not_in_channel');
    await slackPost(url, commandBody(`report ${batchId}`, 'U7', slack.responseUrl('r')), { type: 'form' });
    await settle();
    const answer = await waitFor(() => slack.responses.find((r) => r.path === '/respond/r'));
    expect(String(answer.body.text)).toContain('/invite @coldbatch');
    expect(slack.uploads).toHaveLength(0);
  });

  it('the App Home shows the active batch key figures', async () => {
    await slackPost(
      url,
      eventBody({ type: 'app_home_opened', user: 'U42', tab: 'home', channel: 'D42' }, 'EvR1'),
    );
    const call = await waitFor(() => slack.callsTo('views.publish')[0]);
    const view = JSON.stringify(call.params.view);
    expect(view).toContain(
      `*Active batch* \`${batchId}\`: 4 contacts · 2 active · 3 sent · 1 bounced · 1 unsubscribed · bounce rate 25.0%`,
    );
  });
});
