import type {
  CampaignStatus,
  ContactInterest,
  ContactStatus,
  InboxMessageKind,
  SendStatus,
} from '../types.js';
import { toIso } from '../types.js';
import { type PersonRows, type SendRow, statusAt, wasActiveAt } from './person-rows.js';

/** Why a campaign did not mail the address, as far as the data tells. */
export type NotMailedReason =
  | 'no_contact'
  | 'never_ran'
  | 'pending'
  | 'not_imported_yet'
  | 'not_in_active_batch'
  | 'status_not_active'
  | 'suppressed'
  | 'no_mail_domain'
  | 'unexplained';

export type CampaignVerdict = {
  campaignId: string;
  campaignName: string;
  campaignStatus: CampaignStatus;
  startedAt: string | null;
} & (
  | {
      mailed: true;
      status: SendStatus;
      attempts: number;
      messageId: string | null;
      /** The last SMTP answer. */
      response: string | null;
      at: string;
      /** When the mailbox matched a human reply, a complaint, a soft bounce to the message (null: none). */
      repliedAt: string | null;
      complainedAt: string | null;
      softBouncedAt: string | null;
    }
  | { mailed: false; reason: NotMailedReason; detail: string }
);

export type WhyAnswer = {
  email: string;
  contact: {
    id: number;
    status: ContactStatus;
    /** What a person decided after they replied (null: nobody did). */
    interest: ContactInterest | null;
    validation: string | null;
    createdAt: string;
  } | null;
  batch: {
    id: string;
    name: string;
    status: string;
    activeNow: boolean;
    /** Activations and deactivations, oldest first. */
    events: { kind: string; actor: string; at: string }[];
  } | null;
  history: { at: string; from: string | null; to: string; actor: string; reason: string | null }[];
  /** Whether and why the address is suppressed (reason, who, when); null: it is not. */
  suppression: { reason: string; actor: string; at: string } | null;
  /** Every campaign, newest first (at most the limit). */
  campaigns: CampaignVerdict[];
  /** Messages read from the mailbox matched to the contact or bouncing the address, newest first (at most the limit). */
  inbox: {
    id: number;
    kind: InboxMessageKind;
    subject: string | null;
    receivedAt: string;
    campaignId: string | null;
  }[];
};

/** How a status reads in "the contact was …". */
const statusPhrase = (status: string): string =>
  status === 'replied'
    ? 'replied (people who replied are left out of campaigns until someone sets them active)'
    : status === 'complained'
      ? 'complained (reported a message as spam)'
      : status;

/** Builds the "why" answer from what the database holds about one address. */
export function explain(rows: PersonRows, now: number): WhyAnswer {
  const { contact, batch, batchEvents, history, suppression } = rows;
  const sendByCampaign = new Map<string, SendRow>();
  for (const s of rows.sends) if (!sendByCampaign.has(s.campaignId)) sendByCampaign.set(s.campaignId, s);
  const campaigns = rows.campaigns.map((c): CampaignVerdict => {
    const base = {
      campaignId: c.id,
      campaignName: c.name,
      campaignStatus: c.status,
      startedAt: toIso(c.startedAt),
    };
    const send = sendByCampaign.get(c.id);
    if (send)
      return {
        ...base,
        mailed: true,
        status: send.status,
        attempts: send.attempts,
        messageId: send.messageId,
        response: send.response,
        at: toIso(send.updatedAt)!,
        repliedAt: toIso(send.repliedAt),
        complainedAt: toIso(send.complainedAt),
        softBouncedAt: toIso(send.softBouncedAt),
      };
    const no = (reason: NotMailedReason, detail: string): CampaignVerdict => ({
      ...base,
      mailed: false,
      reason,
      detail,
    });
    if (c.startedAt == null) {
      const when = c.nextRunAt ? ` (next run ${toIso(c.nextRunAt)})` : '';
      return no('never_ran', `the campaign has not run yet (${c.status})${when}`);
    }
    const running = c.status === 'sending' || c.status === 'paused';
    // When the campaign chose its recipients: now while it runs, else when its last run began.
    const at = running ? now : (c.runStartedAt ?? c.startedAt);
    if (!contact) {
      if (suppression && suppression.createdAt <= at)
        return no('suppressed', `the address is suppressed (${suppression.reason})`);
      return no('no_contact', 'the address is not a contact');
    }
    if (contact.createdAt > at)
      return no(
        'not_imported_yet',
        `the contact was imported after the campaign ran (${toIso(contact.createdAt)})`,
      );
    if (batch && !wasActiveAt(batch, batchEvents, at))
      return no('not_in_active_batch', `its batch ${batch.id} was not the active batch then`);
    const status = statusAt(contact.status, history, at);
    if (status.status !== 'active')
      return no(
        'status_not_active',
        `the contact was ${statusPhrase(status.status)}` +
          (status.by ? ` (set by ${status.by.actor} at ${toIso(status.by.at)})` : ''),
      );
    if (suppression && suppression.createdAt <= at)
      return no(
        'suppressed',
        `the address was suppressed (${suppression.reason}) on ${toIso(suppression.createdAt)}`,
      );
    if (
      contact.validation === 'no_mail_domain' &&
      (contact.validatedAt ?? 0) <= at &&
      !includedInvalidAt(batch?.includeInvalidDomains ?? false, batchEvents, at)
    )
      return no('no_mail_domain', 'validation found that its domain receives no mail (excluded)');
    if (running)
      return no('pending', 'still pending: the campaign is running and the contact is in its audience');
    return no('unexplained', 'no ledger row, and the data does not show why (it may have changed since)');
  });
  return {
    email: rows.email,
    contact: contact
      ? {
          id: contact.id,
          status: contact.status,
          interest: contact.interest,
          validation: contact.validation,
          createdAt: toIso(contact.createdAt)!,
        }
      : null,
    batch: batch
      ? {
          id: batch.id,
          name: batch.name,
          status: batch.status,
          activeNow: batch.status === 'active',
          events: batchEvents
            .filter((e) => e.kind === 'activated' || e.kind === 'deactivated')
            .map((e) => ({ kind: e.kind, actor: e.actor, at: toIso(e.at)! })),
        }
      : null,
    history: history.map((h) => ({
      at: toIso(h.at)!,
      from: h.fromStatus,
      to: h.toStatus,
      actor: h.actor,
      reason: h.reason,
    })),
    suppression: suppression
      ? { reason: suppression.reason, actor: suppression.actor, at: toIso(suppression.createdAt)! }
      : null,
    campaigns,
    inbox: rows.inbox.map((m) => ({
      id: m.id,
      kind: m.kind,
      subject: m.subject,
      receivedAt: toIso(m.receivedAt)!,
      campaignId: m.campaignId,
    })),
  };
}

/** Whether an admin had included the batch's no-mail-domain contacts at that time. */
function includedInvalidAt(current: boolean, events: PersonRows['batchEvents'], at: number): boolean {
  const relevant = events.filter(
    (e) => e.kind === 'included_invalid_domains' || e.kind === 'excluded_invalid_domains',
  );
  if (relevant.length === 0) return current;
  const last = relevant.filter((e) => e.at <= at).at(-1);
  return last ? last.kind === 'included_invalid_domains' : false;
}
