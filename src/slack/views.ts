import { z } from 'zod';
import { type ContactFilter, describeFilter } from '../core/batches/contact-filter.js';
import { batchDetailsBlocks, batchListBlocks } from './blocks/batches.js';
import { actionIds, button, context, type KnownBlock, localTime, text } from './blocks/common.js';
import { validationBlocks } from './blocks/validation.js';
import type { SlackDeps } from './context.js';
import { esc } from './escape.js';

/**
 * Where a batch button was clicked, so the answer re-renders the same place: a message showing the
 * list or one batch's details, the App Home showing the list (`home`) or one batch (`home_details`),
 * or the reply to an import.
 */
export const buttonValue = z.object({
  id: z.string().max(100).optional(),
  view: z.enum(['list', 'details', 'home', 'home_details', 'import']),
  page: z.string().max(500).nullable().optional(),
});
export type ButtonValue = z.infer<typeof buttonValue>;

const bareId = z.string().regex(/^[\w-]{1,100}$/);

/**
 * A batch button's value. A bare batch id is the "Show contacts" button of import replies posted
 * before values carried their view: it answers like the import reply's button does today.
 */
export function parseButtonValue(raw: unknown): ButtonValue {
  const value = z.string().parse(raw);
  const bare = bareId.safeParse(value);
  if (bare.success) return { id: bare.data, view: 'import', page: null };
  return buttonValue.parse(JSON.parse(value));
}

/** The button was clicked in the App Home (which is re-published), not in a message. */
export const onHome = (v: ButtonValue) => v.view === 'home' || v.view === 'home_details';

/** The list at a page, where the click came from (a message or the App Home). */
export const listFor = (deps: SlackDeps, v: ButtonValue, page: string | null = v.page ?? null) =>
  listView(deps, page, onHome(v) ? 'home' : 'list');

/** One batch's details, where the click came from (a message or the App Home). */
export const detailsFor = (deps: SlackDeps, v: ButtonValue, id: string) =>
  detailsView(deps, id, v.page ?? null, {}, onHome(v) ? 'home_details' : 'details');

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

/** A page of batches with working buttons (and, past the first page, a way back to it). */
export function listView(deps: SlackDeps, page: string | null, view: 'list' | 'home' = 'list'): KnownBlock[] {
  const result = deps.services.batches.list({ limit: pageSize, ...(page ? { cursor: page } : {}) });
  const blocks = tagButtons(batchListBlocks(result), view, page);
  if (page && result.batches.length > 0) {
    const first = button('First page', actionIds.page, JSON.stringify({ view, page: null }));
    const last = blocks.at(-1);
    if (last?.type === 'actions' && last.elements.some((e) => e.action_id === actionIds.page))
      last.elements.unshift(first);
    else blocks.push({ type: 'actions', elements: [first] });
  }
  return blocks;
}

/** One batch: counts, first contacts, history, buttons, and a way back to the list. */
export function detailsView(
  deps: SlackDeps,
  id: string,
  page: string | null = null,
  filter: ContactFilter = {},
  view: 'details' | 'home_details' = 'details',
): KnownBlock[] {
  const { batches } = deps.services;
  const { batch, contacts } = batches.contacts(id, { limit: 10, ...filter });
  const blocks = batchDetailsBlocks({
    batch,
    counts: batches.statusCounts(id),
    contacts,
    events: batches.events(id),
  });
  const tagged = tagButtons(blocks, view, page);
  const pending = deps.services.scheduledActivations.pendingFor(id);
  const last = tagged.at(-1);
  if (last?.type === 'actions') {
    const value = JSON.stringify({ id, view, page });
    if (pending) last.elements.push(button('Cancel scheduled activation', actionIds.cancelActivation, value));
    else if (batch.status === 'inactive')
      last.elements.push(button('Schedule activation', actionIds.scheduleActivation, value));
    last.elements.push(
      button('Export CSV', actionIds.export, value),
      button(
        'Back to list',
        actionIds.page,
        JSON.stringify({ view: view === 'home_details' ? 'home' : 'list', page }),
      ),
    );
  }
  const described = describeFilter(filter);
  if (described) {
    const at = tagged.length - (last?.type === 'actions' ? 1 : 0);
    tagged.splice(
      at,
      0,
      context(
        `:mag: Contacts shown: ${esc(described)} (the first ${contacts.length} matching). ` +
          `\`/batches export ${id} …\` with the same filters exports them all.`,
      ),
    );
  }
  if (pending) {
    const at = tagged.length - (last?.type === 'actions' ? 1 : 0);
    tagged.splice(
      at,
      0,
      context(`:calendar: Activates on ${localTime(pending.at)} (scheduled by ${who(pending.createdBy)}).`),
    );
  }
  tagged.splice(Math.min(2, tagged.length), 0, ...validationBlocks(id, deps.services.validation.summary(id)));
  return tagged;
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

/** A Slack user id as a mention; anything else (api, cli) as code. */
export const who = (actor: string) =>
  /^[UW][A-Z0-9]{2,}$/.test(actor) ? `<@${actor}>` : `\`${esc(actor)}\``;

/** `/batches scheduled`: pending activations, soonest first, each with a Cancel button. */
export function scheduledView(deps: SlackDeps): KnownBlock[] {
  const pending = deps.services.scheduledActivations.listPending(20);
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
          actionIds.cancelActivation,
          JSON.stringify({ id: p.batchId, view: 'list', page: null }),
        ),
      },
    ]),
  ];
}
