import { z } from 'zod';
import { batchDetailsBlocks, batchListBlocks } from './blocks/batches.js';
import { actionIds, button, type KnownBlock, text } from './blocks/common.js';
import type { SlackDeps } from './context.js';

/** Where a batch button was clicked, so the answer re-renders the same place. */
export const buttonValue = z.object({
  id: z.string().max(100).optional(),
  view: z.enum(['list', 'details', 'home', 'import']),
  page: z.string().max(500).nullable().optional(),
});
export type ButtonValue = z.infer<typeof buttonValue>;

export const parseButtonValue = (raw: unknown): ButtonValue =>
  buttonValue.parse(JSON.parse(z.string().parse(raw)));

const pageSize = 10;

/** Rewrites the batch buttons' values so a click knows the view and page it came from. */
function tagButtons(blocks: KnownBlock[], view: ButtonValue['view'], page: string | null): KnownBlock[] {
  return blocks.map((b) => {
    if (b.type !== 'actions') return b;
    return {
      ...b,
      elements: b.elements.map((el) => {
        if (el.type !== 'button' || !el.value || !el.action_id) return el;
        if (el.action_id === actionIds.page)
          return { ...el, value: JSON.stringify({ view, page: el.value }) };
        if (el.action_id === actionIds.undo) return el;
        return { ...el, value: JSON.stringify({ id: el.value, view, page }) };
      }),
    };
  });
}

/** A page of batches with working buttons. */
export function listView(deps: SlackDeps, page: string | null, view: 'list' | 'home' = 'list'): KnownBlock[] {
  const result = deps.services.batches.list({ limit: pageSize, ...(page ? { cursor: page } : {}) });
  return tagButtons(batchListBlocks(result), view, page);
}

/** One batch: counts, first contacts, history, buttons, and a way back to the list. */
export function detailsView(deps: SlackDeps, id: string, page: string | null = null): KnownBlock[] {
  const { batches } = deps.services;
  const { batch, contacts } = batches.contacts(id, { limit: 10 });
  const blocks = batchDetailsBlocks({
    batch,
    counts: batches.statusCounts(id),
    contacts,
    events: batches.events(id),
  });
  const tagged = tagButtons(blocks, 'details', page);
  const last = tagged.at(-1);
  if (last?.type === 'actions') {
    last.elements.push(
      button('Export CSV', actionIds.export, JSON.stringify({ id, view: 'details', page })),
      button('Back to list', actionIds.page, JSON.stringify({ view: 'list', page })),
    );
  }
  return tagged;
}

export function helpBlocks(prefix?: string): KnownBlock[] {
  return [
    text(
      `${prefix ? `${prefix}\n\n` : ''}*/batches* manages contact batches. Only the *active* batch receives campaigns.\n` +
        '• `/batches list` — batches, newest first, with buttons\n' +
        '• `/batches show <id>` — counts by status, first contacts, history\n' +
        '• `/batches activate <id>` — make it the only active batch\n' +
        '• `/batches deactivate <id>` — no batch receives campaigns until one is activated\n' +
        '• `/batches export <id>` — the batch as CSV, sent to you as a direct message\n' +
        '• `/batches help` — this text\n' +
        'To import, drop a CSV file in a channel the app is in: each file becomes a new active batch.',
    ),
  ];
}
