import type { types } from '@slack/bolt';
import { z } from 'zod';
import { type AudienceSummary, describeExcluded } from '../../core/audience/audience-service.js';
import type { CampaignInput } from '../../core/campaigns/campaign.js';
import type { DoctorFinding } from '../../core/campaigns/progress.js';
import { viewIds } from '../blocks/action-ids.js';
import { doctorBlocks } from '../blocks/campaign-held.js';
import { context, n, text, when } from '../blocks/common.js';
import { esc } from '../kit/escape.js';
import {
  bodyMaxLength,
  type ModalProblem,
  type ModalShape,
  type ModalStep,
  modalShape,
  oneStep,
  ownVariant,
  readSteps,
  sequenceBlocks,
} from './campaign-steps.js';
import { input, plain, restoreTyped, type TypedState } from './modal-inputs.js';

type View = types.ModalView;
const dayNames = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

export type ModalContext = {
  /** Who a campaign would reach now, and why the others of the active batch are left out. */
  audience: AudienceSummary;
  /** When the send should finish at the default settings (now, no limits). */
  eta: number | null;
  /** Where /campaigns new was typed: the progress message goes there. */
  channelId: string | null;
  /** What the domain doctor's last report found wrong (shown above the fields; none: nothing). */
  doctor?: readonly DoctorFinding[];
};

/**
 * The "New campaign" modal: who it will reach and when it should finish, then the fields, with the
 * follow-ups and variants of `shape` (campaign-steps.ts). Redrawn after a button in it, `typed`
 * (its state values) puts back what the person had written.
 */
export function campaignModal(
  ctx: ModalContext,
  shape: ModalShape = oneStep(),
  typed: TypedState = {},
): View {
  const reach = audienceLine(ctx.audience, ctx.eta);
  const metadata: ModalMetadata = { channelId: ctx.channelId, seq: shape };
  return {
    type: 'modal',
    callback_id: viewIds.campaignNew,
    private_metadata: JSON.stringify(metadata),
    title: plain('New campaign'),
    submit: plain('Save'),
    close: plain('Cancel'),
    blocks: restoreTyped(
      [
        text(reach),
        context(
          'A daily limit, a send window or a rate makes it slower: the progress message shows the new estimate.',
        ),
        ...doctorBlocks(ctx.doctor ?? []),
        input('name', 'Name', { type: 'plain_text_input', max_length: 200 }),
        input(
          'subject',
          `Subject${ownVariant(shape, 0)}`,
          { type: 'plain_text_input', max_length: 250 },
          false,
          'e.g. Quick question, {{first_name|there}}',
        ),
        input(
          'body',
          `Body${ownVariant(shape, 0)}`,
          { type: 'plain_text_input', multiline: true, max_length: bodyMaxLength },
          false,
          'Variables: {{name}} {{first_name}} {{company}} {{position}} {{email}} {{unsubscribe_url}}. ' +
            'Slack takes up to 3,000 characters; send a longer body with POST /campaigns (REST API).',
        ),
        ...sequenceBlocks(shape),
        input('when', 'When', {
          type: 'radio_buttons',
          initial_option: { text: plain('Now'), value: 'now' },
          options: [
            { text: plain('Now'), value: 'now' },
            { text: plain('At a date and time'), value: 'at' },
            { text: plain('Daily drip (cron)'), value: 'cron' },
            { text: plain('Save as draft'), value: 'draft' },
          ],
        }),
        input('send_at', 'Date and time (for "At a date and time")', { type: 'datetimepicker' }, true),
        input(
          'cron',
          'Cron (for a drip)',
          { type: 'plain_text_input', placeholder: plain('0 9 * * 1-5') },
          true,
          'minute hour day month weekday',
        ),
        input(
          'daily_limit',
          'Daily limit (contacts per run)',
          { type: 'number_input', is_decimal_allowed: false, min_value: '1' },
          true,
        ),
        input(
          'rate',
          'Rate (messages per minute)',
          { type: 'number_input', is_decimal_allowed: false, min_value: '1' },
          true,
        ),
        input(
          'window_days',
          'Send only on',
          { type: 'checkboxes', options: dayNames.map((d, i) => ({ text: plain(d), value: String(i) })) },
          true,
        ),
        input('window_start', 'Window start', { type: 'timepicker' }, true),
        input('window_end', 'Window end', { type: 'timepicker' }, true),
        input(
          'timezone',
          'Timezone',
          { type: 'plain_text_input', initial_value: 'UTC' },
          true,
          'IANA name, e.g. America/Sao_Paulo',
        ),
      ],
      typed,
    ),
  };
}

