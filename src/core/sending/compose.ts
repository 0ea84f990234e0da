import type { OutgoingMessage } from '../../mail/mailer.js';
import { escapeHtml, firstNameOf, renderTemplate, subjectSafe } from '../campaigns/template.js';

export type ComposeSettings = {
  /** PUBLIC_URL: base of the unsubscribe links. */
  publicUrl: string;
  postalAddress: string;
  /** Address that receives mailto: unsubscribe requests (the header keeps only the HTTPS link without it). */
  unsubscribeMailto: string | undefined;
};

export type ComposeInput = {
  campaign: { id: string; subject: string; body: string; html: string | null; from: string };
  recipient: { email: string; name: string | null; company: string | null; position: string | null };
  sendId: number;
  token: string;
};

/** Renders one personalised message with the unsubscribe headers (RFC 2369, RFC 8058) and footer. */
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
    ref: `${campaign.id}-${input.sendId}`,
  };
}
