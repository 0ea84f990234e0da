import type { ContactSequence, SequencePerson } from '../../core/campaigns/sequence-service.js';
import type { SequenceStopReason } from '../../core/vocabulary.js';
import { esc } from '../kit/escape.js';
import { actionIds } from './action-ids.js';
import { button, context, type KnownBlock, when, who } from './common.js';

/**
 * A person's place in campaign sequences, in Slack: under a reply notice and in `/contacts why`,
 * with "Stop sequence" while a follow-up is due (an admin's click; core refuses anyone else).
 */

/** The value of "Stop sequence": the campaign, the contact, and the notice it sits under (if any). */
export const stopValue = (campaignId: string, contactId: number, notice?: number) =>
  JSON.stringify({ campaignId, contactId, ...(notice !== undefined ? { notice } : {}) });

const reasonText: Record<SequenceStopReason, string> = {
  replied: 'they replied',
  bounced: 'a hard bounce',
  complained: 'a spam complaint',
  unsubscribed: 'they unsubscribed',
  left_audience: 'they left the audience',
  cancelled: 'the campaign was cancelled',
  stopped: 'stopped by hand',
};

/** Waiting with a row to stop: a follow-up due, or a later step in flight (not step 1's first send). */
const stoppable = (p: SequencePerson) => p.state === 'waiting' && (p.nextDueAt !== undefined || p.step > 0);

/** Where the person stands, in words: "step 1 sent · step 2 due <when>", "stopped (they replied) <when>". */
export function sequenceState(p: SequencePerson): string {
  const sent = p.step > 0 ? `step ${p.step} sent` : 'no step sent yet';
  if (p.state === 'stopped')
    return `${sent} · :octagonal_sign: stopped (${p.stopReason ? reasonText[p.stopReason] : 'stopped'})${p.stoppedAt ? ` ${when(p.stoppedAt)}` : ''}`;
  if (p.nextDueAt) return `${sent} · step ${p.step + 1} due ${when(p.nextDueAt)}`;
  if (p.state === 'waiting')
    return `${sent} · step ${p.step + 1} being sent now (nothing after it once stopped)`;
  return `${sent} · finished`;
}

/** Who just stopped it. */
const stoppedBy = (by: string) =>
  `:octagonal_sign: Sequence stopped by ${who(by)}: no more follow-ups go to them.`;

/**
 * Under a reply notice: the person's sequence in that campaign (nothing for a one-step campaign),
 * the button while a follow-up is due, and who stopped it after a click.
 */
export function noticeSequenceBlocks(
  noticeId: number,
  person: SequencePerson | null,
  campaignId: string | null,
  by?: string,
): KnownBlock[] {
  if (!person || !campaignId) return [];
  if (by) return [context(stoppedBy(by))];
  if (person.state === 'stopped') return [context(`Sequence: ${sequenceState(person)}`)];
  if (!stoppable(person)) return [];
  return [
    context(`Sequence: ${sequenceState(person)}`),
    {
      type: 'actions',
      block_id: `sequence:${noticeId}`,
      elements: [
        button(
          'Stop sequence',
          actionIds.sequenceStop,
          stopValue(campaignId, person.contactId, noticeId),
          'danger',
        ),
      ],
    },
  ];
}

/** `/contacts why`: each campaign sequence of the contact, with the button while a follow-up is due. */
export function contactSequenceBlocks(
  sequences: ContactSequence[],
  stopped?: { campaignId: string; by: string },
): KnownBlock[] {
  if (sequences.length === 0) return [];
  const blocks: KnownBlock[] = [context('*Sequences* (newest first)')];
  for (const s of sequences) {
    const line = `*${esc(s.campaignName)}* \`${esc(s.campaignId)}\`: ${sequenceState(s)}`;
    const section: KnownBlock = { type: 'section', text: { type: 'mrkdwn', text: line } };
    if (stoppable(s))
      section.accessory = button(
        'Stop sequence',
        actionIds.sequenceStop,
        stopValue(s.campaignId, s.contactId),
        'danger',
      );
    blocks.push(section);
    if (stopped?.campaignId === s.campaignId) blocks.push(context(stoppedBy(stopped.by)));
  }
  return blocks;
}
