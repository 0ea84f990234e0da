import { z } from 'zod';

/**
 * Modal input blocks, and what a person typed in them put back when the app redraws the modal
 * (views.update after a button in it): each input block's value from `view.state.values` becomes
 * its element's initial value. Slack also keeps the input of blocks whose block_id and action_id
 * stay the same; the initial values say it explicitly, so nothing depends on that alone.
 */

export const plain = (t: string) => ({ type: 'plain_text' as const, text: t });

/** An input block whose element has the action id `v` (what the modal readers look up). */
export function input(
  blockId: string,
  label: string,
  element: Record<string, unknown>,
  optional = false,
  hint?: string,
) {
  return {
    type: 'input' as const,
    block_id: blockId,
    optional,
    label: plain(label),
    element: { action_id: 'v', ...element },
    ...(hint ? { hint: plain(hint) } : {}),
  };
}

const option = z.object({ value: z.string() }).loose();
const typedCell = z
  .object({
    value: z.string().nullish(),
    selected_option: option.nullish(),
    selected_options: z.array(option).nullish(),
    selected_date_time: z.number().nullish(),
    selected_time: z.string().nullish(),
  })
  .loose();
const typedState = z.record(z.string(), z.record(z.string(), typedCell));
export type TypedState = z.infer<typeof typedState>;

/** The modal's state values, or an empty state when they are not the shape Slack sends. */
export function readTyped(values: unknown): TypedState {
  return typedState.safeParse(values).data ?? {};
}

type Element = Record<string, unknown>;
/** Any block: only an input block's `element` is read. */
type Block = { type: string; block_id?: string; element?: unknown };
const elementSchema = z.record(z.string(), z.unknown());

/** The options of an element whose value is one of `values`, as the element lists them. */
function optionsOf(element: Element, values: string[]): unknown[] {
  const options = z.array(option).safeParse(element.options).data ?? [];
  return options.filter((o) => values.includes(o.value));
}

/** The element with the typed value as its initial value (without one when the field was cleared). */
function withTyped(element: Element, cell: z.infer<typeof typedCell>): Element {
  const {
    initial_value: _v,
    initial_option: _o,
    initial_options: _os,
    initial_date_time: _d,
    initial_time: _t,
    ...rest
  } = element;
  switch (element.type) {
    case 'plain_text_input':
    case 'number_input':
      return cell.value ? { ...rest, initial_value: cell.value } : rest;
    case 'radio_buttons':
    case 'static_select': {
      const [picked] = cell.selected_option ? optionsOf(element, [cell.selected_option.value]) : [];
      return picked ? { ...rest, initial_option: picked } : rest;
    }
    case 'checkboxes': {
      const picked = optionsOf(
        element,
        (cell.selected_options ?? []).map((o) => o.value),
      );
      return picked.length > 0 ? { ...rest, initial_options: picked } : rest;
    }
    case 'datetimepicker':
      return cell.selected_date_time ? { ...rest, initial_date_time: cell.selected_date_time } : rest;
    case 'timepicker':
      return cell.selected_time ? { ...rest, initial_time: cell.selected_time } : rest;
    default:
      return element;
  }
}

/** The blocks with what was typed in each input block (state keyed by block_id, then action_id). */
export function restoreTyped(blocks: readonly Block[], typed: TypedState): Block[] {
  return blocks.map((b) => {
    const element = b.type === 'input' ? elementSchema.safeParse(b.element).data : undefined;
    const actionId = element?.action_id;
    const cell = b.block_id && typeof actionId === 'string' ? typed[b.block_id]?.[actionId] : undefined;
    return element && cell ? { ...b, element: withTyped(element, cell) } : b;
  });
}
