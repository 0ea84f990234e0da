import { DomainError } from '../../errors.js';
import type { CampaignStateMachine } from '../campaigns/state-machine.js';

/**
 * Google's bulk-sender guidance: keep spam complaints below 0.1 % of delivered messages, never at
 * 0.3 %. A campaign pauses itself once its complaints pass 0.1 %, counted after 1,000 messages
 * (before that, one complaint is already 1 % and says little).
 */
export const complaintPause = { rate: 0.001, minSent: 1000 } as const;

/** Why the campaign pauses itself, or null when its complaint rate is fine. */
export function complaintPauseReason(f: { complaints: number; sent: number }): string | null {
  const { rate, minSent } = complaintPause;
  if (f.sent < minSent || f.complaints / f.sent <= rate) return null;
  const pct = Math.round((f.complaints / f.sent) * 10_000) / 100;
  return (
    `Paused automatically: ${f.complaints} spam complaints for ${f.sent} messages delivered (${pct}%, over ${rate * 100}%). ` +
    'Mailbox providers filter senders above 0.1% and block them at 0.3%: check who this list reaches and what the message says before resuming.'
  );
}

/** How the mailbox pauses a campaign: only through the campaign state machine. */
export type ComplaintPauser = {
  /** Pauses a sending (or scheduled, between drip runs) campaign; false when it was neither. */
  pauseFor(campaignId: string, reason: string): Promise<boolean>;
};

/** The state machine's `pause` (sending → paused); a drip waiting for its next run is paused too. */
export function complaintPauser(machine: CampaignStateMachine): ComplaintPauser {
  return {
    async pauseFor(campaignId, reason) {
      if (await machine.pause(campaignId, reason)) return true;
      if ((await machine.statusOf(campaignId)) !== 'scheduled') return false;
      try {
        await machine.transition(campaignId, ['scheduled'], 'paused', 'system', reason);
        return true;
      } catch (e) {
        // It moved meanwhile (a person paused, resumed or cancelled it): theirs wins.
        if (e instanceof DomainError && e.code === 'conflict') return false;
        throw e;
      }
    },
  };
}
