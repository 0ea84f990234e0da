/**
 * Links in a campaign's HTML may go to http(s) and mailto addresses only: a `javascript:` or
 * `data:` href (written in the template, or made of a contact's field such as `href="{{name}}"`)
 * would run or show whatever an imported CSV put there.
 */

/** Schemes an href may use. */
export const allowedLinkSchemes = ['http', 'https', 'mailto'] as const;

/** An href attribute with its value: double-quoted, single-quoted or bare. */
const hrefAttribute = /([\s/])href\s*=\s*("[^"]*"|'[^']*'|[^\s"'>]+)/gi;

const named: ReadonlyMap<string, string> = new Map([
  ['amp', '&'],
  ['quot', '"'],
  ['apos', "'"],
  ['lt', '<'],
  ['gt', '>'],
  ['colon', ':'],
  ['tab', '\t'],
  ['newline', '\n'],
  ['nbsp', ' '],
]);

/** The attribute value as a browser reads it: entities decoded, then what a URL parser skips (controls, whitespace) removed. */
function urlOf(raw: string): string {
  const unquoted = /^["']/.test(raw) ? raw.slice(1, -1) : raw;
  const decoded = unquoted.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);?/gi, (all, ent: string) => {
    const e = ent.toLowerCase();
    if (e.startsWith('#x')) return String.fromCodePoint(Number.parseInt(e.slice(2), 16) || 0xfffd);
    if (e.startsWith('#')) return String.fromCodePoint(Number.parseInt(e.slice(1), 10) || 0xfffd);
    return named.get(e) ?? all;
  });
  return decoded.replace(/[\p{Cc}\p{Z}]/gu, '').toLowerCase();
}

/** Whether an href value is allowed: an http(s) or mailto URL, or one without a scheme (`#top`). */
export function isSafeHref(raw: string): boolean {
  const url = urlOf(raw);
  const scheme = /^([a-z][a-z0-9+.-]*):/.exec(url)?.[1];
  if (scheme) return (allowedLinkSchemes as readonly string[]).includes(scheme);
  // No scheme we can read; anything else with a colon before the path is refused too.
  return !/^[^/?#]*:/.test(url);
}

/** The href values of an HTML text that are not allowed (shown in a refusal, shortened). */
export function unsafeHrefs(html: string): string[] {
  const bad: string[] = [];
  for (const m of html.matchAll(hrefAttribute)) {
    const value = m[2] ?? '';
    if (!isSafeHref(value)) bad.push(value.replace(/^["']|["']$/g, '').slice(0, 40));
  }
  return bad;
}

/** Removes every href whose value is not allowed (the link text stays, no longer a link target). */
export function neutraliseHrefs(html: string): string {
  return html.replace(hrefAttribute, (all, space: string, value: string) =>
    isSafeHref(value) ? all : space,
  );
}
