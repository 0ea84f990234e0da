import type { CampaignVerdict, WhyAnswer } from '../../core/people/people-service.js';
import { context, divider, type KnownBlock, text, when } from '../blocks/common.js';
import { clip, esc } from '../escape.js';
import type { ContactsSubcommand } from './types.js';

/** The address in a command's text: Slack may send it as `<mailto:a@b.c|a@b.c>`. */
export function addressArg(args: string): string {
  const m = /^<mailto:([^|>]+)(?:\|[^>]*)?>$/.exec(args.trim());
  return (m?.[1] ?? args).trim();
}

const usage = 'Give an address: `/contacts why ana@example.com`.';

function verdictLine(v: CampaignVerdict): string {
  const name = `*${esc(v.campaignName)}* \`${v.campaignId}\``;
  if (v.mailed) {
    const icon = v.status === 'sent' ? ':white_check_mark:' : v.status === 'bounced' ? ':x:' : ':warning:';
    const answer = v.response ? ` · last answer: _${esc(clip(v.response, 200))}_` : '';
    const id = v.messageId ? ` · Message-ID \`${esc(clip(v.messageId, 120))}\`` : '';
    return `${icon} ${name}: ${v.status} (${v.attempts} attempt${v.attempts === 1 ? '' : 's'}, ${when(v.at)})${id}${answer}`;
  }
  return `:no_entry_sign: ${name}: not mailed: ${esc(v.detail)}`;
}

/** The readable answer to `/contacts why`. */
export function whyBlocks(a: WhyAnswer): KnownBlock[] {
  const head: string[] = [`*Why (not)* \`${esc(a.email)}\``];
  if (a.contact) {
    head.push(
      `Contact #${a.contact.id}, status *${a.contact.status}*` +
        (a.contact.validation ? `, validation ${a.contact.validation}` : '') +
        `, imported ${when(a.contact.createdAt)}.`,
    );
  } else head.push('Not a contact (deleted, or never imported).');
  if (a.batch)
    head.push(
      `Batch *${esc(a.batch.name)}* \`${a.batch.id}\`: ${a.batch.activeNow ? 'the active batch now' : `${a.batch.status} now`}` +
        (a.batch.events.length
          ? `; ${a.batch.events.map((e) => `${e.kind} ${when(e.at)} by ${esc(e.actor)}`).join(', ')}`
          : '; never activated') +
        '.',
    );
  head.push(
    a.suppression
      ? `:no_entry: Suppressed (*${a.suppression.reason}*) ${when(a.suppression.at)} by ${esc(a.suppression.actor)}.`
      : 'Not suppressed.',
  );
  const blocks: KnownBlock[] = [text(head.join('\n'))];
  if (a.history.length)
    blocks.push(
      context(
        clip(
          `Status history: ${a.history
            .map(
              (h) =>
                `${h.from ?? '—'} → ${h.to} ${when(h.at)} by ${esc(h.actor)}${h.reason ? ` (${esc(clip(h.reason, 100))})` : ''}`,
            )
            .join('; ')}`,
          2900,
        ),
      ),
    );
  blocks.push(divider);
  if (a.campaigns.length === 0) blocks.push(text('No campaigns yet.'));
  const lines = a.campaigns.map(verdictLine);
  for (let i = 0; i < lines.length; i += 5)
    blocks.push(text(`${i === 0 ? '*Campaigns* (newest first):\n' : ''}${lines.slice(i, i + 5).join('\n')}`));
  return blocks;
}

/** `/contacts why <email>`: why an address was or was not mailed by each campaign. */
export const subcommands: Record<string, ContactsSubcommand> = {
  why: async ({ deps, args }) => {
    const email = addressArg(args);
    if (!email) return [text(usage)];
    return whyBlocks(deps.services.people.why(email));
  },
};

export const help: string[] = [
  '• `/contacts why <email>`: why an address was or was not mailed by each campaign (batch, status history, suppression, last SMTP answer)',
];
