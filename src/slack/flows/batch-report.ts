import type { WebClient } from '@slack/web-api';
import { z } from 'zod';
import type { BatchReport } from '../../core/reports/report-service.js';
import { reportBlocks, reportSummary } from '../blocks/report.js';
import type { SlackDeps } from '../kit/context.js';

const posted = z.object({ ts: z.string() });

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
  // Chart.js and the canvas (a native module) load at the first report, not with the app.
  const { renderBatchChart } = await import('../../charts/batch-chart.js');
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
