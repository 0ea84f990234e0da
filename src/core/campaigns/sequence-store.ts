import type { SequenceStopReason } from '../vocabulary.js';

/**
 * Where a person stands in a campaign's sequence (PRODUCT.md §8): waiting (a follow-up is due, or
 * their last step is being sent), stopped (a stop reason), finished (otherwise: the last step sent,
 * or a step that ended failed/unknown/bounced).
 */
export const sequencePersonStates = ['waiting', 'stopped', 'finished'] as const;
export type SequencePersonState = (typeof sequencePersonStates)[number];

/** One person of a campaign, as the store reads them (their ledger, and sequence_people if any). */
export type SequencePersonRow = {
  campaignId: string;
  contactId: number;
  email: string;
  state: SequencePersonState;
  /** The last step the server took for them (0: none yet: step 1 still being sent, or it failed). */
  step: number;
  /** A step is being sent to them now (its ledger row is claimed or waiting for a retry). */
  inFlight: boolean;
  nextDueAt: number | null;
  stopReason: SequenceStopReason | null;
  stoppedAt: number | null;
};

/** A person's place in one campaign's sequence, with the campaign's name (`/contacts why`). */
export type ContactSequenceRow = SequencePersonRow & { campaignName: string };

/** What a "Stop sequence" did. */
export type SequenceStopOutcome =
  | { kind: 'stopped'; person: SequencePersonRow }
  /** Not waiting for a follow-up (stopped, finished, or step 1 still being sent): nothing changed. */
  | { kind: 'not_waiting'; person: SequencePersonRow }
  /** The contact has no message in the campaign (or is no longer held). */
  | { kind: 'missing' };

/**
 * The people of campaigns' sequences: every person who has a step-1 ledger row, with their place
 * in the sequence (`sequence_people`: only campaigns with follow-ups have rows). Each method is one
 * atomic unit of work. The stops made by other events are written by the stores of those events,
 * in their own transactions.
 */
export interface SequenceStore {
  /** A campaign's people by contact id, after `afterContactId`, at most `limit`, in `state` when given. */
  people(
    campaignId: string,
    query: { state?: SequencePersonState | undefined; afterContactId: number; limit: number },
  ): Promise<SequencePersonRow[]>;
  /** One person of a campaign; null when the contact has no message there. */
  person(campaignId: string, contactId: number): Promise<SequencePersonRow | null>;
  /** A contact's sequences (campaigns with follow-ups), newest campaign first, at most `limit`. */
  ofContact(contactId: number, limit: number): Promise<ContactSequenceRow[]>;
  /** "Stop sequence": a person waiting (a follow-up due, or a later step in flight) becomes stopped (`stopped`) at `at`. */
  stop(campaignId: string, contactId: number, at: number): Promise<SequenceStopOutcome>;
}
