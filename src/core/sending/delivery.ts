import type { Clock } from '../../clock.js';
import type { Logger } from '../../logger.js';
import { MailError, type Mailer } from '../../mail/mailer.js';
import { signUnsubscribeToken } from '../../mail/unsubscribe-token.js';
import type { CampaignRecord } from '../campaigns/campaign-store.js';
import { nextDueAt, stepText } from '../campaigns/sequence.js';
import type { BounceRule } from '../contacts/hard-bounce.js';
import type { CampaignRun } from './campaign-run.js';
import { composeMessage } from './compose.js';
import type { SendEngineSettings } from './engine-types.js';
import type { MailOutage } from './mail-outage.js';
import type { Claimed, SendStore, SentResult } from './send-store.js';

/** What became of one message: accepted (to be marked sent with the next claim) or settled here. */
export type Outcome = SentResult | 'bounced' | 'retry' | 'failed' | 'unknown' | 'unreachable';

export type DeliveryDeps = {
  mailer: Mailer;
  store: SendStore;
  clock: Clock;
  log: Logger;
  bounces: BounceRule;
};

/** What one pass knows of its campaign: the record, its steps and send window (parsed once). */
export type SendPass = Pick<CampaignRun, 'c' | 'steps' | 'sequence' | 'sendWindow'>;

/**
 * One message: compose and send. A bounce or a failure is settled in the ledger here; an accepted
 * message is returned, to be marked sent with the next claim. Never throws. A step of a sequence
 * gets its step's (and variant's) text, the person's thread and identity; once accepted, the
 * person's next step is due `delayDays` business days later (null after the last step).
 */
export async function deliver(
  deps: DeliveryDeps,
  s: SendEngineSettings,
  outage: MailOutage,
  pass: SendPass,
  item: Claimed,
): Promise<Outcome> {
  const c = pass.c;
  try {
    // One key (read once, then kept) signs the unsubscribe link and the send refs (Message-ID, VERP).
    const key = await s.unsubscribeKey();
    const text = pass.sequence ? stepText(pass.steps, item.step, item.variant, item.firstVariant) : c;
    const message = composeMessage(s, {
      campaign: { id: c.id, subject: text.subject, body: text.body, html: text.html, from: c.fromAddress },
      recipient: item.recipient,
      sendId: item.sendId,
      token: signUnsubscribeToken(item.sendId, key),
      key,
      thread: item.thread,
      account: item.account,
    });
    const info = await deps.mailer.send(message);
    const sent: SentResult = {
      sendId: item.sendId,
      messageId: info.messageId,
      response: info.response,
      account: info.account,
    };
    if (pass.steps.length > 1) {
      const next = pass.steps[item.step]; // 0-based: the step after this one
      const due = next ? nextDueAt(deps.clock.now(), next.delayDays, pass.sendWindow, c.timezone) : null;
      sent.sequence = { campaignId: c.id, contactId: item.contactId, step: item.step, nextDueAt: due };
    }
    return sent;
  } catch (e) {
    return settleFailure(deps, s, outage, c, item, e);
  }
}

async function settleFailure(
  deps: DeliveryDeps,
  s: SendEngineSettings,
  outage: MailOutage,
  c: CampaignRecord,
  item: Claimed,
  e: unknown,
): Promise<Outcome> {
  const { store, log } = deps;
  const now = deps.clock.now();
  if (e instanceof MailError && e.kind === 'permanent') {
    const response = `${e.responseCode ?? ''} ${e.response}`.trim();
    await deps.bounces({
      campaignId: c.id,
      contactId: item.contactId,
      email: item.recipient.email,
      emailHash: item.emailHash,
      response,
      at: now,
      ledger: { sendId: item.sendId, attempts: item.attempts + 1 },
    });
    log.info({ campaignId: c.id, sendId: item.sendId }, 'hard bounce: contact suppressed');
    return 'bounced';
  }
  if (e instanceof MailError && e.kind === 'unknown') {
    // Sent, then no answer: the server may have it. Reported, never re-sent (at-most-once).
    await store.settleUnknown(item.sendId, e.response, now);
    log.warn({ campaignId: c.id, sendId: item.sendId }, 'delivery unknown: no answer after sending');
    return 'unknown';
  }
  if (e instanceof MailError && e.unreachable && (item.account !== undefined || e.noRoom)) {
    // The identity this person's thread is pinned to cannot take it now (today's cap, skipped,
    // between two messages, or its server down), or no identity had room (another instance may
    // have filled the cap): not now, without an attempt, and not an outage for the campaign.
    const retryAt = now + (s.retryDelaysMs[0] ?? 60_000);
    await store.settleRetry(item.sendId, item.attempts, retryAt, e.response, now);
    return 'unreachable';
  }
  if (e instanceof MailError && e.unreachable) {
    // Nothing left this machine and it says nothing about the recipient: the row waits for the
    // server without spending one of its attempts, so an outage of any length loses no one.
    const retryAt = now + (s.retryDelaysMs[0] ?? 60_000);
    await store.settleRetry(item.sendId, item.attempts, retryAt, e.response, now);
    outage.wentDown(c.id, retryAt, e.response);
    return 'unreachable';
  }
  if (e instanceof MailError) {
    const attempts = item.attempts + 1;
    const delays = s.retryDelaysMs;
    const delay = delays[Math.min(attempts - 1, delays.length - 1)] ?? 60_000;
    const last = attempts >= s.maxAttempts;
    await store.settleRetry(item.sendId, attempts, last ? null : now + delay, e.response, now);
    return last ? 'failed' : 'retry';
  }
  log.error({ err: e, campaignId: c.id, sendId: item.sendId }, 'delivery failed unexpectedly');
  await store.settleRetry(
    item.sendId,
    item.attempts + 1,
    null,
    `internal error: ${String(e).slice(0, 200)}`,
    now,
  );
  return 'failed';
}
