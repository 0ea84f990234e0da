import { DomainError } from '../../errors.js';
import { neutraliseHrefs, unsafeHrefs } from './safe-links.js';

/** Variables a campaign template may use, in the order people are told about them. */
export const templateVariables = [
  'name',
  'first_name',
  'company',
  'position',
  'email',
  'unsubscribe_url',
] as const;
export type TemplateVariable = (typeof templateVariables)[number];

/** One recipient's values; a null or blank value renders as the placeholder's fallback. */
export type TemplateVars = {
  name: string | null;
  first_name: string | null;
  company: string | null;
  position: string | null;
  email: string;
  unsubscribe_url: string;
};

/** `{{ key }}` or `{{ key | fallback }}`; key and fallback are trimmed, the fallback ends at `}}`. */
const placeholder = /\{\{([^{}|]*)(?:\|([^{}]*))?\}\}/g;

const known: ReadonlySet<string> = new Set(templateVariables);
const isVariable = (key: string): key is TemplateVariable => known.has(key);

const variableList = templateVariables.map((v) => `{{${v}}}`).join(', ');

/**
 * Names people reach for, normalised (lower case, letters and digits only), mapped to ours. A Map:
 * a key typed by a user (`__proto__`, `constructor`) must never reach Object.prototype.
 */
const aliases: ReadonlyMap<string, TemplateVariable> = new Map([
  ['fullname', 'name'],
  ['fname', 'first_name'],
  ['firstname', 'first_name'],
  ['givenname', 'first_name'],
  ['companyname', 'company'],
  ['organization', 'company'],
  ['organisation', 'company'],
  ['org', 'company'],
  ['title', 'position'],
  ['jobtitle', 'position'],
  ['role', 'position'],
  ['emailaddress', 'email'],
  ['unsubscribe', 'unsubscribe_url'],
  ['unsubscribelink', 'unsubscribe_url'],
  ['unsubscribeurl', 'unsubscribe_url'],
]);

function suggestionFor(key: string): TemplateVariable | undefined {
  const norm = key.toLowerCase().replace(/[^a-z0-9]/g, '');
  return templateVariables.find((v) => v.replace(/_/g, '') === norm) ?? aliases.get(norm);
}

/**
 * Throws invalid_input naming the field and every unknown variable, or an unclosed `{{`; with
 * `html`, also a link (href) written to anything but http(s) or mailto.
 */
export function validateTemplate(template: string, field: string, opts: { html?: boolean } = {}): void {
  const unknown: string[] = [];
  const suggestions = new Map<string, TemplateVariable>();
  for (const m of template.matchAll(placeholder)) {
    const key = (m[1] ?? '').trim();
    if (isVariable(key) || unknown.includes(key)) continue;
    unknown.push(key);
    const hint = suggestionFor(key);
    if (hint) suggestions.set(key, hint);
  }
  if (unknown.length > 0) {
    const named = unknown.map((k) => {
      const hint = suggestions.get(k);
      return `{{${k}}}${hint ? ` (did you mean {{${hint}}}?)` : ''}`;
    });
    throw new DomainError(
      'invalid_input',
      `Unknown variable${unknown.length > 1 ? 's' : ''} ${named.join(', ')} in ${field}. ` +
        `Use one of: ${variableList}, optionally with a fallback like {{first_name|there}}.`,
      { field, unknown, suggestions: Object.fromEntries(suggestions) },
    );
  }
  if (template.includes('{{{')) {
    throw new DomainError(
      'invalid_input',
      `The ${field} has triple braces {{{…}}}. Write variables with two: {{name}}.`,
      { field },
    );
  }
  const rest = template.replace(placeholder, '');
  const at = rest.indexOf('{{');
  if (at >= 0) {
    const near = rest.slice(at, at + 24).split(/\r?\n/)[0] ?? '';
    throw new DomainError(
      'invalid_input',
      `The ${field} has a {{ without a closing }} near "${near}". ` +
        `Write variables as {{name}} or {{first_name|there}}, each on one line, with no braces inside.`,
      { field, near },
    );
  }
  if (opts.html) {
    // A variable stands for a value without a scheme here; one the data gives is removed when sending.
    const bad = unsafeHrefs(template.replace(placeholder, 'x'));
    if (bad.length > 0) {
      throw new DomainError(
        'invalid_input',
        `The ${field} links to ${bad.map((b) => `"${b}"`).join(', ')}: links may only go to http://, https:// or mailto: addresses.`,
        { field, links: bad },
      );
    }
  }
}

const htmlEntities: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Escapes & < > " ' for HTML text and attribute values. */
export const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => htmlEntities[c] ?? c);

/**
 * Fills a validated template: a blank value takes the fallback (or nothing); `html` escapes what it
 * inserts and then removes any href that does not go to http(s) or mailto (`href="{{name}}"` with a
 * name of `javascript:…`).
 */
export function renderTemplate(template: string, vars: TemplateVars, opts: { html?: boolean } = {}): string {
  const filled = template.replace(placeholder, (_match, rawKey: string, rawFallback: string | undefined) => {
    const key = rawKey.trim();
    const value = isVariable(key) ? vars[key]?.trim() : undefined;
    const out = value ? value : (rawFallback?.trim() ?? '');
    return opts.html ? escapeHtml(out) : out;
  });
  return opts.html ? neutraliseHrefs(filled) : filled;
}

/** A subject line with control characters and line breaks turned into spaces (no header injection), ≤ 250 characters. */
export function subjectSafe(s: string): string {
  const flat = s
    .replace(/[\p{Cc}\p{Zl}\p{Zp}]+/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return Array.from(flat).slice(0, 250).join('').trimEnd();
}

/** The first name in a full name: "Ana Maria Silva" → "Ana", "Dr. Ana Silva" → "Ana", blank → null. */
export function firstNameOf(name: string | null): string | null {
  const tokens = (name ?? '').trim().split(/\s+/).filter(Boolean);
  if (tokens.length > 1 && tokens[0]?.endsWith('.')) tokens.shift();
  const first = tokens[0]?.replace(/,+$/, '');
  return first && !first.includes('@') ? first : null;
}
