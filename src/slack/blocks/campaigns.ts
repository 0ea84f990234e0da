import type { Campaign, CampaignCounts } from '../../core/campaigns/campaign.js';
import { type CampaignProgress, campaignRates, type DoctorFinding } from '../../core/campaigns/progress.js';
import { esc } from '../kit/escape.js';
import { actionIds } from './action-ids.js';
import { contentCheckBlocks, doctorBlocks, heldBlocks, sendAnywayButton } from './campaign-held.js';
import { button, code, context, type KnownBlock, n, text, when } from './common.js';
import { isSequenceView, type SequenceView, stepBlocks, stepsSummary } from './steps.js';

const statusIcon: Record<Campaign['status'], string> = {
  draft: ':memo:',
  scheduled: ':calendar:',
  sending: ':outbox_tray:',
  paused: ':double_vertical_bar:',
  held: ':warning:',
  completed: ':white_check_mark:',
  cancelled: ':no_entry_sign:',
};

/** The figures: sent/total, bounced, failed, unsubscribed, unknown; a second line for the mailbox's, if any. */
export function figuresLine(k: CampaignCounts): string {
  const parts = [
    `*${n(k.sent)}/${n(k.total)}* sent`,
    `${n(k.bounced)} bounced`,
    `${n(k.failed)} failed`,
    `${n(k.unsubscribed)} unsubscribed`,
  ];
  if (k.unknown > 0) parts.push(`${n(k.unknown)} unknown (may have been delivered, not re-sent)`);
  const inbox = inboxLine(k);
  return inbox ? `${parts.join(' · ')}\n${inbox}` : parts.join(' · ');
}

/** A rate as a percentage with one decimal. */
const pct = (r: number) => `${(r * 100).toFixed(1)}%`;

/**
 * What the mailbox found, when it found anything: replies with the reply rate (of sent) and the
 * interested rate (of replies), complaints and soft bounces. Null while all are 0.
 */
export function inboxLine(k: CampaignCounts): string | null {
  if (k.replied + k.complained + k.softBounced === 0) return null;
  const r = campaignRates(k);
  const parts = [
    `:speech_balloon: ${n(k.replied)} repl${k.replied === 1 ? 'y' : 'ies'}` +
      (r.reply !== null ? ` (${pct(r.reply)} of ${n(k.sent)} sent)` : ''),
  ];
  if (k.replied > 0)
    parts.push(
      `${n(k.interested)} interested${r.interested !== null ? ` (${pct(r.interested)} of replies)` : ''}`,
    );
  if (k.complained > 0)
    parts.push(`:rotating_light: ${n(k.complained)} complaint${k.complained === 1 ? '' : 's'}`);
  if (k.softBounced > 0) parts.push(`${n(k.softBounced)} soft bounce${k.softBounced === 1 ? '' : 's'}`);
  return parts.join(' · ');
}

export function scheduleLine(c: Campaign): string {
  if (c.cron) return `drip \`${esc(c.cron)}\` (${esc(c.timezone)}), up to ${n(c.dailyLimit ?? 0)} per run`;
  if (c.sendAt) return `send at ${when(c.sendAt)}`;
  return 'draft (not scheduled)';
}

/** Two-person rule: approval required, not given yet, and the campaign can still send. */
const awaitsApproval = (c: Campaign) =>
  c.approval !== null &&
  c.approval.approvedBy === null &&
  c.status !== 'completed' &&
  c.status !== 'cancelled';

/** The buttons a campaign in this state offers. */
function controls(c: Campaign, k?: CampaignCounts): KnownBlock[] {
  const value = JSON.stringify({ id: c.id });
  const els = [];
  if (awaitsApproval(c)) els.push(button('Approve', actionIds.campaignApprove, value, 'primary'));
  if (c.status === 'scheduled' && c.awaitingConfirmation)
    els.push(button('Confirm: send now', actionIds.campaignResume, value, 'primary'));
  if (c.status === 'sending' || (c.status === 'scheduled' && !c.awaitingConfirmation))
    els.push(button('Pause', actionIds.campaignPause, value));
  if (c.status === 'paused') els.push(button('Resume', actionIds.campaignResume, value, 'primary'));
  if (c.status === 'held') els.push(sendAnywayButton(c));
  if (c.status !== 'completed' && c.status !== 'cancelled')
    els.push(button('Cancel', actionIds.campaignCancel, value, 'danger'));
  if (c.status === 'completed' && k && k.failed > 0)
    els.push(button(`Retry failed (${n(k.failed)})`, actionIds.campaignRetryFailed, value));
  if (c.status === 'completed' && k && k.unknown > 0)
    els.push(button(`Resend unknown (${n(k.unknown)})…`, actionIds.campaignResendUnknown, value));
  return els.length > 0 ? [{ type: 'actions', block_id: `campaign:${c.id}`, elements: els }] : [];
}

/**
 * The one progress message of a campaign, updated in place; a sequence (follow-ups or variants)
 * shows each step's figures (and each variant's) and who waits for a follow-up.
 */
