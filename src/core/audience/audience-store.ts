import type { SendStatusCount } from '../campaigns/campaign-store.js';

/** One contact of the audience, as a campaign addresses it. */
export type Recipient = {
  id: number;
  email: string;
  name: string | null;
  company: string | null;
  position: string | null;
};

/** The active batch, when there is one. */
export type ActiveBatch = { id: string; name: string; activatedAt: number | null };

/**
 * A campaign's figures as counted at one instant: its ledger rows by status and, when asked, the
 * active batch's contacts by reason (already_reached counted against the campaign).
 */
export type FigureRows = {
  sends: SendStatusCount[];
  audience: { batch: ActiveBatch | null; reasons: { reason: string; n: number }[] } | null;
  /** A sequence's rows per step and variant and who waits for a follow-up, when asked (`sequence`). */
  sequence?: SequenceRows | null;
  /** When they were counted (the `now` of the request that counted them, ms). */
  countedAt: number;
};

/**
 * What a figures request accepts: with `audience`, who the campaign reaches now too; with
 * `sequence`, its figures per step and variant too (SequenceRows); figures up to `maxStaleMs` old
 * when the database changed since (0: only figures that are still exact).
 */
export type FigureRequest = { audience: boolean; maxStaleMs: number; now: number; sequence?: boolean };

/** Ledger rows of one step and variant (null: the step has no variants) by status. */
export type StepStatusCount = SendStatusCount & { step: number; variant: number | null };

/**
 * What a sequence (follow-ups or variants) counts besides the campaign's rows: the rows of a later
 * step or with a variant (step 1 without variants is the campaign's rows minus these), and the
 * people waiting for a follow-up with the earliest due time (ms; null: nobody waits).
 */
export type SequenceRows = { steps: StepStatusCount[]; waiting: number; nextDueAt: number | null };

/**
 * Reads of the audience rule (who may be mailed now): the rule itself lives once in the store's
 * implementation. Each method one query (or one read transaction).
 */
export interface AudienceStore {
  /** How many contacts the audience holds now. */
  count(): Promise<number>;
  /** One page of the audience after a contact id (keyset, by id). */
  page(afterId: number, limit: number): Promise<Recipient[]>;
  /** The active batch, or null. */
  activeBatch(): Promise<ActiveBatch | null>;
  /**
   * The active batch's contacts grouped by the first reason that leaves them out (a
   * NotSendableReason, `already_reached` with a campaign id) or `sendable`: one pass over the batch.
   */
  reasons(batchId: string, campaignId: string | null): Promise<{ reason: string; n: number }[]>;
  /**
   * A campaign's figures (null: a campaign not saved yet, which has no ledger rows), counted in
   * one read. An implementation where counting is slow may answer from figures it counted earlier:
   * at once when nothing was written since (they are exact), or when they are at most
   * `maxStaleMs` old and the active batch is the same (then it counts again in the background).
   */
  figures(campaignId: string | null, request: FigureRequest): Promise<FigureRows>;
  /**
   * A campaign just saved has no ledger rows: its figures are the audience's, counted moments
   * before (`reach`, from `figures(null, …)`). An implementation that keeps figures keeps these.
   */
  seed(campaignId: string, reach: FigureRows): Promise<void>;
}
