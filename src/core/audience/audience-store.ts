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
 * Reads of the audience rule (who may be mailed now): the rule itself lives once in the store's
 * implementation. Each method one query.
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
}
