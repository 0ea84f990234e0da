import type { RunState, StoredCounts } from '../core/validation/validation-store.js';
import type { ValidationRunStatus } from '../core/vocabulary.js';

/*
 * The rows of validation_runs as both ValidationStores (db/sqlite, db/pg) read and write them:
 * the same columns under the same names on either database (only the SQL around them differs).
 */

/** A validation_runs row with the names `runColumns` selects. */
export type RunRow = {
  id: string;
  batchId: string;
  seq: number;
  actor: string;
  status: ValidationRunStatus;
  startedAt: number;
  endedAt: number | null;
  afterId: number;
  checked: number;
  message: string | null;
  valid: number;
  role: number;
  disposable: number;
  no_mail_domain: number;
  unknown: number;
  countedOf: number | null;
  validatedAt: number | null;
};

/** The columns of a row of validation_runs, in the order `insert` takes them. */
export type NewRun = [
  id: string,
  batchId: string,
  seq: number,
  actor: string,
  status: ValidationRunStatus,
  startedAt: number,
  endedAt: number | null,
  checked: number,
  message: string | null,
  valid: number,
  role: number,
  disposable: number,
  noMailDomain: number,
  unknown: number,
  countedOf: number | null,
  validatedAt: number | null,
];

/** The counts columns of an UPDATE, in statement order. */
export type CountsArgs = [number, number, number, number, number, number | null, number | null];

export function toRunState(r: RunRow): RunState {
  return {
    id: r.id,
    batchId: r.batchId,
    actor: r.actor,
    startedAt: r.startedAt,
    afterId: r.afterId,
    checked: r.checked,
  };
}

/** The counts a row carries; null when none were taken yet (no contact of the batch validated). */
export function toCounts(r: RunRow): StoredCounts | null {
  if (r.countedOf === null) return null;
  return {
    valid: r.valid,
    role: r.role,
    disposable: r.disposable,
    no_mail_domain: r.no_mail_domain,
    unknown: r.unknown,
    contactCount: r.countedOf,
    finishedAt: r.validatedAt,
  };
}

export function countsArgs(c: StoredCounts | null): CountsArgs {
  if (!c) return [0, 0, 0, 0, 0, null, null];
  return [c.valid, c.role, c.disposable, c.no_mail_domain, c.unknown, c.contactCount, c.finishedAt];
}
