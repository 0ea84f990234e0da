import { z } from 'zod';
import { DomainError } from '../../errors.js';
import { normalizeEmail } from '../imports/email.js';
import { exportSuppressionsCsv } from '../suppression/export.js';
import type { SuppressionStore } from '../suppression/suppression-store.js';
import type { Actor, ContactStatus, CoreDeps } from '../types.js';
import { type Contact, toContact } from './contact.js';
import type { ContactStore } from './contact-store.js';
import { emailHash } from './email-hash.js';

export type StatusChange = {
  at: string;
  from: string | null;
  to: string;
  actor: string;
  reason: string | null;
};

const notFound = (id: number) => new DomainError('not_found', `No contact ${id}.`, { contactId: id });

const emailInput = z.string().trim().max(320).pipe(z.email());

/** One contact at a time: read, change its status, delete it; and the suppression list's answers. */
export class ContactService {
  private readonly log;
  constructor(
    private readonly deps: Pick<CoreDeps, 'log' | 'clock'>,
    private readonly store: ContactStore,
    private readonly suppressions: SuppressionStore,
  ) {
    this.log = deps.log.child({ module: 'contacts' });
  }

  /** The suppression list as CSV (address hashes, reason, actor, date), streamed. */
  exportSuppressions(): AsyncIterable<string> {
    return exportSuppressionsCsv(this.suppressions);
  }

  /** Returns one contact, or throws not_found. */
  async get(id: number): Promise<Contact> {
    const row = await this.store.find(id);
    if (!row) throw notFound(id);
    return toContact(row);
  }

  /**
   * Changes a contact's status, records who and why; bounced/unsubscribed/complained also suppress
   * the address. Refuses to make a suppressed address active again, except for a contact who
   * replied or complained: that is a person's decision about the contact, and the address stays
   * suppressed (the answer's `suppression` and `notSendableReason` say so).
   */
  async setStatus(id: number, status: ContactStatus, actor: Actor, reason?: string): Promise<Contact> {
    const at = this.deps.clock.now();
    const change = await this.store.changeStatus({ id, status, actor, reason: reason ?? null, at });
    if (change.kind === 'missing') throw notFound(id);
    if (change.kind === 'suppressed') {
      throw new DomainError(
        'suppressed',
        `Contact ${id} is on the suppression list (${change.reason}): it cannot be made sendable again. ` +
          'A person who opted out must subscribe again themselves.',
        { reason: change.reason },
      );
    }
    const contact = await this.get(id);
    if (change.kind === 'changed')
      this.log.info(
        {
          contactId: id,
          from: change.from,
          to: status,
          actor,
          suppressed: contact.suppression?.reason ?? null,
        },
        'contact status changed',
      );
    return contact;
  }

  /** setStatus for the contact with this address (Slack names people by address); not_found when none. */
  async setStatusByEmail(
    email: string,
    status: ContactStatus,
    actor: Actor,
    reason?: string,
  ): Promise<Contact> {
    const parsed = emailInput.safeParse(email);
    if (!parsed.success)
      throw new DomainError('invalid_input', 'Give one e-mail address, like ana@example.com.');
    const id = await this.store.idByEmail(normalizeEmail(parsed.data));
    if (id === null) throw new DomainError('not_found', 'No contact has that address.');
    return this.setStatus(id, status, actor, reason);
  }

  /** Deletes a contact; its address stays suppressed (as a hash) so no import brings it back. */
  async delete(id: number, actor: Actor, reason?: string): Promise<void> {
    const at = this.deps.clock.now();
    if (!(await this.store.delete(id, actor, reason ?? null, at))) throw notFound(id);
    this.log.info({ contactId: id, actor }, 'contact deleted and suppressed');
  }

  /** A contact's status changes, oldest first. */
  async history(id: number): Promise<StatusChange[]> {
    await this.get(id);
    return (await this.store.history(id)).map((h) => ({
      at: new Date(h.at).toISOString(),
      from: h.from,
      to: h.to,
      actor: h.actor,
      reason: h.reason,
    }));
  }

  /** Whether a normalized address is on the suppression list. */
  isSuppressed(normalizedEmail: string): Promise<boolean> {
    return this.suppressions.isSuppressed(emailHash(normalizedEmail));
  }
}
