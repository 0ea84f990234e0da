import type { Batch } from '../../core/batches/batch.js';
import type { Contact } from '../../core/contacts/contact.js';
import type { ContactStatus } from '../../core/types.js';
import { esc } from '../kit/escape.js';
import { actionIds } from './action-ids.js';
import type { KnownBlock } from './common.js';
import { button, code, context, divider, localTime, n, text, when, who } from './common.js';

const statusLabel: Record<Batch['status'], string> = {
  active: ':large_green_circle: active',
  inactive: ':white_circle: inactive',
  importing: ':hourglass_flowing_sand: importing',
};

/** One line about a batch: name, id, status, size, date. */
export function batchLine(b: Batch): string {
  return `*${esc(b.name)}* ${code(b.id)}\n${statusLabel[b.status]} · ${n(b.contactCount)} contacts · ${b.source} · ${when(b.createdAt)}`;
}

function batchButtons(b: Batch): KnownBlock {
  const toggle =
    b.status === 'active'
      ? button('Deactivate', actionIds.batchDeactivate, b.id, 'danger')
      : button('Activate', actionIds.batchActivate, b.id, 'primary');
  return {
    type: 'actions',
    block_id: `batch:${b.id}`,
    elements: [
      ...(b.status === 'importing' ? [] : [toggle]),
      button('Details', actionIds.batchDetails, b.id),
    ],
  };
}

/** A page of batches, each with Activate/Deactivate and Details, and a Next button. */
export function batchListBlocks(
  page: { batches: Batch[]; nextCursor: string | null },
  title = 'Batches',
): KnownBlock[] {
  if (page.batches.length === 0) {
    return [text(`*${title}*\nNo batches yet. Drop a CSV file in a channel the app is in to import one.`)];
  }
  const blocks: KnownBlock[] = [text(`*${title}* (newest first; only the active batch receives campaigns)`)];
  for (const b of page.batches) blocks.push(text(batchLine(b)), batchButtons(b));
  if (page.nextCursor) {
    blocks.push({ type: 'actions', elements: [button('Next page', actionIds.batchesPage, page.nextCursor)] });
  }
  return blocks;
}

export type BatchDetails = {
  batch: Batch;
  counts: Record<ContactStatus, number>;
  contacts: Contact[];
  events: { kind: string; actor: string; reason: string | null; at: string }[];
};

/** Counts by status, the first contacts and the history of one batch. */
export function batchDetailsBlocks(d: BatchDetails): KnownBlock[] {
  const { batch: b, counts } = d;
  const r = b.report;
  const blocks: KnownBlock[] = [
    text(batchLine(b)),
    text(
      `*Contacts by status*: ${n(counts.active)} active · ${n(counts.inactive)} inactive · ` +
        `${n(counts.bounced)} bounced · ${n(counts.unsubscribed)} unsubscribed` +
        (counts.replied > 0 ? ` · ${n(counts.replied)} replied` : '') +
        (counts.complained > 0 ? ` · ${n(counts.complained)} complained` : ''),
    ),
  ];
  if (r) blocks.push(context(`Import: ${reportLine(r)}`));
  if (d.contacts.length > 0) {
    const lines = d.contacts.map(
      (c) =>
        `• ${esc(c.email)}${c.name ? ` — ${esc(c.name)}` : ''}${c.company ? ` (${esc(c.company)})` : ''}`,
    );
    blocks.push(text(`*First contacts*\n${lines.join('\n')}`));
  }
  if (d.events.length > 0) {
    const lines = d.events
      .slice(-5)
      .map(
        (e) =>
          `${when(e.at)} ${e.kind.replaceAll('_', ' ')} by ${actorText(e.actor)}${e.reason ? ` — ${esc(e.reason)}` : ''}`,
      );
    blocks.push(context(lines.join('\n')));
  }
  blocks.push(divider, batchButtons(b));
  return blocks;
}

export function reportLine(r: NonNullable<Batch['report']>): string {
  return (
    `${n(r.rows)} rows: ${n(r.imported)} imported, ${n(r.existing)} already known, ${n(r.duplicateInFile)} repeated, ` +
    `${n(r.invalid)} invalid, ${n(r.suppressed)} suppressed`
  );
}

/** A Slack user id renders as a mention; other actors (api, cli, system) as text. */
export function actorText(actor: string): string {
  return /^[UW][A-Z0-9]{2,}$/.test(actor) ? `<@${actor}>` : esc(actor);
}

export function helpBlocks(prefix?: string): KnownBlock[] {
  return [
    text(
      `${prefix ? `${prefix}\n\n` : ''}*/batches* manages contact batches. Only the *active* batch receives campaigns.\n` +
        '• `/batches list` — batches, newest first, with buttons\n' +
        '• `/batches show <id> [filters]` — counts by status, first contacts, history; filters: ' +
        '`status:bounced company:acme position:"head of" domain:acme.com validation:no_mail_domain after:2026-01-01 before:2026-02-01` and free text\n' +
        '• `/batches activate <id>` — make it the only active batch\n' +
        '• `/batches activate <id> at 2026-12-01 09:00 [America/Sao_Paulo]` (or `in 2h`) — later, by the scheduler\n' +
        '• `/batches scheduled` — activations waiting for their time; `/batches cancel-activation <id>`\n' +
        '• `/batches deactivate <id>` — no batch receives campaigns until one is activated\n' +
        '• `/batches report <id>` — figures, campaigns with their rates and history, with a chart, posted in this channel\n' +
        '• `/batches export <id> [filters]` — the batch (or the contacts the filters keep) as CSV, sent to you as a direct message\n' +
        '• `/batches export-suppressions` — the suppression list as CSV (address hashes), by DM\n' +
        '• `/batches backup` — a database backup now (admins)\n' +
        '• `/batches validate <id>` — check its addresses (role, disposable, DNS); `/batches include-invalid <id> on|off` — let campaigns reach contacts whose domain receives no mail\n' +
        '• `/batches help` — this text\n' +
        'To import, drop a CSV file in a channel the app is in: each file becomes a new active batch.',
    ),
  ];
}

/** `/batches scheduled`: pending activations, soonest first, each with a Cancel button. */
export function scheduledBlocks(
  pending: { batchId: string; batchName: string; at: string; createdBy: string }[],
): KnownBlock[] {
  if (pending.length === 0)
    return [text('No activation is scheduled. Schedule one with `/batches activate <id> at <time>`.')];
  return [
    text(`*Scheduled activations* (${pending.length})`),
    ...pending.flatMap((p): KnownBlock[] => [
      {
        type: 'section',
        text: {
          type: 'mrkdwn',
          text: `*${esc(p.batchName)}* \`${p.batchId}\` — ${localTime(p.at)}, by ${who(p.createdBy)}`,
        },
        accessory: button(
          'Cancel',
          actionIds.batchCancelActivation,
          JSON.stringify({ id: p.batchId, view: 'list', page: null }),
        ),
      },
    ]),
  ];
}
