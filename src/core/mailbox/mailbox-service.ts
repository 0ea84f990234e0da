import { z } from 'zod';
import { DomainError } from '../../errors.js';
import { parseSender } from '../campaigns/sender.js';
import type { UnsubscribeKeys } from '../campaigns/unsubscribe-keys.js';
import type { UnsubscribeEffects } from '../campaigns/unsubscribe-store.js';
import { bounceChange } from '../contacts/hard-bounce.js';
import type { AppEvent } from '../events.js';
import { normalizeEmail } from '../keys.js';
import { decodeCursor, encodeCursor, pageLimit } from '../pagination.js';
import type { Actor, ContactInterest, CoreDeps, InboxMessageKind } from '../types.js';
import { type ComplaintPauser, complaintPauseReason } from './complaint-pause.js';
import { type InboxMessage, toInboxMessage } from './inbox-listing.js';
import type { MailboxEffects, MailboxStore, RecordOutcome, ReplyNotice } from './mailbox-store.js';
import { planRecord } from './record-plan.js';
import { type ClassifiedMessage, type MailboxRef, unknownMessage } from './types.js';

export type { InboxMessage } from './inbox-listing.js';
export type { ReplyNotice } from './mailbox-store.js';

/** Reads a raw message into what it is (classify/index.ts); never throws for a bad message. */
export type Classifier = (raw: Buffer) => Promise<ClassifiedMessage>;

export type MailboxSettings = {
  /** MAIL_UNSUBSCRIBE_MAILTO (or the MAIL_FROM address); undefined: none. */
  unsubscribeMailto: string | undefined;
  /** The mailto address is not a sending From: every message to it asks to be unsubscribed. */
  dedicatedMailto: boolean;
  /** SOFT_BOUNCE_LIMIT. */
  softBounceLimit: number;
};

const cursorSchema = z.number().int().positive();

/**
 * The mailbox settings from the mail configuration. The mailto address counts as dedicated (any
 * message to it unsubscribes its sender) only when it is not the MAIL_FROM address; otherwise
 * (the default: replies go there too) only an `unsubscribe …` subject does.
 */
export function mailboxSettings(
  mail: { unsubscribeMailto: string | undefined; from: string | undefined },
  softBounceLimit: number,
): MailboxSettings {
  const mailto = mail.unsubscribeMailto ? normalizeEmail(mail.unsubscribeMailto) : undefined;
  const sender = mail.from ? parseSender(mail.from) : null;
  const from = sender?.ok ? normalizeEmail(sender.mailbox.address) : undefined;
  return {
    unsubscribeMailto: mailto,
    dedicatedMailto: mailto !== undefined && from !== undefined && mailto !== from,
    softBounceLimit,
  };
}

/** A message the classifier could not read at all: kept for a person as `unknown`. */
const unreadable = (note: string): ClassifiedMessage => unknownMessage(note.slice(0, 300));

/** What a record did, in one word for the log line. */
function effectOf(o: Extract<RecordOutcome, { kind: 'recorded' }>): string {
  if (o.hardBounced > 0) return 'hard_bounce';
  if (o.softSuppressed > 0) return 'soft_bounce_limit';
  if (o.softBounced > 0) return 'soft_bounce';
  if (o.complained) return 'complaint';
  if (o.unsubscribed) return 'unsubscribed';
  if (o.replied) return 'replied';
  return 'none';
}

/**
 * The mailbox (INBOX_URL): what happens to a message once read. Each message is classified,
 * matched to a send, and recorded with all its effects (bounce rule, soft-bounce limit,
 * complaint, reply, unsubscribe) in one store call; (mailbox, UIDVALIDITY, UID) makes it once.
 */
export class MailboxService {
  private readonly log;
  constructor(
    private readonly deps: CoreDeps & {
      store: MailboxStore;
      keys: UnsubscribeKeys;
      campaigns: ComplaintPauser;
      classify: Classifier;
      emit: (e: AppEvent) => void;
    },
    private readonly settings: MailboxSettings,
  ) {
    this.log = deps.log.child({ module: 'mailbox' });
  }

  /** Whether a message was processed already (the reader skips it). */
  seen(ref: MailboxRef): Promise<boolean> {
    return this.deps.store.seen(ref);
  }

  /**
   * Classifies, matches and records one message with its effects; 'duplicate' for a ref seen
   * before. Throws only when the database fails (the reader then tries the message again later).
   */
  async process(ref: MailboxRef, raw: Buffer): Promise<{ id: number; kind: InboxMessageKind } | 'duplicate'> {
    if (await this.deps.store.seen(ref)) return 'duplicate';
    let message: ClassifiedMessage;
    try {
      message = await this.deps.classify(raw);
    } catch (e) {
      message = unreadable(`could not be read: ${e instanceof Error ? e.message : String(e)}`);
    }
    const now = this.deps.clock.now();
    const keys = await this.deps.keys.all();
    const record = planRecord(ref, message, { ...this.settings, keys }, this.effects(now), now);
    const out = await this.deps.store.record(record);
    if (out.kind === 'duplicate') return 'duplicate';
    this.log.info(
      {
        inboxMessageId: out.id,
        kind: record.kind,
        matched: out.match?.by ?? false,
        campaignId: out.match?.campaignId ?? null,
        effect: effectOf(out),
        ...(record.bounces.length > 0 ? { recipients: record.bounces.length, hard: out.hardBounced } : {}),
      },
      'inbox message processed',
    );
    if (out.complaintFigures) await this.pauseOnComplaints(out.complaintFigures);
    if (record.kind === 'reply' && out.match) this.deps.emit({ type: 'reply_received', messageId: out.id });
    // The campaign's figures (replies, complaints, bounces) changed: its progress message follows.
    if (out.match?.campaignId && effectOf(out) !== 'none')
      this.deps.emit({ type: 'progress', campaignId: out.match.campaignId });
    return { id: out.id, kind: record.kind };
  }

