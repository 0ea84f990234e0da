import type { FileImportState } from '../types.js';

/** A remote file taken for import, and what became of it. */
export type FileClaim = {
  externalId: string;
  state: FileImportState;
  batchId: string | null;
  actor: string;
  /** Where the answer about the file lives, as JSON the transport owns (e.g. a Slack message). */
  replyTo: string | null;
  errorCode: string | null;
};

/** What became of a claimed file. */
export type FileOutcome = { state: 'imported'; batchId: string } | { state: 'failed'; errorCode: string };

/**
 * The exactly-once bookkeeping of things that arrive from outside (`processed_events`,
 * `file_imports`): the only code that writes them. Each method is one atomic unit of work.
 */
export interface InboxStore {
  /** Records an inbound event id; false when it was recorded before. */
  recordEvent(eventId: string, at: number): Promise<boolean>;
  /** Forgets event ids recorded before `cutoff`; resolves with how many. */
  forgetEventsBefore(cutoff: number): Promise<number>;
  /** Inserts the file as `claimed`; false when it is known already (in any state). */
  claimFile(claim: {
    externalId: string;
    actor: string;
    replyTo: string | null;
    at: number;
  }): Promise<boolean>;
  /** Stores where the answer about a file lives. */
  setReplyTo(externalId: string, replyTo: string, at: number): Promise<void>;
  /** Records what became of a file. */
  settleFile(externalId: string, outcome: FileOutcome, at: number): Promise<void>;
  /** The file, or null when it was never claimed. */
  findFile(externalId: string): Promise<FileClaim | null>;
  /** Every file still `claimed` becomes `failed` with `errorCode`, in one transaction; resolves with them as they are now. */
  failClaimedFiles(errorCode: string, at: number): Promise<FileClaim[]>;
}
