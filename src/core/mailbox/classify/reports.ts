/**
 * The machine-readable report parts: RFC 3464 delivery status (message/delivery-status, and
 * RFC 6533's message/global-delivery-status) and RFC 5965 feedback reports
 * (message/feedback-report). Both are header-like field blocks; real MTAs bend the format
 * (no blank line between recipients, missing Action, a status with a comment after it), so the
 * reader is lenient and keys only on field names.
 */
import { type HeaderList, parseHeaders } from './mime.js';

/** One recipient block of a delivery-status report. */
export type DsnRecipient = {
  email: string | null;
  /** failed | delayed | delivered (delivered, relayed and expanded) | null when the report has no Action. */
  action: 'failed' | 'delayed' | 'delivered' | null;
  /** The enhanced status code (`5.1.1`) from Status, null when absent or unreadable. */
  status: string | null;
  replyCode: string | null;
  /** Diagnostic-Code without its type (`smtp;`), unfolded. */
  diagnostic: string;
};

/** Reads a delivery-status body into its recipients (the per-message block is skipped). */
export function readDeliveryStatus(body: string): DsnRecipient[] {
  const recipients: DsnRecipient[] = [];
  for (const block of recipientBlocks(body)) {
    // The address as we sent it (Original-Recipient, when the MTA kept ORCPT) before any alias expansion.
    const email = addressOf(field(block, 'original-recipient')) ?? addressOf(field(block, 'final-recipient'));
    const fallback = addressOf(field(block, 'x-actual-recipient'));
    const status = statusOf(field(block, 'status'));
    const diagnostic = stripType(field(block, 'diagnostic-code') ?? '');
    recipients.push({
      email: email ?? fallback,
      action: actionOf(field(block, 'action'), status, diagnostic),
      status,
      replyCode: replyCodeOf(diagnostic),
      diagnostic,
    });
  }
  return recipients;
}

/**
 * The field blocks that name a recipient. Blocks are separated by empty lines; a block that
 * repeats Final-Recipient (no empty line between recipients) is split there, and a block with
 * Action/Status but no recipient (an empty line inside a recipient) is joined to the one before.
 */
function recipientBlocks(body: string): HeaderList[] {
  const blocks: HeaderList[] = [];
  for (const chunk of body.split(/\r?\n[ \t]*\r?\n/)) {
    const fields = parseHeaders(chunk);
    if (fields.length === 0) continue;
    let current: HeaderList = [];
    const flush = () => {
      if (current.length) blocks.push(current);
      current = [];
    };
    for (const entry of fields) {
      const [name] = entry;
      const startsRecipient =
        (name === 'final-recipient' && has(current, 'final-recipient')) ||
        (name === 'original-recipient' && has(current, 'original-recipient'));
      if (startsRecipient) flush();
      current.push(entry);
    }
    flush();
  }
  const out: HeaderList[] = [];
  for (const block of blocks) {
    const namesRecipient = has(block, 'final-recipient') || has(block, 'original-recipient');
    const previous = out[out.length - 1];
    const saysOutcome = has(block, 'action') || has(block, 'status');
    if (namesRecipient) out.push(block);
    else if (previous && (saysOutcome || has(block, 'diagnostic-code'))) previous.push(...block);
    // A recipient block without its recipient (the per-message block never has Action or Status).
    else if (saysOutcome) out.push(block);
  }
  return out;
}

function has(block: HeaderList, name: string): boolean {
  return block.some(([key]) => key === name);
}

function field(block: HeaderList, name: string): string | null {
  for (const [key, value] of block) if (key === name) return value;
  return null;
}

/** `rfc822; <User@Example.com>` → `user@example.com`; null when no address is there. */
export function addressOf(value: string | null): string | null {
  if (!value) return null;
  const match = /[^\s<>;:"'(),[\]]+@[^\s<>;:"'(),[\]]+\.[^\s<>;:"'(),[\]]+/.exec(value);
  return match ? match[0].replace(/\.$/, '').toLowerCase() : null;
}

/** The first `d.d.d` enhanced status code in a text (class 2, 4 or 5). */
export function statusOf(value: string | null): string | null {
  if (!value) return null;
  const match = /(?:^|[^\d.])([245]\.\d{1,3}\.\d{1,3})(?![\d.]*\d)/.exec(value);
  return match?.[1] ?? null;
}

/** The SMTP reply code a diagnostic starts with or quotes (`550`, `550-5.1.1`, `said: 550 …`). */
export function replyCodeOf(text: string): string | null {
  const match = /(?:^|[^\d.:/=#-])([245][0-5]\d)(?=[ -]|$)(?![ -]\d{1,2}[:/])/.exec(text);
  return match?.[1] ?? null;
}

function stripType(value: string): string {
  return value.replace(/^[a-z][a-z0-9-]*\s*;\s*/i, '').trim();
}

function actionOf(value: string | null, status: string | null, diagnostic: string): DsnRecipient['action'] {
  const word = (value ?? '').trim().toLowerCase();
  if (word.startsWith('fail')) return 'failed';
  if (word.startsWith('delay')) return 'delayed';
  if (/^(deliver|relay|expand)/.test(word)) return 'delivered';
  // No (or an unknown) Action: the status class says it, else a diagnostic means a failure.
  if (status?.startsWith('2')) return 'delivered';
  if (status || diagnostic) return 'failed';
  return null;
}

/** A feedback report's fields (RFC 5965 §3.1). */
export type FeedbackReport = {
  feedbackType: string;
  rcptTo: string[];
  mailFrom: string | null;
};

const feedbackTypes = new Set(['abuse', 'fraud', 'virus', 'other', 'not-spam', 'auth-failure', 'opt-out']);

/** Reads a message/feedback-report body. */
export function readFeedbackReport(body: string): FeedbackReport {
  const fields = parseHeaders(body.replace(/\r?\n[ \t]*\r?\n/g, '\n'));
  const type = (field(fields, 'feedback-type') ?? '').trim().toLowerCase();
  return {
    feedbackType: feedbackTypes.has(type) ? type : type ? 'other' : 'abuse',
    rcptTo: fields
      .filter(([key]) => key === 'original-rcpt-to' || key === 'removal-recipient')
      .map(([, value]) => addressOf(value))
      .filter((email): email is string => email !== null),
    mailFrom: addressOf(field(fields, 'original-mail-from')),
  };
}
