import { z } from 'zod';
import { DomainError } from '../../errors.js';

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

const campaignValue = z.object({ id: z.string().max(100) });

/** A campaign button's value: `{"id": "<campaign id>"}`. */
export const parseCampaignValue = (raw: string | undefined): string =>
  campaignValue.parse(JSON.parse(z.string().parse(raw))).id;

const replyValue = z.object({ id: z.number().int().positive() });

/**
 * A reply notice button's value: `{"id": <inbox message id>}`. Anything else (a message posted by
 * another version, a hand-made request) is refused with a clear answer, not a failure.
 */
export function parseReplyValue(raw: string | undefined): number {
  let value: unknown;
  try {
    value = JSON.parse(raw ?? '');
  } catch {
    value = undefined;
  }
  const parsed = replyValue.safeParse(value);
  if (!parsed.success)
    throw new DomainError(
      'invalid_input',
      'This button is not one I can read any more: nothing was changed.',
    );
  return parsed.data.id;
}
