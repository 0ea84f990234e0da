import type { Contact } from '../../core/contacts/contact.js';
import type { CampaignVerdict, ForgetCounts, WhyAnswer } from '../../core/people/people-service.js';
import { clip, esc } from '../kit/escape.js';
import { actionIds } from './action-ids.js';
import { button, context, divider, type KnownBlock, text, when, who } from './common.js';

/** What the mailbox found about one message: replied, complained, soft-bounced (when). */
function inboxMarks(v: CampaignVerdict & { mailed: true }): string {
  const marks = [
    v.repliedAt ? `:speech_balloon: replied ${when(v.repliedAt)}` : null,
    v.complainedAt ? `:rotating_light: complained ${when(v.complainedAt)}` : null,
    v.softBouncedAt ? `soft bounce ${when(v.softBouncedAt)}` : null,
  ].filter((m) => m !== null);
  return marks.length ? ` · ${marks.join(' · ')}` : '';
}

function verdictLine(v: CampaignVerdict): string {
  const name = `*${esc(v.campaignName)}* \`${v.campaignId}\``;
  if (v.mailed) {
    const icon = v.status === 'sent' ? ':white_check_mark:' : v.status === 'bounced' ? ':x:' : ':warning:';
    const answer = v.response ? ` · last answer: _${esc(clip(v.response, 200))}_` : '';
    const id = v.messageId ? ` · Message-ID \`${esc(clip(v.messageId, 120))}\`` : '';
    return `${icon} ${name}: ${v.status} (${v.attempts} attempt${v.attempts === 1 ? '' : 's'}, ${when(v.at)})${inboxMarks(v)}${id}${answer}`;
  }
  return `:no_entry_sign: ${name}: not mailed: ${esc(v.detail)}`;
}

/** What a suppression reason means, where its name does not say it. */
const reasonText: Record<string, string> = {
  bounced: 'a hard bounce',
  deleted: 'deleted on request',
  manual: 'by hand',
  complained: 'a spam complaint',
  soft_bounced: 'repeated soft bounces',
};

/** ":no_entry: Suppressed (*complained*: a spam complaint) <when> by <who>.", or "Not suppressed." */
export function suppressionLine(s: { reason: string; actor: string; at: string } | null): string {
  if (!s) return 'Not suppressed.';
  const means = reasonText[s.reason];
  return `:no_entry: Suppressed (*${esc(s.reason)}*${means ? `: ${means}` : ''}) ${when(s.at)} by ${who(s.actor)}.`;
}

const interestText = (i: string | null) =>
  i === 'interested' ? ', marked *interested*' : i === 'not_interested' ? ', marked *not interested*' : '';

/** The readable answer to `/contacts why`. */
export function whyBlocks(a: WhyAnswer): KnownBlock[] {
  const head: string[] = [`*Why (not)* \`${esc(a.email)}\``];
  if (a.contact) {
    head.push(
      `Contact #${a.contact.id}, status *${a.contact.status}*${interestText(a.contact.interest)}` +
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
  head.push(suppressionLine(a.suppression));
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
  if (a.inbox.length)
    blocks.push(
      context(
        clip(
          `From the mailbox: ${a.inbox
            .map(
              (m) =>
                `${m.kind.replaceAll('_', ' ')} ${when(m.receivedAt)}${m.subject ? ` “${esc(clip(m.subject, 80))}”` : ''}${m.campaignId ? ` (\`${m.campaignId}\`)` : ''}`,
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

/** The answer to `/contacts status`: the contact's status now and, when so, that the address stays suppressed. */
export function contactStatusBlocks(c: Contact): KnownBlock[] {
  const head = `:white_check_mark: \`${esc(c.email)}\` (contact #${c.id}) is *${c.status}* now${interestText(c.interest)}.`;
  if (!c.suppression) return [text(head)];
  return [
    text(head),
    text(
      `${suppressionLine(c.suppression)} A status change does not lift a suppression: no campaign mails this address.`,
    ),
  ];
}

/** What `/contacts forget` erased, for the person who clicked. */
export function forgottenText(hash: string, c: ForgetCounts): string {
  const parts = [
    `${c.contacts} contact`,
    `${c.ledgerRows} ledger row${c.ledgerRows === 1 ? '' : 's'} blanked`,
    `${c.historyTexts + c.batchEventTexts} history text${c.historyTexts + c.batchEventTexts === 1 ? '' : 's'} erased`,
    ...(c.importReports
      ? [`${c.importReports} import report${c.importReports === 1 ? '' : 's'} cleaned`]
      : []),
    ...(c.webhookDeliveries ? [`${c.webhookDeliveries} webhook deliveries removed`] : []),
    ...(c.inboxMessages
      ? [`${c.inboxMessages} mailbox message${c.inboxMessages === 1 ? '' : 's'} blanked`]
      : []),
  ];
  return (
    `:wastebasket: Forgotten (hash \`${hash}\`): ${parts.join(', ')}. ` +
    `Only the hashed suppression${c.suppressionAdded ? ' (added now)' : ''} stays, so they are never mailed again.`
  );
}

/** The question under `/contacts forget <email>`, with its Forget button (the value is the address). */
export function forgetQuestionBlocks(email: string, what: string): KnownBlock[] {
  return [
    text(
      `:warning: Erase \`${esc(email)}\` everywhere? (${what}.) The contact is deleted, ledger answers and ` +
        'history text naming them are blanked; only a hash stays on the suppression list so they are never mailed again. ' +
        'This cannot be undone.',
    ),
    { type: 'actions', elements: [button('Forget', actionIds.contactForget, email, 'danger')] },
  ];
}
