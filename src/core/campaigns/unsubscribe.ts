import { randomBytes } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { campaigns, contacts, sends, settings, suppressions } from '../../db/schema.js';
import { verifyUnsubscribeToken } from '../../mail/unsubscribe-token.js';
import { changeStatus } from '../contacts/contact-service.js';
import type { CoreDeps } from '../types.js';

const secretKey = 'unsubscribe_secret';

/**
 * The keys that sign unsubscribe links: UNSUBSCRIBE_SECRET when set (it signs), plus the key
 * generated and stored in the database on first start, so links keep working across restarts.
 */
export function unsubscribeSecrets(deps: CoreDeps, configured: string | undefined): string[] {
  let stored = deps.db.select().from(settings).where(eq(settings.key, secretKey)).get()?.value;
  if (!stored) {
    stored = randomBytes(32).toString('base64url');
    deps.db.insert(settings).values({ key: secretKey, value: stored }).onConflictDoNothing().run();
    stored = deps.db.select().from(settings).where(eq(settings.key, secretKey)).get()!.value;
  }
  return configured ? [configured, stored] : [stored];
}

export type UnsubscribeTarget = { campaignName: string; alreadyUnsubscribed: boolean };

/** Unsubscribe links: what a token points at, and the one-click opt-out itself. */
export class UnsubscribeService {
  private readonly log;
  constructor(
    private readonly deps: CoreDeps,
    private readonly secrets: string[],
  ) {
    this.log = deps.log.child({ module: 'unsubscribe' });
  }

  /** What the confirmation page shows; null for a token that was not signed by us. */
  inspect(token: string): UnsubscribeTarget | null {
    const sendId = verifyUnsubscribeToken(token, this.secrets);
    if (sendId === null) return null;
    const row = this.deps.db
      .select({ name: campaigns.name, unsubscribedAt: sends.unsubscribedAt })
      .from(sends)
      .innerJoin(campaigns, eq(campaigns.id, sends.campaignId))
      .where(eq(sends.id, sendId))
      .get();
    return row ? { campaignName: row.name, alreadyUnsubscribed: row.unsubscribedAt !== null } : null;
  }

  /** Opts the recipient out at once (contact status, suppression, ledger); idempotent. False for a bad token. */
  unsubscribe(token: string): boolean {
    const sendId = verifyUnsubscribeToken(token, this.secrets);
    if (sendId === null) return false;
    const now = this.deps.clock.now();
    const done = this.deps.db.transaction((tx) => {
      const send = tx.select().from(sends).where(eq(sends.id, sendId)).get();
      if (!send) return false;
      if (send.contactId !== null) {
        changeStatus(
          tx,
          send.contactId,
          'unsubscribed',
          'recipient',
          `unsubscribe link of ${send.campaignId}`,
          now,
        );
      }
      tx.insert(suppressions)
        .values({ emailHash: send.emailHash, reason: 'unsubscribed', actor: 'recipient', createdAt: now })
        .onConflictDoNothing()
        .run();
      if (send.unsubscribedAt === null) {
        tx.update(sends).set({ unsubscribedAt: now }).where(eq(sends.id, sendId)).run();
        // The address (the CRM matches on it) only while the contact still exists.
        const contact =
          send.contactId === null
            ? undefined
            : tx
                .select({ email: contacts.email })
                .from(contacts)
                .where(eq(contacts.id, send.contactId))
                .get();
        const data = {
          email: contact?.email ?? null,
          contactId: send.contactId,
          campaignId: send.campaignId,
        };
        this.deps.webhooks?.record(tx, 'contact.unsubscribed', data, now);
      }
      return true;
    });
    if (done) this.log.info({ sendId }, 'recipient unsubscribed');
    return done;
  }
}
