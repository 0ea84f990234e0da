import type { WebhookDeliveryState } from '../types.js';
import type { WebhookEvent } from './webhook-outbox.js';

/**
 * One pending delivery of an event to one URL, as the outbox builds it: the store of the change
 * it reports inserts it in the change's transaction.
 */
export type WebhookDelivery = {
  event: WebhookEvent;
  /** The URL without credentials: the dispatcher takes them from WEBHOOK_URLS when it posts. */
  url: string;
  payload: string;
  createdAt: number;
  nextAttemptAt: number;
};

/** One delivery of the outbox as stored (its URL without credentials, unless an old row kept them). */
export type DeliveryRow = {
  id: number;
  event: string;
  url: string;
  payload: string;
  state: WebhookDeliveryState;
  attempts: number;
  nextAttemptAt: number | null;
  lastStatus: number | null;
  lastError: string | null;
  createdAt: number;
  deliveredAt: number | null;
};

/** What one attempt came to: delivered, or failed and retried at `retryAt` (null: failed for good). */
export type AttemptOutcome =
  | { kind: 'delivered'; attempts: number; status: number; at: number }
  | { kind: 'failed'; attempts: number; status: number | null; error: string; retryAt: number | null };

/**
 * The delivery log as the dispatcher and the transports see it (`webhook_deliveries`; the rows
 * themselves are inserted by the store of each change, in its transaction). Each method is one
 * atomic unit of work.
 */
export interface WebhookStore {
  /** Takes up to `limit` pending deliveries due at `now`, oldest due first, and moves their next attempt to `leaseUntil`. */
  claimDue(q: { now: number; leaseUntil: number; limit: number }): Promise<DeliveryRow[]>;
  /** Records an attempt's outcome on its delivery. */
  settle(id: number, outcome: AttemptOutcome): Promise<void>;
  /** Deliveries newest first (by id), below `beforeId` when given, optionally in one state. */
  listNewestFirst(q: {
    state?: WebhookDeliveryState;
    beforeId?: number;
    limit: number;
  }): Promise<DeliveryRow[]>;
}
