import { domainPatternSchema } from '../../../../core/suppression/domain-suppression-service.js';
import { DomainError } from '../../../../errors.js';
import { code, context, n, text } from '../../../blocks/common.js';
import type { Subcommand } from '../../../kit/command.js';
import { assertAdmin } from '../../../kit/context.js';
import { esc } from '../../../kit/escape.js';

const usage = '`/contacts suppress @acme.com [reason]` or `/contacts suppress *.acme.com [reason]`';

/** The pattern as typed; Slack may wrap a domain it linkified as `<http://acme.com|acme.com>`. */
function patternOf(token: string, how: string): string {
  const unwrapped = token.replace(/^<[^|>]*\|([^>]*)>$/, '$1').replace(/^<(?:https?:\/\/)?([^>]*)>$/, '$1');
  const parsed = domainPatternSchema.safeParse(unwrapped);
  if (!parsed.success) {
    throw new DomainError(
      'invalid_input',
      `\`${token.slice(0, 80)}\` is not a domain: ${parsed.error.issues[0]?.message ?? 'invalid'}. Use ${how}.`,
    );
  }
  return parsed.data;
}

const split = (args: string) => {
  const [first = '', ...rest] = args.split(/\s+/);
  return { first, rest: rest.join(' ').trim() };
};

/** `/contacts suppress|unsuppress|suppressed`: whole-domain suppressions (changes are admin-only). */
export const subcommands: Record<string, Subcommand> = {
  suppress: async ({ deps, user, args }) => {
    const { first, rest } = split(args);
    if (!first) throw new DomainError('invalid_input', `Say which domain: ${usage}.`);
    const pattern = patternOf(first, usage);
    assertAdmin(deps, user, 'suppress domains');
    const { rule, suppressedContacts } = await deps.services.domainSuppressions.add(
      { pattern, ...(rest ? { reason: rest } : {}) },
      user,
    );
    return [
      text(
        `:no_entry: ${code(rule.pattern)} is suppressed: no import adds its addresses and no campaign mails them. ` +
          `${n(suppressedContacts)} contacts already held were suppressed now.`,
      ),
      ...(rule.reason ? [context(`Reason: ${esc(rule.reason)}`)] : []),
    ];
  },
  unsuppress: async ({ deps, user, args }) => {
    const { first } = split(args);
    if (!first) throw new DomainError('invalid_input', 'Say which rule: `/contacts unsuppress <pattern>`.');
    const pattern = patternOf(first, '`/contacts unsuppress <pattern>` (see `/contacts suppressed`)');
    assertAdmin(deps, user, 'remove domain suppressions');
    const rule = await deps.services.domainSuppressions.remove(pattern, user);
    return [
      text(
        `:white_check_mark: ${code(rule.pattern)} is no longer suppressed: later imports accept its addresses. ` +
          'Contacts it already suppressed stay suppressed.',
      ),
    ];
  },
  suppressed: async ({ deps }) => {
    const rules = await deps.services.domainSuppressions.list();
    if (rules.length === 0) return [text(`No domain is suppressed. ${usage} adds one.`)];
    const lines = rules.map(
      (r) =>
        `• ${code(r.pattern)} by ${/^[UW][A-Z0-9]+$/.test(r.actor) ? `<@${r.actor}>` : esc(r.actor)}${r.reason ? ` — ${esc(r.reason)}` : ''}`,
    );
    return [text(`*Suppressed domains* (${n(rules.length)}):\n${lines.join('\n').slice(0, 2800)}`)];
  },
};

export const help: string[] = [
  '• `/contacts suppress @acme.com [reason]` — never import or mail that domain (`*.acme.com`: it and its subdomains; admins)',
  '• `/contacts unsuppress <pattern>` — remove a domain rule (already suppressed contacts stay suppressed; admins)',
  '• `/contacts suppressed` — the domain rules',
];
