import { type ContactFilter, describeFilter } from '../../core/batches/contact-filter.js';
import { actionIds } from '../blocks/action-ids.js';
import { batchDetailsBlocks, batchListBlocks, scheduledBlocks } from '../blocks/batches.js';
import { button, context, type KnownBlock, localTime, who } from '../blocks/common.js';
import { validationBlocks } from '../blocks/validation.js';
import { type ButtonValue, onHome } from '../kit/button-value.js';
import type { SlackDeps } from '../kit/context.js';
import { esc } from '../kit/escape.js';

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
        if (el.action_id === actionIds.batchesPage)
          return { ...el, value: JSON.stringify({ view, page: el.value }) };
        if (el.action_id === actionIds.importUndo) return el;
        return { ...el, value: JSON.stringify({ id: el.value, view, page }) };
      }),
    };
  });
}

/** A page of batches with working buttons (and, past the first page, a way back to it). */
export async function listView(
  deps: SlackDeps,
  page: string | null,
  view: 'list' | 'home' = 'list',
): Promise<KnownBlock[]> {
  const result = await deps.services.batches.list({ limit: pageSize, ...(page ? { cursor: page } : {}) });
  const blocks = tagButtons(batchListBlocks(result), view, page);
  if (page && result.batches.length > 0) {
    const first = button('First page', actionIds.batchesPage, JSON.stringify({ view, page: null }));
    const last = blocks.at(-1);
    if (last?.type === 'actions' && last.elements.some((e) => e.action_id === actionIds.batchesPage))
      last.elements.unshift(first);
    else blocks.push({ type: 'actions', elements: [first] });
  }
  return blocks;
}

/** One batch: counts, first contacts, history, buttons, and a way back to the list. */
export async function detailsView(
  deps: SlackDeps,
  id: string,
  page: string | null = null,
  filter: ContactFilter = {},
  view: 'details' | 'home_details' = 'details',
): Promise<KnownBlock[]> {
  const { batches } = deps.services;
  const { batch, contacts } = await batches.contacts(id, { limit: 10, ...filter });
  const blocks = batchDetailsBlocks({
    batch,
    counts: await batches.statusCounts(id),
    contacts,
    events: await batches.events(id),
  });
  const tagged = tagButtons(blocks, view, page);
  const pending = await deps.services.scheduledActivations.pendingFor(id);
  const last = tagged.at(-1);
  if (last?.type === 'actions') {
    const value = JSON.stringify({ id, view, page });
    if (pending)
      last.elements.push(button('Cancel scheduled activation', actionIds.batchCancelActivation, value));
    else if (batch.status === 'inactive')
      last.elements.push(button('Schedule activation', actionIds.batchScheduleActivation, value));
    last.elements.push(
      button('Export CSV', actionIds.batchExport, value),
      button(
        'Back to list',
        actionIds.batchesPage,
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
  const validation = validationBlocks(id, await deps.services.validation.summary(id));
  tagged.splice(Math.min(2, tagged.length), 0, ...validation);
  return tagged;
}

/** `/batches scheduled`: pending activations, soonest first, each with a Cancel button. */
export const scheduledView = async (deps: SlackDeps): Promise<KnownBlock[]> =>
  scheduledBlocks(await deps.services.scheduledActivations.listPending(20));
