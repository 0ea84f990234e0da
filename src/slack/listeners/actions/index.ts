import type { App } from '@slack/bolt';
import type { SlackDeps } from '../../kit/context.js';
import { register as batchActivate } from './batch-activate.js';
import { register as batchCancelActivation } from './batch-cancel-activation.js';
import { register as batchDeactivate } from './batch-deactivate.js';
import { register as batchDetails } from './batch-details.js';
import { register as batchExport } from './batch-export.js';
import { register as batchSchedule } from './batch-schedule.js';
import { register as batchesPage } from './batches-page.js';
import { register as campaignControls } from './campaign-controls.js';
import { register as campaignNew } from './campaign-new.js';
import { register as campaignRetry } from './campaign-retry.js';
import { register as campaignSendAnyway } from './campaign-send-anyway.js';
import { register as campaignSequence } from './campaign-sequence.js';
import { register as contactForget } from './contact-forget.js';
import { register as importUndo } from './import-undo.js';
import { register as replyInterest } from './reply-interest.js';
import { register as replyUnsubscribe } from './reply-unsubscribe.js';
import { register as replyWhy } from './reply-why.js';
import { register as retentionDelete } from './retention-delete.js';
import { register as sequenceStop } from './sequence-stop.js';

/** Every button the app posts (blocks/action-ids.ts lists their ids). */
export function register(app: App, deps: SlackDeps): void {
  for (const listener of [
    batchActivate,
    batchDeactivate,
    batchDetails,
    batchesPage,
    batchExport,
    batchSchedule,
    batchCancelActivation,
    importUndo,
    campaignControls,
    campaignNew,
    campaignRetry,
    campaignSequence,
    campaignSendAnyway,
    contactForget,
    retentionDelete,
    replyInterest,
    replyUnsubscribe,
    replyWhy,
    sequenceStop,
  ])
    listener(app, deps);
}
