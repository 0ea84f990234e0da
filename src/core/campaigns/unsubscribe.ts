import type { Clock } from '../../clock.js';
import type { Logger } from '../../logger.js';
import { verifyUnsubscribeToken } from '../../mail/unsubscribe-token.js';
import type { WebhookOutbox } from '../webhooks/webhook-outbox.js';
import type { UnsubscribeKeys } from './unsubscribe-keys.js';
import type { UnsubscribeStore, UnsubscribeTarget } from './unsubscribe-store.js';

export type { UnsubscribeTarget } from './unsubscribe-store.js';

/** Unsubscribe links: what a token points at, and the one-click opt-out itself. */
export class UnsubscribeService {
  private readonly log;
  constructor(
    private readonly deps: { log: Logger; clock: Clock; webhooks?: WebhookOutbox | undefined },
    private readonly store: UnsubscribeStore,
    private readonly keys: UnsubscribeKeys,
  ) {
    this.log = deps.log.child({ module: 'unsubscribe' });
  }

  /** What the confirmation page shows; null for a token that was not signed by us. */
  async inspect(token: string): Promise<UnsubscribeTarget | null> {
    const sendId = verifyUnsubscribeToken(token, await this.keys.all());
    if (sendId === null) return null;
    return this.store.target(sendId);
  }

  /** Opts the recipient out at once (contact status, suppression, ledger); idempotent. False for a bad token. */
  async unsubscribe(token: string): Promise<boolean> {
    const sendId = verifyUnsubscribeToken(token, await this.keys.all());
    if (sendId === null) return false;
    const now = this.deps.clock.now();
    const webhooks = this.deps.webhooks;
    const done = await this.store.unsubscribe(sendId, now, {
      reason: (campaignId) => `unsubscribe link of ${campaignId}`,
      webhooks: (found) => webhooks?.deliveries('contact.unsubscribed', found, now) ?? [],
    });
    if (done) this.log.info({ sendId }, 'recipient unsubscribed');
    return done;
  }
}
