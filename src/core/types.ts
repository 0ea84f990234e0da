import type { Clock } from '../clock.js';
import type { Db } from '../db/client.js';
import type { Logger } from '../logger.js';

/** What every core service is built with. */
export type CoreDeps = { db: Db; log: Logger; clock: Clock };

/** Who did something: a Slack user id, `api`, `cli` or `system`. */
export type Actor = string;

export const toIso = (ms: number | null | undefined): string | null =>
  ms == null ? null : new Date(ms).toISOString();
