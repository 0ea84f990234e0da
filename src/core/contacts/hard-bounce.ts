import { suppressions } from '../../db/schema.js';
import type { CoreDeps } from '../types.js';
import { changeStatus } from './contact-service.js';

/** A hard bounce (5xx) of one message of a campaign. */
export type HardBounce = {
  campaignId: string;
  contactId: number;
  email: string;
  emailHash: Buffer;
  /** The SMTP answer (code and text). */
  response: string;
  at: number;
};

/**
 * The bounce rule, in one place: the contact becomes `bounced` (with a history row), its address
 * goes on the suppression list, and the contact.bounced webhook is recorded, in one transaction
 * with `settleLedger` (the ledger row's own change), so they commit together or not at all.
 */
export function recordHardBounce(
  deps: Pick<CoreDeps, 'db' | 'webhooks'>,
  b: HardBounce,
  settleLedger: () => void,
): void {
  deps.db.transaction((tx) => {
    settleLedger();
    if (b.contactId) {
      const reason = `hard bounce in ${b.campaignId}: ${b.response.slice(0, 200)}`;
      changeStatus(tx, b.contactId, 'bounced', 'system', reason, b.at);
    }
    tx.insert(suppressions)
      .values({ emailHash: b.emailHash, reason: 'bounced', actor: 'system', createdAt: b.at })
      .onConflictDoNothing()
      .run();
    const data = {
      email: b.email,
      contactId: b.contactId,
      campaignId: b.campaignId,
      smtpResponse: b.response.slice(0, 200),
    };
    deps.webhooks?.record(tx, 'contact.bounced', data, b.at);
  });
}
