/**
 * The send cases of one run, through the server's own scheduler and its SMTP pool to the sink:
 * polling a campaign and /healthz while a campaign to the 1M batch sends, and 20k messages of a
 * campaign to a 20k batch active beside the 1M old contacts, timed at the sink like the baseline.
 */
import Database from 'better-sqlite3';
import { oldBatchId, seedBatch } from './data.js';
import { rateOf, type Sink, type SinkStats } from './mail.js';
import { type ProbeWindow, readProbe, type Server } from './procs.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The campaign every send case creates (sent now, no rate limit: the pool sets the pace). */
const campaignBody = JSON.stringify({
  name: 'Bench intro',
  subject: 'Quick question, {{first_name|there}}',
  body: 'Hi {{first_name|there}},\n\nA short note about your work at {{company|your company}}.\n\nBest,\nSam',
  sendAt: 'now',
});

type CampaignJson = { campaign: { id: string; status: string; counts: { sent: number; total: number } } };

async function json<T>(res: Response, what: string, status = 200): Promise<T> {
  const text = await res.text();
  if (res.status !== status) throw new Error(`${what} answered ${res.status}: ${text.slice(0, 500)}`);
  return JSON.parse(text) as T;
}

/** Activates a batch and creates the campaign; ms of each call as the client saw them. */
async function startCampaign(server: Server, batchId: string) {
  let t = performance.now();
  await json(await server.api(`/contacts/batches/${batchId}/activate`, { method: 'POST' }), 'activate');
  const activateMs = performance.now() - t;
  t = performance.now();
  const created = await json<CampaignJson>(
    await server.api('/campaigns', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: campaignBody,
    }),
    'POST /campaigns',
    201,
  );
  return { id: created.campaign.id, activateMs, createMs: performance.now() - t };
}

/**
 * Calls `fn` every `everyMs`, start to start, until `until`; never two at once, and a call that
 * overran its slot is followed at once by the next but missed slots are not made up. The latency
 * of each call.
 */
async function pollEvery(everyMs: number, until: number, fn: () => Promise<void>): Promise<number[]> {
  const times: number[] = [];
  while (performance.now() < until) {
    const t = performance.now();
    await fn();
    const ms = performance.now() - t;
    times.push(ms);
    if (ms < everyMs) await sleep(everyMs - ms);
  }
  return times;
}

/**
 * A campaign to the 1M old batch (activated over REST), sent by the scheduler for `seconds`
 * while GET /campaigns/{id} is polled every 2 s (the Slack progress updater's pace) and
 * /healthz every 100 ms (what a load balancer or any other request meets meanwhile); then
 * cancelled. Latencies as the client saw them (ms).
 */
export async function pollDuringSend(server: Server, sink: Sink, seconds: number) {
  await sink.reset();
  const from = Date.now();
  const { id, activateMs, createMs } = await startCampaign(server, oldBatchId);
  const until = performance.now() + seconds * 1000;
  const get = async (path: string) => {
    const res = await server.api(path);
    await res.arrayBuffer();
    if (!res.ok) throw new Error(`GET ${path} answered ${res.status}`);
  };
  const [campaignMs, healthMs] = await Promise.all([
    pollEvery(2000, until, () => get(`/campaigns/${id}`)),
    pollEvery(100, until, () => get('/healthz')),
  ]);
  const to = Date.now();
  const sent = (await sink.stats()).count;
  await json(await server.api(`/campaigns/${id}/cancel`, { method: 'POST' }), 'cancel');
  await sleep(400);
  return { campaignMs, healthMs, activateMs, createMs, sent, probe: readProbe(server.probeOut, from, to) };
}

/** The 20k batch of the send case, added (inactive) to a copy of the seeded database before the server starts. */
export const sendBatchId = 'batch_00005e4d_1700000001';

export function addSendBatch(db: string, n: number) {
  const sqlite = new Database(db);
  seedBatch(sqlite, sendBatchId, n, (i) => `lead.${i}@${['gmail.com', 'acme.io', 'uni.edu'][i % 3]}`);
  sqlite.pragma('wal_checkpoint(TRUNCATE)');
  sqlite.close();
}

/**
 * Activates the 20k batch, creates a campaign sent now, and waits (polling GET /campaigns/{id}
 * every 250 ms) until it is completed. messages/s is timed at the sink, first to last message,
 * like the baseline; `wallRate` counts from POST /campaigns to the completed status (it includes
 * the wait for the scheduler's next tick, up to SCHEDULER_TICK).
 */
export async function sendCampaign(server: Server, sink: Sink, n: number) {
  await sink.reset();
  const from = Date.now();
  const t0 = performance.now();
  const { id, createMs } = await startCampaign(server, sendBatchId);
  const deadline = performance.now() + 120_000 + n * 20;
  let last: CampaignJson | undefined;
  for (;;) {
    last = await json<CampaignJson>(await server.api(`/campaigns/${id}`), 'GET /campaigns/{id}');
    if (last.campaign.status === 'completed') break;
    if (performance.now() > deadline)
      throw new Error(`campaign not completed in time: ${JSON.stringify(last)}`);
    await sleep(250);
  }
  const wallMs = performance.now() - t0;
  const to = Date.now();
  const stats: SinkStats = await sink.stats();
  await sleep(400);
  const probe: ProbeWindow = readProbe(server.probeOut, from, to);
  return {
    rate: rateOf(stats),
    wallRate: n / (wallMs / 1000),
    sent: last.campaign.counts.sent,
    received: stats.count,
    distinct: stats.distinct,
    createMs,
    probe,
  };
}
