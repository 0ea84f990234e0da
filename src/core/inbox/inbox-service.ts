import type { Actor, CoreDeps } from '../types.js';
import type { FileClaim, InboxStore } from './inbox-store.js';

export type { FileClaim } from './inbox-store.js';

const eventMemoryMs = 7 * 24 * 3600 * 1000;

/** Exactly-once bookkeeping for things that arrive from outside: remote files and event ids. */
export class InboxService {
  private readonly log;
  constructor(
    private readonly deps: Pick<CoreDeps, 'log' | 'clock'>,
    private readonly store: InboxStore,
  ) {
    this.log = deps.log.child({ module: 'inbox' });
  }

  /** Records an inbound event id; false when it was seen before (a retry or a redelivery). */
  firstDelivery(eventId: string): Promise<boolean> {
    return this.store.recordEvent(eventId, this.deps.clock.now());
  }

  /** Forgets event ids older than a week (Slack retries within minutes). */
  pruneEvents(): Promise<number> {
    return this.store.forgetEventsBefore(this.deps.clock.now() - eventMemoryMs);
  }

  /** Takes a remote file for import; false when it was already taken (by any process, before or after a restart). */
  async claimFile(externalId: string, actor: Actor, replyTo: string | null): Promise<boolean> {
    const claimed = await this.store.claimFile({ externalId, actor, replyTo, at: this.deps.clock.now() });
    if (claimed) this.log.info({ externalId, actor }, 'file claimed for import');
    return claimed;
  }

  /** Stores where the answer about a claimed file lives (e.g. the message to update). */
  setReplyTo(externalId: string, replyTo: string): Promise<void> {
    return this.store.setReplyTo(externalId, replyTo, this.deps.clock.now());
  }

  /** Marks a claimed file as imported into a batch. */
  async fileImported(externalId: string, batchId: string): Promise<void> {
    await this.store.settleFile(externalId, { state: 'imported', batchId }, this.deps.clock.now());
    this.log.info({ externalId, batchId }, 'file imported');
  }

  /** Marks a claimed file as refused or failed, with the error code. */
  async fileFailed(externalId: string, errorCode: string): Promise<void> {
    await this.store.settleFile(externalId, { state: 'failed', errorCode }, this.deps.clock.now());
    this.log.info({ externalId, errorCode }, 'file import failed');
  }

  /** The claim of a remote file, or null when it was never claimed. */
  getFile(externalId: string): Promise<FileClaim | null> {
    return this.store.findFile(externalId);
  }

  /** Claims a crash left unfinished: marked failed (`interrupted`) and returned so the transport can tell people. */
  async sweepInterruptedFiles(): Promise<FileClaim[]> {
    const swept = await this.store.failClaimedFiles('interrupted', this.deps.clock.now());
    if (swept.length > 0) this.log.warn({ count: swept.length }, 'file imports interrupted by a restart');
    return swept;
  }
}