export function campaignProgressBlocks(
  c: Campaign,
  k: CampaignCounts,
  eta: number | null,
  sequence?: SequenceView,
  doctor: readonly DoctorFinding[] = [],
): KnownBlock[] {
  const steps = sequence && isSequenceView(c) ? stepBlocks(c, sequence) : [];
  const blocks: KnownBlock[] = [
    text(
      `${statusIcon[c.status]} *${esc(c.name)}* ${code(c.id)} — ${c.status}${c.awaitingConfirmation ? ' (waiting for confirmation)' : ''}`,
    ),
    text(steps.length > 0 ? `All steps (messages): ${figuresLine(k)}` : figuresLine(k)),
    ...steps,
    context(
      `${scheduleLine(c)}${c.ratePerMinute ? ` · ${n(c.ratePerMinute)}/min` : ''}` +
        (eta && (c.status === 'sending' || c.status === 'scheduled')
          ? ` · should finish ${when(new Date(eta).toISOString())}`
          : '') +
        (c.completedAt ? ` · finished ${when(c.completedAt)}` : ''),
    ),
  ];
  if (c.statusReason) blocks.push(text(`:information_source: ${esc(c.statusReason)}`));
  blocks.push(...heldBlocks(c), ...doctorBlocks(doctor, c.status === 'held'), ...contentCheckBlocks(c));
  if (awaitsApproval(c))
    blocks.push(
      text(
        `:raised_hand: *Waiting for approval by another admin*: it reaches more people than the approval threshold, so an admin other than ${c.createdBy.startsWith('U') || c.createdBy.startsWith('W') ? `<@${esc(c.createdBy)}>` : esc(c.createdBy)} must approve it before it starts.`,
      ),
    );
  return [...blocks, ...controls(c, k)];
}

/** The progress message of a campaign from its figures and finish estimate. */
export const progressBlocks = (p: CampaignProgress) =>
  campaignProgressBlocks(p.campaign, p.counts, p.eta, p, p.doctor);

/** The fallback text of a progress message: the campaign and its state. */
export const progressText = (c: Campaign) => `Campaign ${esc(c.name)}: ${c.status}`;

/** Campaigns with their figures and buttons; a sequence with a short line per step and its next follow-ups. */
export function campaignListBlocks(
  items: ({ campaign: Campaign; counts: CampaignCounts } & Partial<SequenceView>)[],
): KnownBlock[] {
  if (items.length === 0) return [text('No campaigns yet. `/campaigns new` writes one.')];
  const blocks: KnownBlock[] = [];
  for (const { campaign: c, counts, steps, followUps = null, countedAt = 0 } of items) {
    const perStep = steps && isSequenceView(c) ? `\n${stepsSummary({ steps, followUps, countedAt })}` : '';
    blocks.push(
      text(
        `${statusIcon[c.status]} *${esc(c.name)}* ${code(c.id)} — ${c.status}\n${figuresLine(counts)}${perStep}`,
      ),
      ...controls(c, counts),
    );
  }
  return blocks;
}

export function campaignHelpBlocks(prefix?: string): KnownBlock[] {
  return [
    text(
      `${prefix ? `${prefix}\n\n` : ''}*/campaigns* writes and runs campaigns. They go to the *active batch* only.\n` +
        '• `/campaigns new` — write one: subject, body, when (now, a date, or a daily drip)\n' +
        '• `/campaigns list` — every campaign with its figures\n' +
        '• `/campaigns show <id>` — progress of one\n' +
        '• `/campaigns pause|resume|cancel <id>`\n' +
        '• `/campaigns export <id>` — per-recipient results (who, when, Message-ID, status) as CSV, by DM\n' +
        '• `/campaigns doctor` — is the sending domain ready (SPF, DKIM, DMARC, MX, unsubscribe page)?\n' +
        'Templates may use {{name}}, {{first_name}}, {{company}}, {{position}}, {{email}}, {{unsubscribe_url}} and fallbacks like {{first_name|there}}.',
    ),
  ];
}

/** The second step before re-sending to recipients whose delivery is unknown. */
export function resendUnknownConfirmBlocks(c: Campaign, k: CampaignCounts): KnownBlock[] {
  return [
    text(
      `:question: *${n(k.unknown)}* recipients of *${esc(c.name)}* ${code(c.id)} may already have this message: ` +
        'their delivery was interrupted before the mail server answered. Resending may give them a second copy. ' +
        `The ${n(k.failed)} failed ones are retried too.`,
    ),
    {
      type: 'actions',
      block_id: `campaign_resend:${c.id}`,
      elements: [
        button('Yes, resend', actionIds.campaignResendUnknownConfirm, JSON.stringify({ id: c.id }), 'danger'),
      ],
    },
  ];
}

export const newCampaignButton = (): KnownBlock => ({
  type: 'actions',
  elements: [button('New campaign', actionIds.campaignNew, 'new', 'primary')],
});
