import { domainToASCII } from 'node:url';
import type { OutgoingMessage } from '../../mail/mailer.js';
import { escapeHtml, firstNameOf, renderTemplate, subjectSafe } from '../campaigns/template.js';
import { messageIdFor, verpAddress } from '../mailbox/send-ref.js';

export type ComposeSettings = {
  /** PUBLIC_URL: base of the unsubscribe links. */
  publicUrl: string;
  postalAddress: string;
  /** Address that receives mailto: unsubscribe requests (the header keeps only the HTTPS link without it). */
  unsubscribeMailto: string | undefined;
  /**
   * MAIL_BOUNCE_ADDRESS: the envelope sender of every message becomes its VERP form
   * (`bounces+cb.<id>.<tag>@domain`), so a bounce names its send; unset: the From address.
   */
  bounceAddress?: string | undefined;
};

export type ComposeInput = {
  campaign: { id: string; subject: string; body: string; html: string | null; from: string };
  recipient: { email: string; name: string | null; company: string | null; position: string | null };
  sendId: number;
  token: string;
  /** The key that signs the send refs (Message-ID, VERP): the unsubscribe links' signing key. */
  key: string;
  /** A follow-up: the Message-IDs of the person's earlier steps, oldest first (In-Reply-To: the last). */
  thread?: string[];
  /** The sending identity the person's previous step went through (a follow-up's identity pin). */
  account?: string | undefined;
};

/** The domain of a `from` (`a@acme.com`, `Ana <a@acme.com>`) in ASCII, for the Message-ID; `localhost` if it has none. */
export function fromDomain(from: string): string {
  const m = /@([^@\s<>"]+)>?\s*$/.exec(from);
  const domain = (m?.[1] ?? '').toLowerCase();
  if (/^[a-z0-9.-]+$/.test(domain)) return domain;
  // an internationalized domain goes into the header in its punycode form
  const ascii = domainToASCII(domain);
  return /^[a-z0-9.-]+$/.test(ascii) ? ascii : 'localhost';
}

/**
 * Renders one personalised message with the unsubscribe headers (RFC 2369, RFC 8058) and footer,
 * its Message-ID naming the send (send-ref.ts) and, with a bounce address, its VERP envelope sender.
 */
export function composeMessage(settings: ComposeSettings, input: ComposeInput): OutgoingMessage {
  const { campaign, recipient, token } = input;
  const unsubscribeUrl = `${settings.publicUrl.replace(/\/$/, '')}/u/${token}`;
  const vars = {
    name: recipient.name,
    first_name: firstNameOf(recipient.name),
    company: recipient.company,
    position: recipient.position,
    email: recipient.email,
    unsubscribe_url: unsubscribeUrl,
  };
  const footer = `\n\n--\nDon't want these e-mails? Unsubscribe: ${unsubscribeUrl}\n${settings.postalAddress}\n`;
  const text = `${renderTemplate(campaign.body, vars)}${footer}`;
  const html = campaign.html
    ? `${renderTemplate(campaign.html, vars, { html: true })}` +
      `<hr><p style="font-size:12px;color:#666">Don't want these e-mails? ` +
      `<a href="${escapeHtml(unsubscribeUrl)}">Unsubscribe</a><br>${escapeHtml(settings.postalAddress)}</p>`
    : undefined;
  const mailto = settings.unsubscribeMailto
    ? `, <mailto:${settings.unsubscribeMailto}?subject=${encodeURIComponent(`unsubscribe ${token}`)}>`
    : '';
  return {
    from: campaign.from,
    to: recipient.email,
    subject: subjectSafe(renderTemplate(campaign.subject, vars)),
    text,
    ...(html ? { html } : {}),
    headers: {
      'List-Unsubscribe': `<${unsubscribeUrl}>${mailto}`,
      'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
    },
    messageId: messageIdFor(input.sendId, fromDomain(campaign.from), input.key),
    ...(settings.bounceAddress
      ? {
          envelope: {
            from: verpAddress(settings.bounceAddress, input.sendId, input.key),
            to: recipient.email,
          },
        }
      : {}),
    ...(input.thread && input.thread.length > 0
      ? { inReplyTo: input.thread[input.thread.length - 1], references: input.thread }
      : {}),
    ...(input.account !== undefined ? { account: input.account } : {}),
    ref: `${campaign.id}-${input.sendId}`,
  };
}
