export type { CountsArgs, NewRun, RunRow } from '../validation-run-rows.js';
export { countsArgs, toCounts, toRunState } from '../validation-run-rows.js';

/* The rows of validation_runs as the SQLite ValidationStore reads and writes them. */

export type BatchInfo = { id: string; status: string; contactCount: number; includeInvalidDomains: number };

export const runColumns = `id, batch_id AS batchId, seq, actor, status, started_at AS startedAt, ended_at AS endedAt,
  after_id AS afterId, checked, message, valid, role, disposable, no_mail_domain, unknown,
  counted_of AS countedOf, validated_at AS validatedAt`;
export const setCounts = `valid = ?, role = ?, disposable = ?, no_mail_domain = ?, unknown = ?, counted_of = ?, validated_at = ?`;

export { zeroCounts } from '../../core/vocabulary.js';
