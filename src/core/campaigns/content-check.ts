import { linkShorteners, spamPhrasesEn, spamPhrasesPt } from './content-lists.js';

/**
 * The content check on save: what in a campaign's message tends to land it in spam, in plain
 * words. Warnings only: a campaign is never refused for them (POST /campaigns returns them as
 * `warnings`, the New campaign modal shows them).
 */
export type ContentWarning = { code: ContentWarningCode; message: string };
export type ContentWarningCode =
  | 'no_text_part'
  | 'too_many_links'
  | 'link_shortener'
  | 'images_only'
  | 'all_caps_subject'
  | 'spam_words'
  | 'too_large'
  | 'footer_without_unsubscribe';

/** What the check reads: the subject, the text body, the html body and a custom footer, as templates. */
export type ContentInput = { subject: string; body: string; html?: string | null; footer?: string | null };

/** More links than this in one message is warned about. */
export const maxLinks = 3;
/** A message over this many bytes is warned about: Gmail clips messages over 102 KB. */
export const maxBytes = 100 * 1024;
/** An html part with images and fewer words than this reads as images only. */
const minWordsWithImages = 25;

const placeholders = /\{\{[^{}]*\}\}/g;
const unsubscribeVariable = /\{\{\s*unsubscribe_url\s*(\|[^{}]*)?\}\}/;
const textUrl = /\b(?:https?:\/\/|www\.)[^\s<>"'()[\]]+/gi;
const hrefUrl = /\bhref\s*=\s*["']?\s*((?:https?:)?\/\/[^"'\s>]+)/gi;

/** Lower case without accents, so "GRÁTIS", "gratis" and "grátis" compare equal. */
const fold = (s: string) => s.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();

/** Each phrase as a whole-word pattern over folded text. */
const phrases = [...spamPhrasesEn, ...spamPhrasesPt].map((p) => ({
  phrase: p,
  pattern: new RegExp(
    `(?<![\\p{L}\\p{N}])${fold(p).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![\\p{L}\\p{N}])`,
    'u',
  ),
}));

/** The visible words of an html part (tags, scripts, styles and entities out). */
function htmlText(html: string): string {
  return html
    .replace(/<(script|style)\b[\s\S]*?<\/\1\s*>/gi, ' ')
    .replace(/<[^>]*>/g, ' ')
    .replace(/&[a-z0-9#]+;/gi, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

const words = (text: string) => text.split(/\s+/).filter((w) => /[\p{L}\p{N}]/u.test(w)).length;

/** Distinct links of a part: URLs written in the text, or hrefs of the html. */
function linksOf(text: string, pattern: RegExp, group: number): string[] {
  const found = [...text.replace(placeholders, ' ').matchAll(pattern)].map((m) =>
    (m[group] ?? '').replace(/[.,;:!?]+$/, ''),
  );
  return [...new Set(found.filter(Boolean))];
}

function hostOf(url: string): string {
  try {
    return new URL(
      /^[a-z]+:/i.test(url) ? url : `https://${url.replace(/^\/\//, '')}`,
    ).hostname.toLowerCase();
  } catch {
    return '';
  }
}

const isShortener = (host: string) => linkShorteners.some((s) => host === s || host.endsWith(`.${s}`));

/** Mostly capital letters: at least 8 letters, over 70 % of them upper case. */
function shouting(subject: string): boolean {
  const letters = [...subject.replace(placeholders, ' ')].filter((c) => c.toLowerCase() !== c.toUpperCase());
  const upper = letters.filter((c) => c === c.toUpperCase()).length;
  return letters.length >= 8 && upper / letters.length > 0.7;
}

const quoteList = (items: string[]) =>
  items
    .slice(0, 5)
    .map((x) => `"${x}"`)
    .join(', ') + (items.length > 5 ? ` and ${items.length - 5} more` : '');

/** Every warning a message earns, in a stable order; none for a clean message. */
export function checkContent(input: ContentInput): ContentWarning[] {
  const out: ContentWarning[] = [];
  const warn = (code: ContentWarningCode, message: string) => out.push({ code, message });
  const html = input.html?.trim() ? input.html : null;
  const text = input.body;
  const footer = input.footer ?? '';

  if (html && !text.trim())
    warn(
      'no_text_part',
      'Only an HTML version: a plain-text one is generated from it, but filters trust messages whose text part was written. Add a plain-text body.',
    );

  const textLinks = linksOf(`${text}\n${footer}`, textUrl, 0);
  const htmlLinks = html ? linksOf(html, hrefUrl, 1) : [];
  const links = Math.max(textLinks.length, htmlLinks.length);
  if (links > maxLinks)
    warn(
      'too_many_links',
      `${links} links: more than ${maxLinks} makes a message look like marketing to spam filters. Keep to one or two.`,
    );

  const short = [...new Set([...textLinks, ...htmlLinks].map(hostOf).filter(isShortener))];
  if (short.length > 0)
    warn(
      'link_shortener',
      `Links through a URL shortener (${short.join(', ')}): filters often score or block them. Link to your own site instead.`,
    );

  if (html && /<img\b/i.test(html) && words(htmlText(html)) < minWordsWithImages)
    warn(
      'images_only',
      'The HTML is mostly images with little text: filters cannot read images and often treat such messages as spam. Write the message as text, with at most one image.',
    );

  if (shouting(input.subject))
    warn(
      'all_caps_subject',
      'The subject is in capital letters: it reads as shouting and spam filters score it. Write it in normal case.',
    );

  const all = fold(
    [input.subject, text, html ? htmlText(html) : '', footer].join('\n').replace(placeholders, ' '),
  );
  const found = phrases.filter((p) => p.pattern.test(all)).map((p) => p.phrase);
  if (found.length > 0)
    warn(
      'spam_words',
      `Words spam filters look for: ${quoteList(found)}. Say the same thing in plainer words.`,
    );

  const bytes = Buffer.byteLength(text) + Buffer.byteLength(html ?? '') + Buffer.byteLength(footer);
  if (bytes > maxBytes)
    warn(
      'too_large',
      `The message is ${Math.ceil(bytes / 1024)} KB: Gmail clips messages over 102 KB and hides the rest, unsubscribe link included, behind "View entire message". Keep it under 100 KB.`,
    );

  if (input.footer?.trim() && !unsubscribeVariable.test(input.footer))
    warn(
      'footer_without_unsubscribe',
      'The custom footer has no {{unsubscribe_url}}: every cold e-mail must let people unsubscribe in one click. Add it to the footer.',
    );
  return out;
}
