import { eq, lt } from 'drizzle-orm';
import { fileImports, processedEvents } from '../../db/schema.js';
import type { Actor, CoreDeps, FileImportState } from '../types.js';

export type FileClaim = {
  externalId: string;
  state: FileImportState;
  batchId: string | null;
  actor: string;
  replyTo: string | null;
  errorCode: string | null;
};

const eventMemoryMs = 7 * 24 * 3600 * 1000;

/** Exactly-once bookkeeping for things that arrive from outside: remote files and event ids. */
export class InboxService {
  private readonly log;
  constructor(private readonly deps: CoreDeps) {
    this.log = deps.log.child({ module: 'inbox' });
  }

  /** Records an inbound event id; false when it was seen before (a retry or a redelivery). */
  firstDelivery(eventId: string): boolean {
    const now = this.deps.clock.now();
    const r = this.deps.db.insert(processedEvents).values({ eventId, at: now }).onConflictDoNothing().run();
    return r.changes === 1;
  }

  /** Forgets event ids older than a week (Slack retries within minutes). */
  pruneEvents(): number {
    const cutoff = this.deps.clock.now() - eventMemoryMs;
    return this.deps.db.delete(processedEvents).where(lt(processedEvents.at, cutoff)).run().changes;
  }

  /** Takes a remote file for import; false when it was already taken (by any process, before or after a restart). */
  claimFile(externalId: string, actor: Actor, replyTo: string | null): boolean {
    const now = this.deps.clock.now();
    const r = this.deps.db
      .insert(fileImports)
      .values({ externalId, state: 'claimed', actor, replyTo, createdAt: now, updatedAt: now })
      .onConflictDoNothing()
      .run();
    if (r.changes === 1) this.log.info({ externalId, actor }, 'file claimed for import');
    return r.changes === 1;
  }

  /** Stores where the answer about a claimed file lives (e.g. the message to update). */
  setReplyTo(externalId: string, replyTo: string): void {
    this.deps.db
      .update(fileImports)
      .set({ replyTo, updatedAt: this.deps.clock.now() })
      .where(eq(fileImports.externalId, externalId))
      .run();
  }

  /** Marks a claimed file as imported into a batch. */
  fileImported(externalId: string, batchId: string): void {
    this.setState(externalId, 'imported', { batchId });
    this.log.info({ externalId, batchId }, 'file imported');
  }

  /** Marks a claimed file as refused or failed, with the error code. */
  fileFailed(externalId: string, errorCode: string): void {
    this.setState(externalId, 'failed', { errorCode });
    this.log.info({ externalId, errorCode }, 'file import failed');
  }

  getFile(externalId: string): FileClaim | null {
    return (
      this.deps.db.select().from(fileImports).where(eq(fileImports.externalId, externalId)).get() ?? null
    );
  }

  /** Claims a crash left unfinished: marked failed (`interrupted`) and returned so the transport can tell people. */
  sweepInterruptedFiles(): FileClaim[] {
    const rows = this.deps.db.select().from(fileImports).where(eq(fileImports.state, 'claimed')).all();
    for (const r of rows) this.setState(r.externalId, 'failed', { errorCode: 'interrupted' });
    if (rows.length > 0) this.log.warn({ count: rows.length }, 'file imports interrupted by a restart');
    return rows.map((r) => ({ ...r, state: 'failed' as const, errorCode: 'interrupted' }));
  }

  private setState(
    externalId: string,
    state: FileImportState,
    extra: { batchId?: string; errorCode?: string },
  ) {
    this.deps.db
      .update(fileImports)
      .set({ state, ...extra, updatedAt: this.deps.clock.now() })
      .where(eq(fileImports.externalId, externalId))
      .run();
  }
}
