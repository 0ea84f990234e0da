import type { ActivationOutcome } from './batches/scheduled-activations.js';
import type { CampaignEvent } from './sending/send-engine.js';

/** What core tells the transports about, besides campaigns. */
export type OpsEvent =
  /** A scheduled batch activation came due and was applied (or failed, with the reason). */
  | { type: 'scheduled_activation'; outcome: ActivationOutcome }
  /** A backup failed (nightly or asked for): people should know before they need it. */
  | { type: 'backup_failed'; reason: string; message: string }
  /** A human reply read from the mailbox was matched to a send and stored (its Slack notice is pending). */
  | { type: 'reply_received'; messageId: number };

export type AppEvent = CampaignEvent | OpsEvent;

export const isCampaignEvent = (e: AppEvent): e is CampaignEvent => 'campaignId' in e;

/** In-process fan-out of domain events to transports (Slack messages); nothing is stored here. */
export class EventHub {
  private readonly listeners = new Set<(e: AppEvent) => void>();

  on(listener: (e: AppEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(e: AppEvent): void {
    for (const l of this.listeners) {
      try {
        l(e);
      } catch {
        // a listener's failure must never stop the send engine
      }
    }
  }
}
