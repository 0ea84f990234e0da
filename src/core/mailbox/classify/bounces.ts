/**
 * From the failed recipients a bounce names (delivery-status fields, an SES notification, or the
 * words bounce-text.ts finds) to judged BounceRecipients (bounce-reason.ts decides reason,
 * permanent and hard).
 */
import type { BounceRecipient } from '../types.js';
import { judgeBounce } from './bounce-reason.js';
import type { MimePart } from './mime.js';
import { partText, walkMime } from './mime.js';
import { type DsnRecipient, readDeliveryStatus, replyCodeOf } from './reports.js';
import { noticeAbout } from './smtp-command.js';

export type FoundRecipient = {
  email: string | null;
  status: string | null;
  replyCode: string | null;
  diagnostic: string;
  action?: string | null;
};

const maxDiagnostic = 500;
const maxJudged = 2000;

/**
 * Judges each found recipient; a recipient without an address takes `fallbackEmail` when the
 * original had one. `notice` is the notice's text, read for the SMTP command a refusal answered
 * when the recipient's own words do not name it (a transcript, Postfix's summary line).
 */
export function judgeRecipients(
  found: FoundRecipient[],
  fallbackEmail: string | null,
  notice = '',
): BounceRecipient[] {
  return found.map((entry) => {
    // A server's words fit in a few lines; a longer "diagnostic" is a notice's whole text.
    const words = entry.diagnostic.slice(0, maxJudged);
    const judged = judgeBounce({
      status: entry.status,
      replyCode: entry.replyCode,
      diagnostic: words,
      action: entry.action ?? null,
      context: noticeAbout(notice, entry.email, found.length),
    });
    const diagnostic = entry.diagnostic.replace(/\s+/g, ' ').trim();
    return {
      email: entry.email ?? fallbackEmail,
      status: judged.status,
      permanent: judged.permanent,
      hard: judged.hard,
      reason: judged.reason,
      replyCode: entry.replyCode ?? replyCodeOf(entry.diagnostic),
      diagnostic: diagnostic.length > maxDiagnostic ? diagnostic.slice(0, maxDiagnostic) : diagnostic,
    };
  });
}

/**
 * A delayed or delivered recipient of a delivery report, for the listing and for matching only
 * (a delivery report has no effect): never permanent or hard; reason `delayed` or `delivered`.
 */
function notFailed(entry: DsnRecipient): BounceRecipient {
  const delayed = entry.action === 'delayed';
  return {
    email: entry.email,
    status: entry.status ?? (delayed ? '4.0.0' : '2.0.0'),
    permanent: false,
    hard: false,
    reason: delayed ? 'delayed' : 'delivered',
    replyCode: entry.replyCode,
    diagnostic: entry.diagnostic.replace(/\s+/g, ' ').trim().slice(0, maxDiagnostic),
  };
}

const statusPartTypes = new Set(['message/delivery-status', 'message/global-delivery-status']);

/** The recipients of the notice's own delivery-status parts (not those of a quoted original). */
export function dsnRecipients(parts: MimePart[]): DsnRecipient[] {
  const recipients: DsnRecipient[] = [];
  for (const part of parts) {
    if (part.quoted || !statusPartTypes.has(part.type)) continue;
    recipients.push(...readDeliveryStatus(partText(part)));
  }
  return recipients;
}

/**
 * What a delivery-status report says: the failed recipients (a bounce), or none failed but some
 * delayed or delivered (a delivery report: a warning or a receipt, no effect), or nothing
 * readable (null: the caller reads the text instead). A failed recipient whose fields lack the
 * diagnostic or the status borrows them from the notice's text (`scanned`), matched by address,
 * or in order when neither side names addresses.
 */
export function dsnOutcome(
  recipients: DsnRecipient[],
  scanned: () => FoundRecipient[] | null,
):
  | { kind: 'bounce'; found: FoundRecipient[] }
  | { kind: 'delivery_report'; recipients: BounceRecipient[] }
  | null {
  if (recipients.length === 0) return null;
  const failed = recipients.filter((entry) => entry.action === 'failed');
  if (failed.length === 0) {
    const reported = recipients.filter((entry) => entry.action !== null);
    return reported.length > 0 ? { kind: 'delivery_report', recipients: reported.map(notFailed) } : null;
  }
  const found: FoundRecipient[] = failed.map((entry) => ({ ...entry, action: 'failed' }));
  if (found.every((entry) => entry.diagnostic && entry.status)) return { kind: 'bounce', found };
  const fromText = scanned() ?? [];
  found.forEach((entry, index) => {
    const twin =
      fromText.find((other) => other.email !== null && other.email === entry.email) ??
      (fromText.length === found.length ? fromText[index] : undefined) ??
      (fromText.length === 1 && found.length === 1 ? fromText[0] : undefined);
    if (!twin) return;
    if (!entry.diagnostic) entry.diagnostic = twin.diagnostic;
    if (!entry.replyCode) entry.replyCode = twin.replyCode;
    if (!entry.status) entry.status = twin.status;
  });
  return { kind: 'bounce', found };
}

/**
 * The delivery-status report of a notice, where it may hide: in the notice's own parts; inside
 * a bounce that a gateway wrapped in its own notice (a message/rfc822 part that is itself a
 * multipart/report DSN; only asked when the outer message reads as a notice); or as DSN fields
 * left in a plain-text body (a DSN whose MIME structure was lost), used only to see that every
 * recipient is merely delayed or delivered.
 */
export function reportOutcome(
  parts: MimePart[],
  notice: string,
  isNotice: boolean,
  scanned: () => FoundRecipient[] | null,
): ReturnType<typeof dsnOutcome> {
  const own = dsnOutcome(dsnRecipients(parts), scanned);
  if (own || !isNotice) return own;
  for (const part of parts) {
    if (part.type !== 'message/rfc822' && part.type !== 'message/global') continue;
    const inner = walkMime(part.body);
    const innerType = inner.headers.find(([name]) => name === 'content-type')?.[1] ?? '';
    if (!/report-type\s*=\s*"?(?:delivery-status|global-delivery-status)/i.test(innerType)) continue;
    const wrapped = dsnOutcome(dsnRecipients(inner.parts), scanned);
    if (wrapped) return wrapped;
  }
  if (
    /^(?:final|original)-recipient\s*:/im.test(notice) &&
    /^action\s*:\s*(?:delayed|delivered|relayed|expanded)/im.test(notice)
  ) {
    const inText = readDeliveryStatus(notice);
    if (
      inText.length > 0 &&
      inText.every((entry) => entry.action === 'delayed' || entry.action === 'delivered')
    ) {
      return { kind: 'delivery_report', recipients: inText.map(notFailed) };
    }
  }
  return null;
}
