import { DomainError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import type { Actor } from '../types.js';
import type { CampaignStateMachine } from './state-machine.js';

/** `confirm` for retryFailed with includeUnknown: those people may already have the message. */
export const resendUnknownConfirmation = 'resend-unknown';

export type RetryFailedOptions = { includeUnknown?: boolean; confirm?: string };

/**
 * Re-queues the `failed` recipients of a completed campaign (and, with includeUnknown and
 * confirm 'resend-unknown', the `unknown` ones) and sets it sending again; only those rows go,
 * never new contacts. Returns how many were re-queued.
 */
export async function requeueFailed(
  machine: CampaignStateMachine,
  log: Logger,
  now: number,
  id: string,
  actor: Actor,
  opts: RetryFailedOptions,
): Promise<number> {
  if (opts.includeUnknown && opts.confirm !== resendUnknownConfirmation) {
    throw new DomainError(
      'invalid_input',
      `Recipients with status unknown may already have received the message. To send it to them again, confirm with confirm: "${resendUnknownConfirmation}".`,
    );
  }
  const statuses = opts.includeUnknown ? (['failed', 'unknown'] as const) : (['failed'] as const);
  const r = await machine.reopen(id, statuses, now, actor);
  if (r.kind === 'missing') await machine.get(id);
  if (r.kind === 'not_completed') {
    throw new DomainError(
      'conflict',
      `Campaign ${id} is ${r.status}; only a completed campaign's failed sends can be retried.`,
    );
  }
  if (r.kind !== 'requeued') {
    throw new DomainError(
      'conflict',
      `Campaign ${id} has no ${opts.includeUnknown ? 'failed or unknown' : 'failed'} recipients still in the audience to send to again.`,
    );
  }
  log.info(
    { campaignId: id, actor, requeued: r.count, includeUnknown: opts.includeUnknown === true, to: 'sending' },
    'failed sends re-queued',
  );
  return r.count;
}
