import type pg from 'pg';
import type { FileClaim, FileOutcome, InboxStore } from '../../core/inbox/inbox-store.js';
import { type PgDb, row, rows } from './client.js';
import { leaseLapsedSql, type PgClaimer } from './leases.js';

/** Every column of a FileClaim, camelCase aliases quoted. */
const claimColumns = `external_id AS "externalId", state, batch_id AS "batchId", actor, reply_to AS "replyTo",
  error_code AS "errorCode"`;

/**
 * The Postgres InboxStore: `processed_events` and `file_imports`, each write one statement.
 * Any instance may receive the same Slack event or file; the primary key decides which one takes
 * it: `INSERT … ON CONFLICT DO NOTHING` makes a second insert of the same key wait for the first
 * to commit and then insert nothing, so exactly one instance sees its row inserted.
 */
export class PgInboxStore implements InboxStore {
  private readonly pool: pg.Pool;

  /** `claimer`: the instance whose file claims these are (`claimed_by`, the lease); null: none. */
  constructor(
    db: PgDb,
    private readonly claimer: PgClaimer = null,
  ) {
    this.pool = db.$client;
  }

  async recordEvent(eventId: string, at: number): Promise<boolean> {
    const r = await this.pool.query(
      'INSERT INTO processed_events (event_id, at) VALUES ($1, $2) ON CONFLICT DO NOTHING',
      [eventId, at],
    );
    return r.rowCount === 1;
  }

  async forgetEventsBefore(cutoff: number): Promise<number> {
    const r = await this.pool.query('DELETE FROM processed_events WHERE at < $1', [cutoff]);
    return r.rowCount ?? 0;
  }

  async claimFile(claim: {
    externalId: string;
    actor: string;
    replyTo: string | null;
    at: number;
  }): Promise<boolean> {
    const r = await this.pool.query(
      `INSERT INTO file_imports (external_id, state, actor, reply_to, created_at, updated_at, claimed_by)
       VALUES ($1, 'claimed', $2, $3, $4, $4, $5) ON CONFLICT DO NOTHING`,
      [claim.externalId, claim.actor, claim.replyTo, claim.at, this.claimer?.id ?? null],
    );
    return r.rowCount === 1;
  }

  async setReplyTo(externalId: string, replyTo: string, at: number): Promise<void> {
    await this.pool.query('UPDATE file_imports SET reply_to = $2, updated_at = $3 WHERE external_id = $1', [
      externalId,
      replyTo,
      at,
    ]);
  }

  async settleFile(externalId: string, outcome: FileOutcome, at: number): Promise<void> {
    // Only the outcome's own column changes, as SQLite's update sets only the outcome's fields.
    if (outcome.state === 'imported') {
      await this.pool.query(
        `UPDATE file_imports SET state = 'imported', batch_id = $2, updated_at = $3 WHERE external_id = $1`,
        [externalId, outcome.batchId, at],
      );
      return;
    }
    await this.pool.query(
      `UPDATE file_imports SET state = 'failed', error_code = $2, updated_at = $3 WHERE external_id = $1`,
      [externalId, outcome.errorCode, at],
    );
  }

  async findFile(externalId: string): Promise<FileClaim | null> {
    const r = await row<FileClaim>(
      this.pool,
      `SELECT ${claimColumns} FROM file_imports WHERE external_id = $1`,
      [externalId],
    );
    return r ?? null;
  }

  async failClaimedFiles(errorCode: string, at: number): Promise<FileClaim[]> {
    // One statement: the rows it changed, as they are now (oldest claim first; RETURNING alone
    // has no order). Only files whose claimer is no longer alive: another live instance may be
    // importing its own right now. Two sweepers at once: the second waits on the first's rows,
    // then finds them no longer claimed (each file is failed, and answered, once).
    return rows(
      this.pool,
      `WITH failed AS (
         UPDATE file_imports SET state = 'failed', error_code = $1, updated_at = $2
          WHERE state = 'claimed' AND ${leaseLapsedSql('file_imports.claimed_by')}
          RETURNING ${claimColumns}, created_at)
       SELECT "externalId", state, "batchId", actor, "replyTo", "errorCode" FROM failed
        ORDER BY created_at, "externalId" COLLATE "C"`,
      [errorCode, at],
    );
  }
}
