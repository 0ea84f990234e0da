import type { CampaignEvent } from './sending/send-engine.js';

/** In-process fan-out of domain events to transports (Slack progress messages); nothing is stored here. */
export class EventHub {
  private readonly listeners = new Set<(e: CampaignEvent) => void>();

  on(listener: (e: CampaignEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(e: CampaignEvent): void {
    for (const l of this.listeners) {
      try {
        l(e);
      } catch {
        // a listener's failure must never stop the send engine
      }
    }
  }
}
