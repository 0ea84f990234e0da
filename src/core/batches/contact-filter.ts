import { z } from 'zod';
import { DomainError } from '../../errors.js';
import { type ContactStatus, contactStatuses, type ValidationResult, validationResults } from '../types.js';

/** Which of a batch's contacts to show or export; every field narrows (AND). The store turns it into its query. */
export type ContactFilter = {
  status?: ContactStatus;
  /** Substring of the company, any case. */
  company?: string;
  /** Substring of the position, any case. */
  position?: string;
  /** The e-mail domain, exactly (`acme.com`; subdomains are other domains). */
  domain?: string;
  /** The bulk validation verdict, or `unchecked` for contacts not validated yet. */
  validation?: ValidationResult | 'unchecked';
  /** Created at or after (ms). */
  createdFrom?: number;
  /** Created before (ms). */
  createdTo?: number;
  /** Free text in e-mail, name, company or position. */
  q?: string;
};

/** Filter text composed (NFC), as stored values are: `é` typed as e + ◌́ then folds to e (core/text-fold.ts). */
const composed = (s: string) => s.normalize('NFC');
const text = z.string().trim().min(1).max(200).transform(composed);
const day = z.iso.date();
const dateTime = z.iso.datetime({ offset: true });
/** A day (`2026-01-31`, UTC midnight) or an ISO date-time with offset; a day that does not exist (2026-13-45, 2026-02-30) is refused. */
const instant = z
  .string()
  .trim()
  .refine((s) => day.safeParse(s).success || dateTime.safeParse(s).success, {
    error: (issue) =>
      `"${String(issue.input).slice(0, 40)}" is not a date: give a real day (2026-01-31) or an ISO date-time with offset (2026-01-31T09:00:00Z)`,
  })
  .transform((s) => Date.parse(day.safeParse(s).success ? `${s}T00:00:00Z` : s));

/** The filter as query-string fields (REST), validated. */
export const contactFilterQuery = z.object({
  status: z.enum(contactStatuses).optional(),
  company: text.optional(),
  position: text.optional(),
  domain: z
    .string()
    .trim()
    .toLowerCase()
    .regex(/^[a-z0-9.-]+\.[a-z]{2,}$/, 'must be a domain like acme.com')
    .optional(),
  validation: z.enum([...validationResults, 'unchecked']).optional(),
  createdFrom: instant.optional(),
  createdTo: instant.optional(),
  q: z.string().trim().max(200).transform(composed).optional(),
});

const slackKeys: Record<string, keyof z.infer<typeof contactFilterQuery>> = {
  status: 'status',
  company: 'company',
  position: 'position',
  title: 'position',
  domain: 'domain',
  validation: 'validation',
  after: 'createdFrom',
  from: 'createdFrom',
  before: 'createdTo',
  to: 'createdTo',
};

const filterHelp =
  'Filters: `status:bounced` `company:acme` `position:"head of sales"` `domain:acme.com` ' +
  '`validation:no_mail_domain` `after:2026-01-01` `before:2026-02-01`, and any other words as free text.';

/**
 * The filter as people type it in Slack: `company:acme status:bounced "head of"`; quoted values
 * may hold spaces; words without a key are free text. Throws invalid_input naming the bad part.
 */
export function parseFilterText(input: string): ContactFilter {
  const fields: Record<string, string> = {};
  const free: string[] = [];
  for (const m of input.matchAll(/(?:([a-z_]+):)?(?:"([^"]*)"|(\S+))/gi)) {
    const key = m[1]?.toLowerCase();
    const value = m[2] ?? m[3] ?? '';
    if (!key) {
      free.push(value);
      continue;
    }
    const field = slackKeys[key];
    if (!field) throw new DomainError('invalid_input', `Unknown filter \`${key}:\`. ${filterHelp}`);
    fields[field] = value;
  }
  if (free.length) fields.q = free.join(' ');
  const parsed = contactFilterQuery.safeParse(fields);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new DomainError(
      'invalid_input',
      `Filter ${String(issue.path[0])}: ${issue.message}. ${filterHelp}`,
    );
  }
  return parsed.data;
}

/** A short description of a filter, for messages ("company ~ acme, status bounced"). */
export function describeFilter(f: ContactFilter): string {
  const parts: string[] = [];
  if (f.status) parts.push(`status ${f.status}`);
  if (f.company) parts.push(`company ~ ${f.company}`);
  if (f.position) parts.push(`position ~ ${f.position}`);
  if (f.domain) parts.push(`domain ${f.domain}`);
  if (f.validation) parts.push(`validation ${f.validation}`);
  if (f.createdFrom !== undefined)
    parts.push(`created from ${new Date(f.createdFrom).toISOString().slice(0, 10)}`);
  if (f.createdTo !== undefined)
    parts.push(`created before ${new Date(f.createdTo).toISOString().slice(0, 10)}`);
  if (f.q) parts.push(`"${f.q}"`);
  return parts.join(', ');
}
