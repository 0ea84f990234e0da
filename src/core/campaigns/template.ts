import { DomainError } from '../../errors.js';

/** Variables a campaign template may use. */
export const templateVariables = [
  'name',
  'first_name',
  'company',
  'position',
  'email',
  'unsubscribe_url',
] as const;
export type TemplateVariable = (typeof templateVariables)[number];
export type TemplateVars = Record<Exclude<TemplateVariable, 'email' | 'unsubscribe_url'>, string | null> & {
  email: string;
  unsubscribe_url: string;
};

const placeholder = /\{\{\s*([^{}|]*?)\s*(?:\|([^{}]*))?\}\}/g;
const known = new Set<string>(templateVariables);
const list = templateVariables.map((v) => `{{${v}}}`).join(', ');

/** Throws invalid_input naming the field and every unknown variable or unclosed `{{`. */
export function validateTemplate(template: string, field: string): void {
  const unknown = new Set<string>();
  for (const m of template.matchAll(placeholder)) {
    if (!known.has(m[1] ?? '')) unknown.add(`{{${m[1]}}}`);
  }
  if (unknown.size > 0) {
    throw new DomainError(
      'invalid_input',
      `Unknown variable ${[...unknown].join(', ')} in ${field}. Use one of: ${list} (fallbacks like {{first_name|there}}).`,
      { field, unknown: [...unknown] },
    );
  }
  const rest = template.replace(placeholder, '');
  if (rest.includes('{{') || rest.includes('}}')) {
    throw new DomainError(
      'invalid_input',
      `The ${field} has an unclosed {{ or a stray }}: write variables as {{name}}.`,
      { field },
    );
  }
}

const escapeHtml = (s: string) =>
  s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  );

/** Fills a validated template; an empty value takes the fallback (or nothing). HTML mode escapes what it inserts. */
export function renderTemplate(template: string, vars: TemplateVars, opts: { html?: boolean } = {}): string {
  return template.replace(placeholder, (_m, key: string, fallback: string | undefined) => {
    const value = known.has(key) ? vars[key as TemplateVariable] : null;
    const out = value?.trim() ? value.trim() : (fallback ?? '');
    return opts.html ? escapeHtml(out) : out;
  });
}

/** A subject line without CR/LF or control characters (no header injection), at most 250 characters. */
export function subjectSafe(s: string): string {
  return [...s]
    .map((ch) => (ch.charCodeAt(0) < 32 || ch.charCodeAt(0) === 127 ? ' ' : ch))
    .join('')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, 250);
}

/** "Ana Maria Silva" → "Ana"; "Dr. Ana Silva" → "Ana". */
export function firstNameOf(name: string | null): string | null {
  const tokens = (name ?? '').trim().split(/\s+/).filter(Boolean);
  if (tokens.length > 1 && tokens[0]!.endsWith('.')) tokens.shift();
  return tokens[0] ?? null;
}
