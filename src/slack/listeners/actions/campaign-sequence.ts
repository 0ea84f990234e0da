import type { App } from '@slack/bolt';
import { z } from 'zod';
import { actionIds } from '../../blocks/action-ids.js';
import { type ActionArgs, tellClicker } from '../../kit/action.js';
import { failureText, type SlackDeps } from '../../kit/context.js';
import { campaignModal, modalMetadata } from '../../views/campaign-modal.js';
import { changeShape, type ShapeChange } from '../../views/campaign-steps.js';
import { readTyped } from '../../views/modal-inputs.js';

/** A click inside the modal: the view as it is (its id, hash, metadata, what was typed) and the button. */
const modalClick = z
  .object({
    view: z
      .object({
        id: z.string(),
        hash: z.string().optional(),
        private_metadata: z.string().default('{}'),
        state: z.object({ values: z.unknown() }).loose().optional(),
      })
      .loose(),
    actions: z.array(z.object({ value: z.string().optional() }).loose()).min(1),
  })
  .loose();

const stepValue = z.object({ step: z.number().int().min(0) });
const variantValue = z.object({ variant: z.number().int().min(1) });

/** What each button asks of the modal's shape, from its value. */
const changes: Record<string, (value: unknown) => ShapeChange> = {
  [actionIds.campaignAddStep]: () => ({ kind: 'add_step' }),
  [actionIds.campaignRemoveStep]: (v) => ({ kind: 'remove_step', step: stepValue.parse(v).step }),
  [actionIds.campaignAddVariant]: (v) => ({ kind: 'add_variant', step: stepValue.parse(v).step }),
  [actionIds.campaignRemoveVariant]: (v) => ({
    kind: 'remove_variant',
    variant: variantValue.parse(v).variant,
  }),
};

/**
 * "Add follow-up", "Add variant" and their "Remove" buttons inside the campaign modal: the modal is
 * redrawn (views.update with the view's hash) with one step or variant more or less, and with what
 * the person had typed put back. Nothing is saved until the modal is submitted.
 */
export function register(app: App, deps: SlackDeps): void {
  for (const [actionId, change] of Object.entries(changes))
    app.action(actionId, async (args: ActionArgs) => {
      await args.ack();
      try {
        const { view, actions } = modalClick.parse(args.body);
        const meta = modalMetadata.parse(JSON.parse(view.private_metadata));
        const shape = changeShape(meta.seq, change(JSON.parse(actions[0]?.value ?? '{}')));
        const { audience, eta } = await deps.services.progress.reachNow();
        const next = campaignModal(
          { audience, eta, channelId: meta.channelId, doctor: deps.services.progress.doctorFindings() },
          shape,
          readTyped(view.state?.values),
        );
        await args.client.views.update({
          view_id: view.id,
          ...(view.hash ? { hash: view.hash } : {}),
          view: next,
        });
      } catch (e) {
        // Two clicks in a row: Slack refuses the older view's update; the later click redraws it.
        if (slackErrorCode(e) === 'hash_conflict') {
          deps.log.info({ actionId }, 'campaign modal changed meanwhile: click not applied');
          return;
        }
        await tellClicker(deps, args, failureText(deps, e, 'changing the steps of the campaign form'));
      }
    });
}

const slackError = z.object({ data: z.object({ error: z.string() }) });
const slackErrorCode = (e: unknown) => slackError.safeParse(e).data?.data.error;
