import { z } from 'zod';
import { DomainError } from '../../errors.js';
import { decodeCursor, encodeCursor, pageLimit } from '../pagination.js';
import { type Actor, type CoreDeps, type SequenceStopReason, toIso } from '../types.js';
import type { CampaignStore } from './campaign-store.js';
import type {
  ContactSequenceRow,
  SequencePersonRow,
  SequencePersonState,
  SequenceStore,
} from './sequence-store.js';

/** One person of a campaign's sequence, as REST and Slack show them (PRODUCT.md §8). */
export type SequencePerson = {
  contactId: number;
  email: string;
  state: SequencePersonState;
  /** The last step the server took for them (0: none yet). */
  step: number;
  /** When their next step is due (ISO 8601), while they wait for it. */
  nextDueAt?: string;
  stopReason?: SequenceStopReason;
  stoppedAt?: string;
};

/** A contact's place in one campaign's sequence (`/contacts why`). */
export type ContactSequence = SequencePerson & { campaignId: string; campaignName: string };

const cursorSchema = z.number().int().nonnegative();

export function toSequencePerson(r: SequencePersonRow): SequencePerson {
  return {
    contactId: r.contactId,
    email: r.email,
    state: r.state,
    step: r.step,
    ...(r.nextDueAt !== null ? { nextDueAt: toIso(r.nextDueAt)! } : {}),
    ...(r.stopReason !== null ? { stopReason: r.stopReason } : {}),
    ...(r.stoppedAt !== null ? { stoppedAt: toIso(r.stoppedAt)! } : {}),
  };
}

const toContactSequence = (r: ContactSequenceRow): ContactSequence => ({
  campaignId: r.campaignId,
  campaignName: r.campaignName,
  ...toSequencePerson(r),
});

/** Why a person who is not waiting cannot be stopped, in words. */
function notWaiting(p: SequencePersonRow, campaignId: string): string {
  const who = `Contact ${p.contactId}`;
  if (p.state === 'stopped')
    return `${who}'s sequence in campaign ${campaignId} is already stopped (${p.stopReason}): nothing more goes to them.`;
  if (p.state === 'finished')
    return `${who} has finished campaign ${campaignId}'s sequence (last step sent: ${p.step}): nothing more is due.`;
  return `Step 1 of campaign ${campaignId} is being sent to ${who.toLowerCase()} right now: stop the sequence once it is sent.`;
}

/** The people of campaigns' sequences: who waits for which step, who stopped and why; "Stop sequence". */
export class SequenceService {
  private readonly log;
  constructor(
    private readonly deps: CoreDeps,
    private readonly store: SequenceStore,
    private readonly campaigns: Pick<CampaignStore, 'statusOf'>,
  ) {
    this.log = deps.log.child({ module: 'sequences' });
  }

  /** A campaign's people by contact id, in `state` when given: `{people, nextCursor}`; throws not_found. */
  async people(
    campaignId: string,
    query: {
      state?: SequencePersonState | undefined;
      limit?: number | undefined;
      cursor?: string | undefined;
    } = {},
  ): Promise<{ people: SequencePerson[]; nextCursor: string | null }> {
    await this.campaign(campaignId);
    const limit = pageLimit(query.limit, 500);
    const after = query.cursor ? decodeCursor(query.cursor, cursorSchema) : 0;
    const rows = await this.store.people(campaignId, {
      state: query.state,
      afterContactId: after,
      limit: limit + 1,
    });
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return {
      people: page.map(toSequencePerson),
      nextCursor: rows.length > limit && last ? encodeCursor(last.contactId) : null,
    };
  }

  /** One person of a campaign, or null when the contact has no message there. */
  async person(campaignId: string, contactId: number): Promise<SequencePerson | null> {
    const row = await this.store.person(campaignId, contactId);
    return row ? toSequencePerson(row) : null;
  }

  /** A contact's sequences (campaigns with follow-ups), newest campaign first. */
  async ofContact(contactId: number, limit = 20): Promise<ContactSequence[]> {
    return (await this.store.ofContact(contactId, limit)).map(toContactSequence);
  }

  /**
   * "Stop sequence": a person waiting for a follow-up gets no more steps of the campaign (reason
   * `stopped`; a step being sent at that moment still goes, nothing after it). Throws not_found
   * (no campaign, or the contact has no message in it) or conflict (stopped already, finished, or
   * step 1 still being sent), saying which.
   */
  async stop(campaignId: string, contactId: number, actor: Actor): Promise<SequencePerson> {
    await this.campaign(campaignId);
    const out = await this.store.stop(campaignId, contactId, this.deps.clock.now());
    if (out.kind === 'missing')
      throw new DomainError(
        'not_found',
        `Contact ${contactId} has no message in campaign ${campaignId} (or is no longer held): there is no sequence to stop.`,
        { campaignId, contactId },
      );
    if (out.kind === 'not_waiting')
      throw new DomainError('conflict', notWaiting(out.person, campaignId), { campaignId, contactId });
    this.log.info({ campaignId, contactId, actor, step: out.person.step }, 'sequence stopped');
    return toSequencePerson(out.person);
  }

  private async campaign(id: string): Promise<void> {
    if ((await this.campaigns.statusOf(id)) === null)
      throw new DomainError('not_found', `No campaign ${id}. /campaigns list shows the ids.`, {
        campaignId: id,
      });
  }
}