  /** Read messages, newest first, by cursor; optionally one kind or one campaign (REST `GET /inbox/messages`). */
  async list(
    query: { kind?: InboxMessageKind; campaignId?: string; limit?: number; cursor?: string } = {},
  ): Promise<{ messages: InboxMessage[]; nextCursor: string | null }> {
    const limit = pageLimit(query.limit, 200);
    const rows = await this.deps.store.list({
      kind: query.kind,
      campaignId: query.campaignId,
      beforeId: query.cursor ? decodeCursor(query.cursor, cursorSchema) : undefined,
      limit: limit + 1,
    });
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return {
      messages: page.map(toInboxMessage),
      nextCursor: rows.length > limit && last ? encodeCursor(last.id) : null,
    };
  }

  /** One read message, or throws not_found. */
  async get(id: number): Promise<InboxMessage> {
    const row = await this.deps.store.get(id);
    if (!row) throw new DomainError('not_found', `No inbox message ${id}.`);
    return toInboxMessage(row);
  }

  /** Matched human replies whose Slack notice is not posted yet, oldest first. */
  pendingNotices(limit = 20): Promise<ReplyNotice[]> {
    return this.deps.store.pendingNotices(limit);
  }

  /** One reply's notice data (after `reply_received`), or null. */
  notice(messageId: number): Promise<ReplyNotice | null> {
    return this.deps.store.notice(messageId);
  }

  /** Records where a reply's notice was posted (JSON the transport owns); false: no such reply. */
  markNoticed(messageId: number, noticeRef: string): Promise<boolean> {
    return this.deps.store.markNoticed(messageId, noticeRef, this.deps.clock.now());
  }

  /** Stores what a person decided about the reply's contact; the notice data to re-render. */
  async setInterest(messageId: number, interest: ContactInterest, actor: Actor): Promise<ReplyNotice> {
    const notice = await this.deps.store.setInterest(messageId, interest, this.deps.clock.now());
    if (!notice) throw new DomainError('not_found', `No reply ${messageId} matched to a contact.`);
    this.log.info(
      { inboxMessageId: messageId, contactId: notice.contactId, interest, actor },
      'interest set',
    );
    if (notice.campaignId) this.deps.emit({ type: 'progress', campaignId: notice.campaignId });
    return notice;
  }

  /** Unsubscribes the sender of a matched reply (the notice's button); the notice data to re-render. */
  async unsubscribeSender(messageId: number, actor: Actor): Promise<ReplyNotice> {
    const now = this.deps.clock.now();
    const notice = await this.deps.store.unsubscribeSender(messageId, actor, now, {
      ...this.unsubscribeEffects(now),
      reason: (campaignId) => `unsubscribed by ${actor} from the reply notice (reply to ${campaignId})`,
    });
    if (!notice) throw new DomainError('not_found', `No reply ${messageId} matched to a send.`);
    this.log.info(
      { inboxMessageId: messageId, contactId: notice.contactId, actor },
      'reply sender unsubscribed',
    );
    return notice;
  }

  /** A complaint's campaign pauses itself above 0.1 % complaints after 1,000 delivered messages. */
  private async pauseOnComplaints(f: {
    campaignId: string;
    complaints: number;
    sent: number;
  }): Promise<void> {
    const reason = complaintPauseReason(f);
    if (!reason || !(await this.deps.campaigns.pauseFor(f.campaignId, reason))) return;
    this.log.warn(
      { campaignId: f.campaignId, complaints: f.complaints, sent: f.sent },
      'campaign auto-paused on complaint rate',
    );
    this.deps.emit({ type: 'paused', campaignId: f.campaignId, reason });
  }

  private unsubscribeEffects(now: number): UnsubscribeEffects {
    const webhooks = this.deps.webhooks;
    return {
      reason: (campaignId) => `asked by e-mail to be removed (reply to ${campaignId})`,
      webhooks: (found) => webhooks?.deliveries('contact.unsubscribed', found, now) ?? [],
    };
  }

  private effects(now: number): MailboxEffects {
    return {
      hardBounce: (b) => bounceChange(b, this.deps.webhooks),
      complaintReason: (campaignId) =>
        `spam complaint about ${campaignId} (feedback report read from the mailbox)`,
      replyReason: (campaignId) => `replied to ${campaignId}`,
      unsubscribe: this.unsubscribeEffects(now),
      unsubscribedByEmail: 'asked by e-mail to be removed',
    };
  }
}
