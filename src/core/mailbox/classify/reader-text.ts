/**
 * The text a person reads in a message: its own inline text/plain parts (not those of a quoted
 * original or an attachment). An HTML-only message goes through mailparser, whose html-to-text
 * keeps quotes (`> `) and line structure; mailparser is not used for every message because its
 * stream pipeline costs a few milliseconds even for a tiny message (it would cap the inbox at
 * about 250 messages/s), while the structure walk in mime.ts costs a fraction of one.
 */
import type { MimePart } from './mime.js';
import { headerValue, partText } from './mime.js';
import { readMailText } from './read-mail.js';

function inline(part: MimePart): boolean {
  return !part.quoted && !/^\s*attachment/i.test(headerValue(part.headers, 'content-disposition') ?? '');
}

/** The message's readable text: its text/plain parts, else its HTML turned into text. */
export async function readerText(raw: Buffer, parts: MimePart[]): Promise<string> {
  const plain = parts.filter((part) => part.type === 'text/plain' && inline(part));
  if (plain.length > 0) return plain.map(partText).join('\n');
  const html = parts.filter((part) => part.type === 'text/html' && inline(part));
  if (html.length === 0) return '';
  try {
    return await readMailText(raw);
  } catch {
    return html.map((part) => htmlToText(partText(part))).join('\n');
  }
}

/** A plain rendering of HTML (tags dropped, block ends as line breaks, common entities decoded). */
export function htmlToText(html: string): string {
  return html
    .replace(/<(?:script|style|head)[\s\S]*?<\/(?:script|style|head)>/gi, '')
    .replace(/<(?:br|\/p|\/div|\/tr|\/li|\/h\d|\/blockquote)[^>]*>/gi, '\n')
    .replace(/<[^>]+>/g, '')
    .replace(/&nbsp;/g, ' ')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#(\d+);/g, (_, code: string) => String.fromCodePoint(Number(code)))
    .replace(/&amp;/g, '&');
}
