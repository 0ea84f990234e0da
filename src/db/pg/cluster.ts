import type { Logger } from '../../logger.js';
import type { Cluster } from '../../scheduler/cluster.js';
import type { PgDb } from './client.js';
import type { PgInstance } from './instance.js';

/**
 * The instances sharing one Postgres: a task runs alone under an advisory lock, a daily task once
 * per period (the first instance to insert its `task_runs` row runs it), leading under a lock the
 * instance holds on its own connection (taken over when that instance dies). Rows claimed by an
 * instance that died are swept every minute.
 */
export function pgCluster(db: PgDb, instance: PgInstance, log: Logger): Cluster {
  return {
    alone: async (name, fn) => {
      await instance.runAlone(name, async () => {
        await fn();
      });
    },
    oncePer: async (name, period, fn) => {
      const won = await db.$client.query(
        `INSERT INTO task_runs (name, period, instance, at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (name, period) DO NOTHING`,
        [name, period, instance.id, Date.now()],
      );
      if (won.rowCount === 1) await fn();
      else log.debug({ task: name, period }, 'run by another instance this period');
    },
    lead: (name, handlers) => instance.lead(name, handlers),
    sweepEveryMs: 60_000,
    stop: () => instance.stop(),
  };
}
