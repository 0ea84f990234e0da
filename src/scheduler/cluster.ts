/**
 * What the scheduler and the app need to know of the other instances sharing the database. On
 * SQLite there are none (one process): everything runs here. On Postgres (db/pg/cluster.ts) a
 * task that must not run twice runs on one instance at a time, a daily task once per period, and
 * one instance leads the inbox reading.
 */
export type Cluster = {
  /** Runs `fn` unless another instance is running the task `name` now (then resolves at once). */
  alone(name: string, fn: () => Promise<unknown>): Promise<void>;
  /** Runs `fn` once per `period` (e.g. the minute a cron fired) across the cluster. */
  oncePer(name: string, period: number, fn: () => Promise<unknown>): Promise<void>;
  /** `start` when this instance leads `name`, `stop` when it no longer does (or stops). */
  lead(name: string, handlers: { start(): void; stop(): Promise<void> | void }): void;
  /** How often rows claimed by instances that died are taken over (null: only at start). */
  sweepEveryMs: number | null;
  stop(): Promise<void>;
};

/** One process, no other instance: every task runs, this instance leads everything. */
export function soloCluster(): Cluster {
  const leads: { stop(): Promise<void> | void }[] = [];
  return {
    alone: async (_name, fn) => {
      await fn();
    },
    oncePer: async (_name, _period, fn) => {
      await fn();
    },
    lead: (_name, handlers) => {
      leads.push(handlers);
      handlers.start();
    },
    sweepEveryMs: null,
    stop: async () => {
      for (const h of leads.splice(0)) await h.stop();
    },
  };
}
