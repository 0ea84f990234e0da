export type { CountsArgs, NewRun, RunRow } from '../validation-run-rows.js';
export { countsArgs, toCounts, toRunState } from '../validation-run-rows.js';

import type { PgExec } from './client.js';

/* The rows of validation_runs as the Postgres ValidationStore reads and writes them. */

export type BatchInfo = { id: string; status: string; contactCount: number; includeInvalidDomains: boolean };

/** camelCase names quoted: unquoted, Postgres would fold them to lower case. */
export const runColumns = `id, batch_id AS "batchId", seq, actor, status, started_at AS "startedAt",
  ended_at AS "endedAt", after_id AS "afterId", checked, message, valid, role, disposable, no_mail_domain,
  unknown, counted_of AS "countedOf", validated_at AS "validatedAt"`;

/** `valid = $n, …` for the seven CountsArgs, numbered from `$first`. */
export const setCounts = (first: number): string =>
  ['valid', 'role', 'disposable', 'no_mail_domain', 'unknown', 'counted_of', 'validated_at']
    .map((column, i) => `${column} = $${first + i}`)
    .join(', ');

export { zeroCounts } from '../../core/vocabulary.js';

/** The first key of the validation locks ('vali'); the second is the batch id's hash. */
const validationLockSpace = 0x76616c69;

/**
 * Takes the batch's validation lock until the transaction ends. SQLite has one writer; here
 * several instances may start, advance, finish or recount a batch's runs at once, and each of
 * those reads the batch's latest row before it writes one: under this lock they take turns, per
 * batch. Taken first, before any row lock, so it never closes a cycle of waits (a deadlock). Two
 * batches whose ids hash alike merely take turns too.
 */
export async function lockBatchValidation(exec: PgExec, batchId: string): Promise<void> {
  await exec.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [validationLockSpace, batchId]);
}
