import type { Campaign } from '../../core/campaigns/campaign.js';
import type { CampaignHistoryEntry } from '../../core/campaigns/campaign-store.js';
import { campaignWarnings } from '../../core/campaigns/content-warnings.js';
import type { DoctorFinding } from '../../core/campaigns/progress.js';
import { esc } from '../kit/escape.js';
import { actionIds } from './action-ids.js';
import { button, context, type KnownBlock, text, when, who } from './common.js';

/** The "Send anyway" button of a held campaign, asking Slack to confirm first (admins only). */
export function sendAnywayButton(c: Campaign) {
  return {
    ...button('Send anyway', actionIds.campaignSendAnyway, JSON.stringify({ id: c.id }), 'danger'),
    confirm: {
      title: { type: 'plain_text' as const, text: 'Send anyway?' },
      text: {
        type: 'mrkdwn' as const,
        text: 'A deliverability check fails: mail may be refused or land in spam, and your domain pays for it. Send anyway?',
      },
      confirm: { type: 'plain_text' as const, text: 'Send anyway' },
      deny: { type: 'plain_text' as const, text: 'Keep it held' },
    },
  };
}

/** Why a held campaign waits: each failing check with what to do (the status reason says the rest). */
export function heldBlocks(c: Campaign): KnownBlock[] {
  if (c.status !== 'held' || !c.heldChecks) return [];
  const lines = c.heldChecks.map(
    (k) =>
      `• *${esc(k.title)}*${k.domain ? ` (${esc(k.domain)})` : ''}: ${esc(k.detail)}${k.fix ? `\n   _${esc(k.fix)}_` : ''}`,
  );
  return [
    text(`:no_entry: *Held by the domain doctor* — nothing was sent:\n${lines.join('\n')}`),
    context('Fix the checks (`/campaigns doctor` checks again), then an admin clicks *Send anyway*.'),
  ];
}

/** The content check of a campaign not started yet ("Content check: …"), or nothing when it is clean. */
export function contentCheckBlocks(c: Campaign): KnownBlock[] {
  if (c.startedAt !== null || c.status === 'cancelled' || c.status === 'completed') return [];
  const warnings = campaignWarnings(c.steps);
  if (warnings.length === 0) return [];
  return [context(`:mag: *Content check:*\n${warnings.map((w) => `• ${esc(w.message)}`).join('\n')}`)];
}

/** The last lines of a campaign's history (`/campaigns show`), oldest first. */
export function historyBlocks(history: readonly CampaignHistoryEntry[], omitted: number): KnownBlock[] {
  if (history.length === 0) return [];
  const lines = history.map(
    (e) =>
      `${when(new Date(e.at).toISOString())} · ${esc(e.kind.replace('_', ' '))} by ${who(e.actor)}` +
      (e.detail ? ` — ${esc(e.detail)}` : ''),
  );
  const more =
    omitted > 0
      ? `\n_${omitted} earlier line${omitted === 1 ? '' : 's'}: GET /campaigns/{id} → history_`
      : '';
  return [context(`*History*\n${lines.join('\n')}${more}`)];
}

/**
 * What the domain doctor's last report found (PRODUCT.md §9: a warn is shown in the modal and the
 * progress message; a held campaign lists its failing checks above, so only the warns here).
 */
export function doctorBlocks(findings: readonly DoctorFinding[], held = false): KnownBlock[] {
  const shown = held ? findings.filter((f) => f.result === 'warn') : findings;
  if (shown.length === 0) return [];
  const lines = shown
    .slice(0, 8)
    .map(
      (f) =>
        `• ${f.result === 'fail' ? ':no_entry:' : ':warning:'} ${esc(f.title)}${f.domain ? ` (${esc(f.domain)})` : ''}: ${esc(f.detail.slice(0, 200))}`,
    );
  const more = shown.length > 8 ? `\n…and ${shown.length - 8} more` : '';
  return [
    context(
      `*Domain doctor:*\n${lines.join('\n')}${more}\n_\`/campaigns doctor\` says what to do${held ? '' : '; a failing check holds a campaign until an admin sends it anyway'}._`,
    ),
  ];
}
