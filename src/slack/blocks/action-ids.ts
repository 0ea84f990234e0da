/**
 * Every action id of a button the app posts, and the callback id of every modal it opens: the one
 * list, used by the blocks that post them and the listeners that answer them. Changing a value
 * breaks the buttons of messages already posted.
 */
export const actionIds = {
  batchActivate: 'batch_activate',
  batchDeactivate: 'batch_deactivate',
  batchDetails: 'batch_details',
  batchesPage: 'batches_page',
  batchExport: 'batch_export',
  batchScheduleActivation: 'batch_schedule_activation',
  batchCancelActivation: 'batch_cancel_activation',
  importUndo: 'import_undo',
  campaignPause: 'campaign_pause',
  campaignResume: 'campaign_resume',
  campaignCancel: 'campaign_cancel',
  campaignApprove: 'campaign_approve',
  campaignNew: 'campaign_new',
  campaignRetryFailed: 'campaign_retry_failed',
  campaignResendUnknown: 'campaign_resend_unknown',
  campaignResendUnknownConfirm: 'campaign_resend_unknown_confirm',
  /** "Send anyway" on a campaign the domain doctor held (admins); value `{"id": …}`. */
  campaignSendAnyway: 'campaign_send_anyway',
  /** The sequence buttons inside the campaign modal; values `{"step": key}` / `{"variant": key}`. */
  campaignAddStep: 'campaign_add_step',
  campaignRemoveStep: 'campaign_remove_step',
  campaignAddVariant: 'campaign_add_variant',
  campaignRemoveVariant: 'campaign_remove_variant',
  /** The Forget button of `/contacts forget`; its value is the address. */
  contactForget: 'contact_forget',
  /** The "Delete batch" button of a retention proposal; its value is the batch id. */
  retentionDelete: 'retention_delete_batch',
  /** The buttons of a reply notice; their value is `{"id": <inbox message id>}`. */
  replyInterested: 'reply_interested',
  replyNotInterested: 'reply_not_interested',
  replyUnsubscribe: 'reply_unsubscribe',
  replyWhy: 'reply_why',
  /**
   * "Stop sequence" (a reply notice, `/contacts why`); its value is
   * `{"campaignId": "…", "contactId": <id>}`, with `"notice": <inbox message id>` on a notice.
   */
  sequenceStop: 'sequence_stop',
} as const;

/** The callback ids of the modals the app opens. */
export const viewIds = {
  campaignNew: 'campaign_new_modal',
  batchSchedule: 'batch_schedule_activation_modal',
} as const;
