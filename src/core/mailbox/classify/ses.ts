/**
 * Amazon SES notifications forwarded by e-mail (an SNS topic with an e-mail subscription): the
 * body is the notification JSON, either bare or wrapped in the SNS envelope (`"Type":
 * "Notification"`, the notification as the `Message` string). SNS wraps long lines with `!` and
 * a newline-space, which is undone before parsing. Shapes: docs.aws.amazon.com/ses/latest/dg/
 * notification-contents.html.
 */
import { z } from 'zod';
import { addressOf, replyCodeOf, statusOf } from './reports.js';

const recipient = z.object({
  emailAddress: z.string(),
  action: z.string().optional(),
  status: z.string().optional(),
  diagnosticCode: z.string().optional(),
});

const notification = z.object({
  notificationType: z.enum(['Bounce', 'Complaint', 'Delivery']),
  bounce: z
    .object({
      bounceType: z.string().optional(),
      bounceSubType: z.string().optional(),
      bouncedRecipients: z.array(recipient).default([]),
    })
    .optional(),
  complaint: z
    .object({
      complainedRecipients: z.array(z.object({ emailAddress: z.string() })).default([]),
      complaintFeedbackType: z.string().optional(),
    })
    .optional(),
  mail: z
    .object({
      source: z.string().optional(),
      commonHeaders: z.object({ messageId: z.string().optional() }).optional(),
    })
    .optional(),
});

const envelope = z.object({ Type: z.string(), Message: z.string() });

/** What the notification says of the message it is about: its Message-ID header and envelope sender. */
export type SesOriginal = { messageIds: string[]; senders: string[] };

export type SesNotification = { original: SesOriginal } & (
  | {
      type: 'bounce';
      /** Permanent, Transient or Undetermined (SES's word for the whole notification). */
      bounceType: string;
      bounceSubType: string;
      recipients: Array<{
        email: string | null;
        status: string | null;
        replyCode: string | null;
        diagnostic: string;
      }>;
    }
  | { type: 'complaint'; feedbackType: string; emails: string[] }
  | { type: 'delivery' }
);

/** The SES notification a message body carries, or null. */
export function readSesNotification(text: string): SesNotification | null {
  if (!text.includes('notificationType')) return null;
  const start = text.indexOf('{');
  const end = text.lastIndexOf('}');
  if (start < 0 || end <= start) return null;
  const json = text.slice(start, end + 1).replace(/!\r?\n /g, '');
  const parsed = parseJson(json) ?? parseJson(json.replace(/\r?\n/g, ''));
  if (parsed === undefined) return null;
  const wrapped = envelope.safeParse(parsed);
  const inner = notification.safeParse(wrapped.success ? parseJson(wrapped.data.Message) : parsed);
  if (!inner.success) return null;
  const data = inner.data;
  const messageId = data.mail?.commonHeaders?.messageId;
  const source = addressOf(data.mail?.source ?? null);
  const original: SesOriginal = { messageIds: messageId ? [messageId] : [], senders: source ? [source] : [] };
  if (data.notificationType === 'Delivery') return { type: 'delivery', original };
  if (data.notificationType === 'Complaint') {
    const emails = (data.complaint?.complainedRecipients ?? [])
      .map((entry) => addressOf(entry.emailAddress))
      .filter((email): email is string => email !== null);
    return {
      original,
      type: 'complaint',
      feedbackType: (data.complaint?.complaintFeedbackType ?? 'abuse').toLowerCase(),
      emails,
    };
  }
  const bounce = data.bounce;
  return {
    original,
    type: 'bounce',
    bounceType: bounce?.bounceType ?? 'Undetermined',
    bounceSubType: bounce?.bounceSubType ?? '',
    recipients: (bounce?.bouncedRecipients ?? []).map((entry) => {
      const diagnostic = (entry.diagnosticCode ?? '').replace(/^[a-z][a-z0-9-]*\s*;\s*/i, '').trim();
      return {
        email: addressOf(entry.emailAddress),
        status: statusOf(entry.status ?? null) ?? statusOf(diagnostic),
        replyCode: replyCodeOf(diagnostic),
        diagnostic,
      };
    }),
  };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
