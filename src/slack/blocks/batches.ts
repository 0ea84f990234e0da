import type { Batch } from '../../core/batches/batch.js';
import type { Contact } from '../../core/contacts/contact.js';
import type { ContactStatus } from '../../db/schema.js';
import { esc } from '../escape.js';
import type { KnownBlock } from './common.js';
import { actionIds, button, code, context, divider, n, text, when } from './common.js';

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
      ? button('Deactivate', actionIds.deactivate, b.id, 'danger')
      : button('Activate', actionIds.activate, b.id, 'primary');
  return {
    type: 'actions',
    block_id: `batch:${b.id}`,
    elements: [...(b.status === 'importing' ? [] : [toggle]), button('Details', actionIds.details, b.id)],
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
    blocks.push({ type: 'actions', elements: [button('Next page', actionIds.page, page.nextCursor)] });
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
        `${n(counts.bounced)} bounced · ${n(counts.unsubscribed)} unsubscribed`,
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
