import { and, eq, isNotNull, or, sql } from 'drizzle-orm';
import { z } from 'zod';
import { truncateWal } from '../../db/client.js';
import { contactHistory, sends, suppressions, webhookDeliveries } from '../../db/schema.js';
import { DomainError } from '../../errors.js';
import { BatchService } from '../batches/batch-service.js';
import { deleteContactWithin } from '../contacts/contact-service.js';
import { emailHash } from '../contacts/email-hash.js';
import { normalizeEmail } from '../imports/email.js';
import type { Actor, CoreDeps } from '../types.js';
import { toIso } from '../types.js';
import { loadPerson, type PersonRows } from './person-rows.js';
import { explain, type WhyAnswer } from './why.js';

export type { CampaignVerdict, NotMailedReason, WhyAnswer } from './why.js';

/** Campaigns `why` looks at, newest first. */
export const whyCampaignLimit = 20;

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
  }[];
  suppression: { reason: string; actor: string; at: string } | null;
};

/** What a forget erased, by place. */
export type ForgetCounts = {
  contacts: number;
  ledgerRows: number;
  historyTexts: number;
  batchEventTexts: number;
  importReports: number;
  /** Outgoing webhook deliveries (the delivery log) whose payload held the address: removed. */
  webhookDeliveries: number;
  /** The hashed suppression ('deleted') was added now; false: the address was already suppressed. */
  suppressionAdded: boolean;
};

const emailInput = z.string().trim().max(320).pipe(z.email());

/** Explains, exports and erases what is held about one person (by address). */
export class PeopleService {
  private readonly log;
  constructor(
    private readonly deps: CoreDeps,
    private readonly batches: BatchService = new BatchService(deps),
  ) {
    this.log = deps.log.child({ module: 'people' });
  }

  /** Why an address was or was not mailed by each campaign (newest first); not_found when nothing is known. */
  why(email: string): WhyAnswer {
    const rows = this.load(email, whyCampaignLimit);
    return explain(rows, this.deps.clock.now());
  }

  /** Everything held about the person as JSON-ready data, logged (hash prefix, contact id); not_found when nothing is known. */
  exportPerson(email: string, actor: Actor): PersonExport {
    const person = this.preview(email);
    this.log.info(
      { hash: person.emailHash.slice(0, 12), contactId: person.contact?.id ?? null, actor },
      'person exported',
    );
    return person;
  }

  /** What exportPerson returns, without logging an export (a confirmation shown before a forget). */
  preview(email: string): PersonExport {
    const r = this.load(email, 0);
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
      })),
      suppression: r.suppression
        ? { reason: r.suppression.reason, actor: r.suppression.actor, at: toIso(r.suppression.createdAt)! }
        : null,
    };
  }

  /**
   * Erases the person everywhere in one transaction (contact, ledger answers, free text naming
   * them) and keeps their hash suppressed so they are never mailed again.
   */
  forgetPerson(email: string, actor: Actor): ForgetCounts {
    const address = this.normalize(email);
    const hash = emailHash(address);
    const now = this.deps.clock.now();
    const names = (col: typeof contactHistory.reason) => sql`instr(lower(${col}), ${address}) > 0`;
    let forgottenId: number | null = null;
    const counts = this.deps.db.transaction((tx): ForgetCounts => {
      const r = loadPerson(tx, address, hash, 0);
      if (!r.contact && !r.suppression && r.sends.length === 0) throw notKnown();
      const contactId = r.contact?.id ?? null;
      // Free text naming the person, before the contact's history loses its link to them.
      const historyTexts = tx
        .update(contactHistory)
        .set({ reason: erasedText })
        .where(
          and(
            isNotNull(contactHistory.reason),
            contactId != null
              ? or(eq(contactHistory.contactId, contactId), names(contactHistory.reason))
              : names(contactHistory.reason),
          ),
        )
        .run().changes;
      const erased = this.batches.eraseAddressWithin(tx, address, erasedText);
      const batchEventTexts = erased.events;
      const importReports = erased.reports;
      const webhookRows = tx
        .delete(webhookDeliveries)
        .where(sql`instr(lower(${webhookDeliveries.payload}), ${address}) > 0`)
        .run().changes;
      // The ledger keeps the hash and the outcome, never the answer text (it may quote the address).
      const ledgerRows = tx
        .update(sends)
        .set({ response: null })
        .where(
          contactId != null
            ? or(eq(sends.contactId, contactId), eq(sends.emailHash, hash))
            : eq(sends.emailHash, hash),
        )
        .run().changes;
      const suppressionAdded = !r.suppression;
      if (contactId != null) {
        // Suppresses the hash ('deleted'), keeps the batch count in step; the ledger's and the
        // history's contact_id become null (ON DELETE SET NULL).
        deleteContactWithin(tx, contactId, actor, erasedText, now);
      } else if (!r.suppression) {
        tx.insert(suppressions).values({ emailHash: hash, reason: 'deleted', actor, createdAt: now }).run();
      }
      forgottenId = contactId;
      return {
        contacts: contactId != null ? 1 : 0,
        ledgerRows,
        historyTexts,
        batchEventTexts,
        importReports,
        webhookDeliveries: webhookRows,
        suppressionAdded,
      };
    });
    // secure_delete zeroed the rows in the database file; older copies of the pages live in the WAL until it is reset.
    const walCleared = truncateWal(this.deps.db);
    this.log.info(
      { hash: hashPrefix(hash), contactId: forgottenId, actor, walCleared, ...counts },
      'person forgotten',
    );
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

  private load(email: string, campaignLimit: number): PersonRows {
    const address = this.normalize(email);
    const rows = loadPerson(this.deps.db, address, emailHash(address), campaignLimit);
    if (!rows.contact && !rows.suppression && rows.sends.length === 0) throw notKnown();
    return rows;
  }
}

const hashPrefix = (hash: Buffer) => hash.toString('hex').slice(0, 12);

const notKnown = () =>
  new DomainError('not_found', 'Nothing is known about that address: no contact, no suppression, no send.');
