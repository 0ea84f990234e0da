/** One e-mail to one recipient, fully rendered. */
export type OutgoingMessage = {
  from: string;
  to: string;
  subject: string;
  text: string;
  html?: string;
  /** Extra headers, e.g. List-Unsubscribe and List-Unsubscribe-Post. */
  headers: Record<string, string>;
  /** The Message-ID header, with its angle brackets (`<cb.…@acme.com>`); absent: nodemailer makes one. */
  messageId?: string;
  /**
   * The SMTP envelope (MAIL FROM / RCPT TO) when it differs from the headers: a VERP bounce
   * address as MAIL FROM (the Return-Path), the From header unchanged. Absent: From and To.
   */
  envelope?: { from: string; to: string };
  /** A follow-up (sequences): the Message-ID it answers, and the whole thread oldest first. */
  inReplyTo?: string;
  references?: string[];
  /**
   * The sending identity (SMTP_URLS account key) that must send it: a follow-up goes from the
   * mailbox that sent the person's previous step. Absent: any identity.
   */
  account?: string;
  /** Stable id used for the outbox file name and logs (never the address). */
  ref: string;
};

export type SentInfo = {
  /** The message's Message-ID as sent, with its angle brackets (the one given, or nodemailer's). */
  messageId: string;
  response: string;
  /** The sending identity (SMTP account key, never a password) that took it; absent with one transport. */
  account?: string;
};

/** One sending identity's state today, for /healthz (no secrets). */
export type IdentityState = {
  key: string;
  sentToday: number;
  /** Today's cap (warm-up applied); null: no cap. */
  capToday: number | null;
  /** ISO time until which it is skipped after repeated failures; null: in use. */
  skippedUntil: string | null;
  consecutiveFailures: number;
};

/**
 * Why a send failed: `permanent` (5xx: the address bounced), `transient` (4xx, connection
 * dropped, timeout: retry later), or `unknown` (the server may or may not have taken it).
 */
export type MailFailureKind = 'permanent' | 'transient' | 'unknown';

export class MailError extends Error {
  override readonly name = 'MailError';
  constructor(
    readonly kind: MailFailureKind,
    /** SMTP reply code when there was one (550, 451, …). */
    readonly responseCode: number | undefined,
    /** The server's answer or the network error, for the ledger (no secrets). */
    readonly response: string,
    /** The server could not be reached at all (refused, DNS, no greeting): nothing was sent. */
    readonly unreachable = false,
    /**
     * Nothing was tried: every sending identity is at its daily cap (another instance may have
     * filled it), skipped or between two messages. Not an outage: the row waits, and `room`
     * already says no more until there is.
     */
    readonly noRoom = false,
  ) {
    super(response);
  }
}

/** The narrow interface the send engine depends on. */
export interface Mailer {
  /** What this mailer is, for logs and /healthz: `smtp` or `outbox`. */
  readonly kind: 'smtp' | 'outbox';
  /** Sends one message; throws MailError on failure. */
  send(message: OutgoingMessage): Promise<SentInfo>;
  /** Checks the server can be reached (SMTP) or the folder written (outbox). */
  verify(): Promise<boolean>;
  close(): Promise<void>;
  /**
   * Messages it can still take now (sending identities: daily caps, skipped accounts), from memory;
   * absent: no limit.
   */
  room?(now: number): number;
  /** Each sending identity's state (SMTP_URLS); absent with one transport. */
  identities?(now: number): IdentityState[];
}

/** The nodemailer message fields of an OutgoingMessage (one recipient, our headers). */
export function mailFields(m: OutgoingMessage) {
  return {
    from: m.from,
    to: m.to,
    subject: m.subject,
    text: m.text,
    ...(m.html !== undefined ? { html: m.html } : {}),
    ...(m.messageId !== undefined ? { messageId: m.messageId } : {}),
    ...(m.envelope !== undefined ? { envelope: m.envelope } : {}),
    ...(m.inReplyTo !== undefined ? { inReplyTo: m.inReplyTo } : {}),
    ...(m.references !== undefined && m.references.length > 0 ? { references: m.references } : {}),
    headers: m.headers,
  };
}
