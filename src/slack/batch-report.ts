import type { WebClient } from '@slack/web-api';
import { z } from 'zod';
import { renderBatchChart } from '../charts/batch-chart.js';
import type { BatchReport } from '../core/reports/batch-report.js';
import { reportBlocks, reportSummary } from './blocks/report.js';
import type { SlackDeps } from './context.js';

const posted = z.object({ ts: z.string() });
const slackError = z.object({ data: z.object({ error: z.string() }) });

/** Slack refused a post because the app is not in the channel (or cannot see it). */
export function notInChannel(thrown: unknown): boolean {
  const code = slackError.safeParse(thrown).data?.data.error;
  return code === 'not_in_channel' || code === 'channel_not_found';
}

/** Why a post to the channel failed, as a person can act on it; null when it is not about the channel. */
export function channelProblem(thrown: unknown): string | null {
  return notInChannel(thrown)
    ? 'I am not in this channel: `/invite @coldbatch` here, or run `/batches report <id>` in a channel I am in.'
    : null;
}

/** The chart's input: the title, the funnel and the sends per day of a report. */
export const chartData = (r: BatchReport) => ({
  title: `${r.batch.name} — ${r.batch.id}`,
  funnel: r.funnel,
  sendsPerDay: r.sendsPerDay,
});

/**
 * `/batches report <id>`: posts the figures in the channel, then the chart (PNG) in that message's
 * thread. Returns the message's ts.
 */
export async function postBatchReport(
  deps: SlackDeps,
  client: WebClient,
  to: { channel: string; batchId: string; userId: string },
): Promise<string> {
  const report = await deps.services.reports.build(to.batchId);
  const summary = reportSummary(report);
  const message = posted.parse(
    await client.chat.postMessage({
      channel: to.channel,
      text: summary,
      blocks: reportBlocks(report),
      unfurl_links: false,
    }),
  );
  const started = performance.now();
  const png = await renderBatchChart(chartData(report));
  const renderMs = Math.round(performance.now() - started);
  await client.files.uploadV2({
    channel_id: to.channel,
    thread_ts: message.ts,
    file: png,
    filename: `${report.batch.id}-report.png`,
    title: `Report of ${report.batch.id}`,
    alt_text: summary,
  });
  deps.log.info(
    { module: 'slack', batchId: to.batchId, userId: to.userId, renderMs, pngBytes: png.length },
    'batch report posted',
  );
  return message.ts;
}
