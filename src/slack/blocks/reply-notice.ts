import type { ReplyNotice } from '../../core/mailbox/mailbox-service.js';
import type { ContactInterest } from '../../core/vocabulary.js';
import { clip, esc } from '../kit/escape.js';
import { actionIds } from './action-ids.js';
import { button, context, type KnownBlock, text, when, who } from './common.js';

/** What a click just did, shown under the reply with who did it. */
export type NoticeDecision =
  | { kind: 'interest'; interest: ContactInterest; by: string }
  | { kind: 'unsubscribed'; by: string };

/** How much of the new text a notice quotes. */
export const snippetChars = 500;

const interestLabel: Record<ContactInterest, string> = {
  interested: ':large_green_circle: *Interested*',
  not_interested: ':white_circle: *Not interested*',
};

/** The answer to a notice button whose contact went away (deleted or forgotten) since it was posted. */
export const replyGoneText =
  'This person is no longer held (deleted or forgotten since the reply came): nothing was changed. ' +
  'A deleted or forgotten address stays suppressed, so no campaign mails it.';

/** The value of every button of a notice: `{"id": <inbox message id>}`. */
export const replyValue = (id: number) => JSON.stringify({ id });

/** Who wrote: the name and the address, escaped; "Someone" when the message named nobody. */
function sender(r: ReplyNotice): string {
  if (r.name && r.from) return `*${esc(r.name)}* (${esc(r.from)})`;
  if (r.from) return `*${esc(r.from)}*`;
  return r.name ? `*${esc(r.name)}*` : '*Someone*';
}

const campaignOf = (r: ReplyNotice) =>
  r.campaignName
    ? `*${esc(r.campaignName)}*${r.campaignId ? ` \`${esc(r.campaignId)}\`` : ''}`
    : r.campaignId
      ? `\`${esc(r.campaignId)}\``
      : 'a campaign';

/** The new text as a mrkdwn quote, escaped and cut to ~500 characters. */
function quoted(snippet: string | null): string {
  const t = (snippet ?? '').trim();
  if (!t) return '_(no new text)_';
  return esc(clip(t, snippetChars))
    .split(/\r?\n/)
    .map((line) => `> ${line}`)
    .join('\n');
}

/** The notification text of a notice (what clients without blocks show). */
export function replyNoticeText(r: ReplyNotice): string {
  const by = r.name ?? r.from ?? 'Someone';
  return clip(
    `Reply from ${esc(by)} to ${esc(r.campaignName ?? r.campaignId ?? 'a campaign')}: ${esc(r.subject ?? '(no subject)')}`,
    300,
  );
}

/** The buttons: Interested, Not interested, Unsubscribe them (unless they are), Why. */
function buttons(r: ReplyNotice, unsubscribed: boolean): KnownBlock {
  const value = replyValue(r.id);
  const unsubscribe = button('Unsubscribe them', actionIds.replyUnsubscribe, value, 'danger');
  unsubscribe.confirm = {
    title: { type: 'plain_text', text: 'Unsubscribe them?' },
    text: {
      type: 'plain_text',
      text: clip(
        `${r.from ?? 'This person'} is unsubscribed and suppressed: no campaign mails them again. This cannot be undone from Slack.`,
        300,
      ),
    },
    confirm: { type: 'plain_text', text: 'Unsubscribe' },
    deny: { type: 'plain_text', text: 'Cancel' },
    style: 'danger',
  };
  return {
    type: 'actions',
    block_id: `reply:${r.id}`,
    elements: [
      button('Interested', actionIds.replyInterested, value, 'primary'),
      button('Not interested', actionIds.replyNotInterested, value),
      ...(unsubscribed ? [] : [unsubscribe]),
      button('Why', actionIds.replyWhy, value),
    ],
  };
}

/**
 * A reply notice: who answered which campaign, the subject, the first ~500 characters of the new
 * text, whether the reply unsubscribed them, what was decided (and by whom, for the click that
 * just decided it), and the buttons. The buttons stay so a person can change the choice.
 */
export function replyNoticeBlocks(r: ReplyNotice, decision?: NoticeDecision): KnownBlock[] {
  const unsubscribed = r.unsubscribed || decision?.kind === 'unsubscribed';
  const facts = [`Received ${when(new Date(r.receivedAt).toISOString())}`];
  // Posted with the reply: it was the reply that unsubscribed them. After a click the row no longer
  // says whether the reply or a person did it.
  if (r.unsubscribed && !decision)
    facts.push(
      ':no_entry: They asked to be removed, so they were unsubscribed: no campaign mails them again.',
    );
  else if (r.unsubscribed && decision?.kind !== 'unsubscribed')
    facts.push(':no_entry: Unsubscribed: no campaign mails them again.');
  if (!r.contactId) facts.push('The contact is no longer held (deleted or forgotten).');
  const blocks: KnownBlock[] = [
    text(`:speech_balloon: ${sender(r)} replied to ${campaignOf(r)}`),
    text(`*${esc(clip(r.subject ?? '(no subject)', 200))}*\n${quoted(r.snippet)}`),
    context(facts.join(' · ')),
  ];
  const state: string[] = [];
  const interest = decision?.kind === 'interest' ? decision.interest : r.interest;
  if (interest)
    state.push(
      `${interestLabel[interest]}${decision?.kind === 'interest' ? `, marked by ${who(decision.by)}` : ''}`,
    );
  if (decision?.kind === 'unsubscribed')
    state.push(`:no_entry: Unsubscribed by ${who(decision.by)}: no campaign mails them again`);
  if (state.length) blocks.push(context(state.join(' · ')));
  blocks.push(buttons(r, unsubscribed));
  return blocks;
}
