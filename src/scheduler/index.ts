import cron, { type ScheduledTask } from 'node-cron';
import type { Logger } from '../logger.js';

/** A task run every `everyMs`, or on a node-cron expression (UTC). */
export type Tick = { name: string; run: () => Promise<unknown> } & ({ everyMs: number } | { cron: string });

/** node-cron expression for "every N ms" (whole seconds below a minute, whole minutes above). */
export function everyExpression(ms: number): string {
  const s = Math.max(1, Math.round(ms / 1000));
  if (s < 60) return `*/${s} * * * * *`;
  const m = Math.max(1, Math.round(s / 60));
  return m < 60 ? `*/${m} * * * *` : '0 * * * *';
}

/**
 * node-cron's own messages in the app's log (it writes to the console otherwise). A tick skipped
 * because the last one still runs is noOverlap doing its job: debug, not a warning.
 */
function cronLogger(l: Logger, task: string) {
  return {
    info: (m: string) => l.debug({ task }, m),
    warn: (m: string) => (m.startsWith('task still running') ? l.debug({ task }, m) : l.warn({ task }, m)),
    error: (m: string | Error, err?: Error) => l.error({ task, err: err ?? m }, 'scheduler error'),
    debug: (m: string | Error) => l.debug({ task }, String(m)),
  };
}

/**
 * The scheduler only triggers: each task calls core (runDue), which claims due work in the
 * database, so overlapping ticks or a restart cannot send twice. noOverlap skips a tick while
 * the previous one still runs.
 */
export function startScheduler(ticks: Tick[], log: Logger): { stop(): Promise<void> } {
  const l = log.child({ module: 'scheduler' });
  const tasks: ScheduledTask[] = ticks.map((t) =>
    cron.schedule(
      'cron' in t ? t.cron : everyExpression(t.everyMs),
      async () => {
        try {
          await t.run();
        } catch (err) {
          l.error({ err, task: t.name }, 'scheduled task failed');
        }
      },
      {
        name: t.name,
        noOverlap: true,
        timezone: 'UTC',
        suppressMissedWarning: true,
        logger: cronLogger(l, t.name),
      },
    ),
  );
  l.info(
    {
      tasks: ticks.map((t) =>
        'cron' in t ? `${t.name} at "${t.cron}" UTC` : `${t.name} every ${t.everyMs} ms`,
      ),
    },
    'scheduler started',
  );
  return {
    stop: async () => {
      for (const t of tasks) await t.destroy();
    },
  };
}
