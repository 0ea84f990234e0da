import { z } from 'zod';
import { DomainError } from '../../errors.js';
import { emailHash } from '../contacts/email-hash.js';
import { normalizeEmail } from '../imports/email.js';
import type { Actor, CoreDeps } from '../types.js';
import { toIso } from '../types.js';
import type { ForgetCounts, PeopleStore } from './people-store.js';
import { isKnown, type PersonRows } from './person-rows.js';
import { explain, type WhyAnswer } from './why.js';

export type { ForgetCounts } from './people-store.js';
export type { CampaignVerdict, NotMailedReason, WhyAnswer } from './why.js';

/** Campaigns `why` looks at, newest first. */
export const whyCampaignLimit = 20;

/** Messages read from the mailbox `why` shows, newest first (the export has every one). */
export const whyInboxLimit = 10;

/** Messages read from the mailbox an export lists (newest first). */
const exportInboxLimit = 10_000;

/** What replaces free text that named the person. */
export const erasedText = '[erased on request]';

/** Everything held about one person (the answer to a data-subject access request). */
export type PersonExport = {
  email: string;
  /** SHA-256 of the address (hex): what stays after a deletion, on the suppression list and ledger. */
  emailHash: string;
  exportedAt: string;
  contact: {
    id: number;
    email: string;
    name: string | null;
    company: string | null;
    position: string | null;
    source: string | null;
    status: string;
    batchId: string;
    interest: string | null;
    validation: string | null;
    validatedAt: string | null;
    createdAt: string;
    updatedAt: string;
  } | null;
  batches: { id: string; name: string }[];
  history: { at: string; from: string | null; to: string; actor: string; reason: string | null }[];
  sends: {
    campaignId: string;
    campaignName: string;
    run: number;
    status: string;
    attempts: number;
    messageId: string | null;
    response: string | null;
    account: string | null;
    claimedAt: string;
    updatedAt: string;
    unsubscribedAt: string | null;
    repliedAt: string | null;
    complainedAt: string | null;
    softBouncedAt: string | null;
  }[];
  suppression: { reason: string; actor: string; at: string } | null;
  /** Messages read from the mailbox from or about them (replies, bounces, complaints), newest first. */
  inbox: {
    id: number;
    kind: string;
    from: string | null;
    subject: string | null;
    snippet: string | null;
    receivedAt: string;
    campaignId: string | null;
  }[];
};

const emailInput = z.string().trim().max(320).pipe(z.email());

/** Explains, exports and erases what is held about one person (by address). */
export class PeopleService {
  private readonly log;
  constructor(
    private readonly deps: Pick<CoreDeps, 'log' | 'clock'>,
    private readonly store: PeopleStore,
  ) {
    this.log = deps.log.child({ module: 'people' });
  }

  /** Why an address was or was not mailed by each campaign (newest first); not_found when nothing is known. */
  async why(email: string): Promise<WhyAnswer> {
    const rows = await this.load(email, { campaigns: whyCampaignLimit, inbox: whyInboxLimit });
    return explain(rows, this.deps.clock.now());
  }

  /** Everything held about the person as JSON-ready data, logged (hash prefix, contact id); not_found when nothing is known. */
  async exportPerson(email: string, actor: Actor): Promise<PersonExport> {
    const person = await this.preview(email);
    this.log.info(
      { hash: person.emailHash.slice(0, 12), contactId: person.contact?.id ?? null, actor },
      'person exported',
    );
    return person;
  }

  /** What exportPerson returns, without logging an export (a confirmation shown before a forget). */
  async preview(email: string): Promise<PersonExport> {
    const r = await this.load(email, { campaigns: 0, inbox: exportInboxLimit });
    const c = r.contact;
    return {
      email: r.email,
      emailHash: r.hash.toString('hex'),
      exportedAt: toIso(this.deps.clock.now())!,
      contact: c
        ? {
            id: c.id,
            email: c.email,
            name: c.name,
            company: c.company,
            position: c.position,
            source: c.source,
            status: c.status,
            batchId: c.batchId,
            interest: c.interest,
            validation: c.validation,
            validatedAt: toIso(c.validatedAt),
            createdAt: toIso(c.createdAt)!,
            updatedAt: toIso(c.updatedAt)!,
          }
        : null,
      batches: r.batch ? [{ id: r.batch.id, name: r.batch.name }] : [],
      history: r.history.map((h) => ({
        at: toIso(h.at)!,
        from: h.fromStatus,
        to: h.toStatus,
        actor: h.actor,
        reason: h.reason,
      })),
      sends: r.sends.map((s) => ({
        campaignId: s.campaignId,
        campaignName: s.campaignName,
        run: s.run,
        status: s.status,
        attempts: s.attempts,
        messageId: s.messageId,
        response: s.response,
        account: s.account,
        claimedAt: toIso(s.claimedAt)!,
        updatedAt: toIso(s.updatedAt)!,
        unsubscribedAt: toIso(s.unsubscribedAt),
        repliedAt: toIso(s.repliedAt),
        complainedAt: toIso(s.complainedAt),
        softBouncedAt: toIso(s.softBouncedAt),
      })),
      suppression: r.suppression
        ? { reason: r.suppression.reason, actor: r.suppression.actor, at: toIso(r.suppression.createdAt)! }
        : null,
      inbox: r.inbox.map((m) => ({
        id: m.id,
        kind: m.kind,
        from: m.fromAddress,
        subject: m.subject,
        snippet: m.snippet,
        receivedAt: toIso(m.receivedAt)!,
        campaignId: m.campaignId,
      })),
    };
  }

  /**
   * Erases the person everywhere in one transaction (contact, ledger answers, free text naming
   * them) and keeps their hash suppressed so they are never mailed again.
   */
  async forgetPerson(email: string, actor: Actor): Promise<ForgetCounts> {
    const address = this.normalize(email);
    const hash = emailHash(address);
    const forgotten = await this.store.forget({
      email: address,
      hash,
      actor,
      at: this.deps.clock.now(),
      replacement: erasedText,
    });
    if (!forgotten) throw notKnown();
    const { contactId, counts } = forgotten;
    // secure_delete zeroed the rows in the database file; older copies of the pages live in the WAL until it is reset.
    const walCleared = await this.store.compact();
    this.log.info({ hash: hashPrefix(hash), contactId, actor, walCleared, ...counts }, 'person forgotten');
    return counts;
  }

  /** The first 12 hex digits of the address hash: what logs say instead of the address. */
  hashPrefix(email: string): string {
    return hashPrefix(emailHash(this.normalize(email)));
  }

  private normalize(email: string): string {
    const parsed = emailInput.safeParse(email);
    if (!parsed.success)
      throw new DomainError('invalid_input', 'Give one e-mail address, like ana@example.com.');
    return normalizeEmail(parsed.data);
  }

  private async load(email: string, limits: { campaigns: number; inbox: number }): Promise<PersonRows> {
    const address = this.normalize(email);
    const rows = await this.store.load(address, emailHash(address), limits);
    if (!isKnown(rows)) throw notKnown();
    return rows;
  }
}

const hashPrefix = (hash: Buffer) => hash.toString('hex').slice(0, 12);

const notKnown = () =>
  new DomainError('not_found', 'Nothing is known about that address: no contact, no suppression, no send.');
