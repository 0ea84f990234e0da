import type { UnsubscribeEffects } from '../campaigns/unsubscribe-store.js';
import type { BounceChange, HardBounce } from '../suppression/suppression-store.js';
import type { Actor, ContactInterest, InboxMessageKind } from '../vocabulary.js';
import type { BounceRecipient, MailboxRef } from './types.js';

export type { BounceRecipient, MailboxRef } from './types.js';

/**
 * How a read message is matched to a send (common15: the tag first, then a Message-ID stored on
 * the ledger, then the address among contacts mailed recently). The store resolves it inside the
 * record's transaction.
 */
export type SendMatchQuery = {
  /** A send named by a tag that verified (VERP address or our Message-ID); null: none. */
  taggedSendId: number | null;
  /** Message-IDs the message quotes (In-Reply-To, References, the original's), looked up on sends.message_id. */
  messageIds: string[];
  /** Normalized addresses, in order, looked up among contacts mailed at or after `since`. */
  addresses: string[];
  since: number;
};

/** How a message or a bounce recipient was matched. */
export type MatchedBy = 'tag' | 'message_id' | 'address' | 'unsubscribe_token';

/** The send a message was matched to, as the store found it. */
export type MatchedSend = {
  sendId: number;
  campaignId: string;
  contactId: number | null;
  by: MatchedBy;
};

/** A reply that unsubscribes its sender: which send (from a verified token), else by address. */
export type UnsubscribeRequest = {
  /** The send a verified `unsubscribe <token>` subject names; null: none. */
  tokenSendId: number | null;
  /** Whether the reply counts as a reply too (sends.replied_at); false for a message to the mailto address. */
  isReply: boolean;
};

/**
 * What a record writes besides the fixed rows, built by core and called inside the transaction
 * (pure: no I/O): the texts of history rows and the webhook rows.
 */
export type MailboxEffects = {
  /** A matched hard bounce: the bounce rule's history reason and webhooks (contacts/hard-bounce.ts). */
  hardBounce(b: HardBounce): BounceChange;
  /** The history reason of a complaint about a message of this campaign. */
  complaintReason(campaignId: string): string;
  /** The history reason of a reply to a message of this campaign. */
  replyReason(campaignId: string): string;
  /** An unsubscribe asked for by e-mail: the unsubscribe store's own effects. */
  unsubscribe: UnsubscribeEffects;
  /** The history reason when an unsubscribe by e-mail names no send (a contact never mailed). */
  unsubscribedByEmail: string;
};

/** One processed message and everything it does, written in one transaction. */
export type InboxRecord = {
  ref: MailboxRef;
  kind: InboxMessageKind;
  from: string | null;
  subject: string;
  messageId: string | null;
  receivedAt: number;
  snippet: string | null;
  /** JSON for a person (complaint details, why unknown, bounce diagnostics). */
  details: string | null;
  match: SendMatchQuery;
  /** A bounce's recipients (kind `bounce`); each is matched and applied on its own. */
  bounces: RecordedBounce[];
  /** Kind `reply`: it asks to be removed (or came to the unsubscribe mailto); null: an ordinary reply. */
  unsubscribe: UnsubscribeRequest | null;
  softBounce: { limit: number; windowMs: number };
  effects: MailboxEffects;
  now: number;
};

/** A bounce recipient to record, with the text its hard bounce writes on the ledger row (no address). */
export type RecordedBounce = { recipient: BounceRecipient; response: string };

/** What a record did. */
export type RecordOutcome =
  | { kind: 'duplicate' }
  | {
      kind: 'recorded';
      id: number;
      /** The message's send (for a bounce: the first matched recipient's), null: none matched. */
      match: MatchedSend | null;
      hardBounced: number;
      softBounced: number;
      /** Addresses that reached the soft-bounce limit and were suppressed now. */
      softSuppressed: number;
      complained: boolean;
      replied: boolean;
      unsubscribed: boolean;
      /** A complaint's campaign figures after it (for the complaint-rate pause). */
      complaintFigures: { campaignId: string; complaints: number; sent: number } | null;
    };

/** A bounce recipient as stored. */
export type StoredBounce = {
  email: string | null;
  status: string;
  permanent: boolean;
  hard: boolean;
  reason: string;
  sendId: number | null;
};

/** A read message as stored, with its bounce recipients. */
export type InboxMessageRow = {
  id: number;
  kind: InboxMessageKind;
  from: string | null;
  subject: string | null;
  messageId: string | null;
  receivedAt: number;
  sendId: number | null;
  campaignId: string | null;
  contactId: number | null;
  snippet: string | null;
  details: string | null;
  unsubscribed: boolean;
  bounces: StoredBounce[];
};

/** A human reply as its Slack notice shows it. */
export type ReplyNotice = {
  id: number;
  campaignId: string | null;
  campaignName: string | null;
  /** Where the transport shows the campaign's progress (JSON it owns), null: nowhere yet. */
  progressRef: string | null;
  contactId: number | null;
  from: string | null;
  /** The contact's name, null when unknown. */
  name: string | null;
  subject: string | null;
  snippet: string | null;
  unsubscribed: boolean;
  /** What a person decided about the contact (the notice's buttons), null: nothing yet. */
  interest: ContactInterest | null;
  receivedAt: number;
  /** Where the notice was posted (JSON the transport owns), null: not yet. */
  noticeRef: string | null;
};

/**
 * The mailbox's rows (`inbox_messages`, `inbox_bounces`) and the effects of what was read on
 * contacts, suppressions and the ledger. Each method is one atomic unit of work owning its
 * transaction.
 */
export interface MailboxStore {
  /** Whether a message (mailbox, UIDVALIDITY, UID) was processed already. */
  seen(ref: MailboxRef): Promise<boolean>;
  /**
   * Matches the message, inserts its row and bounce rows and applies every effect (hard bounce
   * rule, soft bounces and their limit, complaint, reply, unsubscribe) in one transaction; a ref
   * recorded before writes nothing (`duplicate`).
   */
  record(r: InboxRecord): Promise<RecordOutcome>;
  /** Messages newest first, after the `beforeId` cursor; optionally one kind or one campaign. */
  list(q: {
    kind?: InboxMessageKind;
    campaignId?: string;
    beforeId?: number;
    limit: number;
  }): Promise<InboxMessageRow[]>;
  /** One message, or null. */
  get(id: number): Promise<InboxMessageRow | null>;
  /** Matched human replies whose Slack notice is not posted yet, oldest first. */
  pendingNotices(limit: number): Promise<ReplyNotice[]>;
  /** One reply's notice data, or null (not a reply, or no such message). */
  notice(id: number): Promise<ReplyNotice | null>;
  /** Records where a reply's notice was posted; false when there is no such reply. */
  markNoticed(id: number, noticeRef: string, at: number): Promise<boolean>;
  /** Stores the interest on the reply's contact; the notice data after it, null without a matched contact. */
  setInterest(id: number, interest: ContactInterest, at: number): Promise<ReplyNotice | null>;
  /**
   * Unsubscribes the sender of a matched reply (the unsubscribe store's writes) and marks the
   * message unsubscribed; the notice data after it, null without a matched send.
   */
  unsubscribeSender(
    id: number,
    actor: Actor,
    at: number,
    effects: UnsubscribeEffects,
  ): Promise<ReplyNotice | null>;
}