/** "Audience now: 1,234 people in batch X; 12 excluded: 12 no_mail_domain", with a warning when it is nobody. */
export function audienceLine(a: AudienceSummary, eta: number | null): string {
  if (!a.batch)
    return ':warning: No batch is active: this campaign would reach nobody. Activate a batch with `/batches` first.';
  const excludedTotal = Object.values(a.excluded).reduce((s, v) => s + (v ?? 0), 0);
  const excluded = excludedTotal > 0 ? `; ${n(excludedTotal)} excluded: ${describeExcluded(a.excluded)}` : '';
  const batch = `batch *${esc(a.batch.name)}* (\`${a.batch.id}\`)`;
  if (a.count === 0) {
    const hint = a.excluded.no_mail_domain ? ` — see \`/batches include-invalid ${a.batch.id} on\`` : '';
    return `:warning: *Audience now: nobody* in ${batch}${excluded}${hint}. Sending now is refused until someone can be reached.`;
  }
  return (
    `*Audience now: ${n(a.count)}* ${a.count === 1 ? 'person' : 'people'} in ${batch}${excluded}` +
    (eta ? `. Sent now with no limits it should finish ${when(new Date(eta).toISOString())}.` : '.')
  );
}

const cell = z
  .object({
    value: z.string().nullish(),
    selected_option: z.object({ value: z.string() }).nullish(),
    selected_options: z.array(z.object({ value: z.string() })).nullish(),
    selected_date_time: z.number().nullish(),
    selected_time: z.string().nullish(),
  })
  .loose();
const stateSchema = z.record(z.string(), z.object({ v: cell }).loose());
/** What the modal carries: where to post the progress message, and its steps and variants. */
export const modalMetadata = z.object({
  channelId: z.string().nullable(),
  seq: modalShape.default(oneStep),
});
export type ModalMetadata = z.infer<typeof modalMetadata>;
/** The campaign input with the steps typed in the modal (none for a one-step campaign). */
export type ModalInput = CampaignInput & { steps?: ModalStep[] };

/** The modal's values as a campaign input (validated later by the same schema REST uses). */
export function readCampaignModal(
  values: unknown,
  shape: ModalShape = oneStep(),
): {
  input: ModalInput;
  draft: boolean;
  problem?: ModalProblem;
} {
  const s = stateSchema.parse(values);
  const get = (id: string) => s[id]?.v;
  const str = (id: string) => get(id)?.value?.trim() || undefined;
  const num = (id: string) => (str(id) === undefined ? undefined : Number(str(id)));
  const when = get('when')?.selected_option?.value ?? 'now';
  const timezone = str('timezone') ?? 'UTC';
  const days = get('window_days')?.selected_options?.map((o) => Number(o.value));
  const start = get('window_start')?.selected_time ?? undefined;
  const end = get('window_end')?.selected_time ?? undefined;
  const at = get('send_at')?.selected_date_time;
  const sequence = readSteps(shape, str, { subject: str('subject') ?? '', body: get('body')?.value ?? '' });
  const input: ModalInput = {
    name: str('name') ?? '',
    subject: str('subject') ?? '',
    body: get('body')?.value ?? '',
    timezone,
    ...(num('daily_limit') !== undefined ? { dailyLimit: num('daily_limit') } : {}),
    ...(num('rate') !== undefined ? { ratePerMinute: num('rate') } : {}),
    ...(days?.length || start || end
      ? {
          window: {
            days: days?.length ? days : [0, 1, 2, 3, 4, 5, 6],
            start: start ?? '00:00',
            end: end ?? '23:59',
            timezone,
          },
        }
      : {}),
    ...(when === 'now' ? { sendAt: 'now' as const } : {}),
    ...(when === 'at' && at ? { sendAt: new Date(at * 1000).toISOString() } : {}),
    ...(when === 'cron' ? { cron: str('cron') ?? '' } : {}),
    ...(sequence.steps ? { steps: sequence.steps } : {}),
  };
  if (sequence.problem) return { input, draft: false, problem: sequence.problem };
  if (when === 'at' && !at)
    return { input, draft: false, problem: { block: 'send_at', message: 'Pick the date and time to send.' } };
  if (when === 'cron' && !str('cron'))
    return {
      input,
      draft: false,
      problem: { block: 'cron', message: 'Write the cron expression, e.g. 0 9 * * 1-5.' },
    };
  return { input, draft: when === 'draft' };
}

/** Which modal block a validation message belongs to. */
export function blockForError(message: string): string {
  const m = message.toLowerCase();
  if (m.includes('subject')) return 'subject';
  if (m.includes('body')) return 'body';
  if (m.includes('cron') || m.includes('dailylimit') || m.includes('daily limit')) return 'cron';
  if (m.includes('window') || m.includes('timezone')) return 'window_days';
  if (m.includes('sendat') || m.includes('date')) return 'send_at';
  return 'name';
}
