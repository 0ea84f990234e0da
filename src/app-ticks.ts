import type { Config } from './config.js';
import type { Services } from './core/index.js';
import type { Cluster } from './scheduler/cluster.js';
import type { Tick } from './scheduler/index.js';

/**
 * The app's scheduled tasks, and where each runs when several instances share the database:
 * - every instance sends and delivers webhooks (their rows are claimed, so work spreads);
 * - scheduled activations and reply notices run on one instance at a time (what they announce
 *   in Slack must not be said twice);
 * - the daily retention prompt runs once per day across the cluster; the SQLite backup only on
 *   SQLite (Postgres is backed up with pg_dump);
 * - on Postgres, every minute, rows claimed by an instance that died are taken over (sends
 *   become `unknown`, files fail, half-imported batches go, validation runs continue here).
 */
export function appTicks(parts: {
  config: Config;
  services: Services;
  cluster: Cluster;
  engine: 'sqlite' | 'postgres';
  retentionTick: () => Promise<void>;
  sweepReplies: () => Promise<unknown>;
}): Tick[] {
  const { config, services, cluster } = parts;
  const tickMs = config.campaigns.tickMs;
  const minute = () => Math.floor(Date.now() / 60_000);
  return [
    { name: 'send-engine', everyMs: tickMs, run: () => services.sending.runDue() },
    {
      name: 'batch-activations',
      everyMs: tickMs,
      run: () => cluster.alone('batch-activations', () => services.scheduledActivations.applyDue()),
    },
    { name: 'webhooks', everyMs: tickMs, run: () => services.webhooks.deliverDue() },
    ...(config.backup.cron && parts.engine === 'sqlite'
      ? [{ name: 'backup', cron: config.backup.cron, run: () => services.backup.run('nightly') }]
      : []),
    ...(config.retentionDays && config.slack
      ? [
          {
            name: 'retention',
            cron: '0 9 * * *',
            run: () => cluster.oncePer('retention', minute(), parts.retentionTick),
          },
        ]
      : []),
    ...(config.slack
      ? [
          {
            name: 'reply-notices',
            everyMs: 60_000,
            run: () => cluster.alone('reply-notices', parts.sweepReplies),
          },
        ]
      : []),
    ...(cluster.sweepEveryMs
      ? [
          {
            name: 'lease-sweep',
            everyMs: cluster.sweepEveryMs,
            run: () =>
              cluster.alone('lease-sweep', async () => {
                await services.sending.sweepInterrupted();
                await services.inbox.sweepInterruptedFiles();
                await services.imports.sweepInterrupted();
                await services.validation.resumeInterrupted();
              }),
          },
        ]
      : []),
  ];
}
