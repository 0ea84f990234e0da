import { eq, lt } from 'drizzle-orm';
import type { FileClaim, FileOutcome, InboxStore } from '../../core/inbox/inbox-store.js';
import type { Db } from '../client.js';
import { fileImports, processedEvents } from '../schema.js';

const claimColumns = {
  externalId: fileImports.externalId,
  state: fileImports.state,
  batchId: fileImports.batchId,
  actor: fileImports.actor,
  replyTo: fileImports.replyTo,
  errorCode: fileImports.errorCode,
};

/** The SQLite InboxStore: `processed_events` and `file_imports`, each write one statement or one transaction. */
export class SqliteInboxStore implements InboxStore {
  constructor(private readonly db: Db) {}

  async recordEvent(eventId: string, at: number): Promise<boolean> {
    const r = this.db.insert(processedEvents).values({ eventId, at }).onConflictDoNothing().run();
    return r.changes === 1;
  }

  async forgetEventsBefore(cutoff: number): Promise<number> {
    return this.db.delete(processedEvents).where(lt(processedEvents.at, cutoff)).run().changes;
  }

  async claimFile(claim: {
    externalId: string;
    actor: string;
    replyTo: string | null;
    at: number;
  }): Promise<boolean> {
    const { externalId, actor, replyTo, at } = claim;
    const r = this.db
      .insert(fileImports)
      .values({ externalId, state: 'claimed', actor, replyTo, createdAt: at, updatedAt: at })
      .onConflictDoNothing()
      .run();
    return r.changes === 1;
  }

  async setReplyTo(externalId: string, replyTo: string, at: number): Promise<void> {
    this.db
      .update(fileImports)
      .set({ replyTo, updatedAt: at })
      .where(eq(fileImports.externalId, externalId))
      .run();
  }

  async settleFile(externalId: string, outcome: FileOutcome, at: number): Promise<void> {
    this.db
      .update(fileImports)
      .set({ ...outcome, updatedAt: at })
      .where(eq(fileImports.externalId, externalId))
      .run();
  }

  async findFile(externalId: string): Promise<FileClaim | null> {
    return (
      this.db.select(claimColumns).from(fileImports).where(eq(fileImports.externalId, externalId)).get() ??
      null
    );
  }

  async failClaimedFiles(errorCode: string, at: number): Promise<FileClaim[]> {
    // One statement: the rows it changed, as they are now.
    return this.db
      .update(fileImports)
      .set({ state: 'failed', errorCode, updatedAt: at })
      .where(eq(fileImports.state, 'claimed'))
      .returning(claimColumns)
      .all();
  }
}
