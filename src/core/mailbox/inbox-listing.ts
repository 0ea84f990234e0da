import { z } from 'zod';
import type { InboxMessageKind } from '../vocabulary.js';
import type { InboxMessageRow } from './mailbox-store.js';

/** A read message as `GET /inbox/messages` lists it (PRODUCT.md §7). */
export type InboxMessage = {
  id: number;
  kind: InboxMessageKind;
  /** The sender's address. */
  from: string | null;
  subject: string;
  /** The read message's own first Message-ID header, null when it has none. */
  messageId: string | null;
  /** ISO 8601. */
  receivedAt: string;
  campaignId?: string;
  contactId?: number;
  snippet: string | null;
  /** Listed even when no recipient matched a send. */
  bounce?: {
    recipients: {
      email: string | null;
      status: string;
      permanent: boolean;
      hard: boolean;
      matched: boolean;
    }[];
  };
  complaint?: { feedbackType: string; emails: string[] };
};

/** The stored details JSON (record-plan.ts writes it); read back defensively. */
const detailsSchema = z.object({
  complaint: z.object({ feedbackType: z.string(), emails: z.array(z.string()) }).optional(),
});

function complaintOf(details: string | null): InboxMessage['complaint'] {
  if (!details) return undefined;
  try {
    const parsed = detailsSchema.safeParse(JSON.parse(details));
    return parsed.success ? parsed.data.complaint : undefined;
  } catch {
    return undefined;
  }
}

/** A stored message in the listing's shape. */
export function toInboxMessage(m: InboxMessageRow): InboxMessage {
  const complaint = m.kind === 'complaint' ? complaintOf(m.details) : undefined;
  return {
    id: m.id,
    kind: m.kind,
    from: m.from,
    subject: m.subject ?? '',
    messageId: m.messageId,
    receivedAt: new Date(m.receivedAt).toISOString(),
    ...(m.campaignId !== null ? { campaignId: m.campaignId } : {}),
    ...(m.contactId !== null ? { contactId: m.contactId } : {}),
    snippet: m.snippet,
    ...(m.kind === 'bounce'
      ? {
          bounce: {
            recipients: m.bounces.map((b) => ({
              email: b.email,
              status: b.status,
              permanent: b.permanent,
              hard: b.hard,
              matched: b.sendId !== null,
            })),
          },
        }
      : {}),
    ...(complaint ? { complaint } : {}),
  };
}
