import { domainToASCII } from 'node:url';
import { isSendableEmail } from '../imports/email.js';
import type { ValidationResult } from '../types.js';
import { isDisposableDomain } from './disposable.js';
import type { DomainOutcome } from './dns.js';
import { isRoleAddress } from './roles.js';

/** What the checks found about one address. */
export type AddressFacts = { syntax: boolean; role: boolean; disposable: boolean; domain: DomainOutcome };

/**
 * When several checks fail, the verdict is the first of these: an address whose domain cannot
 * receive mail (or that is not an address) is the one worth excluding; a throwaway domain says
 * more than a role mailbox; `unknown` (DNS did not answer) only when nothing else is known.
 */
export const verdictPrecedence: readonly ValidationResult[] = [
  'no_mail_domain',
  'disposable',
  'role',
  'unknown',
  'valid',
];

/** The single verdict for an address, by verdictPrecedence. */
export function verdictOf(f: AddressFacts): ValidationResult {
  if (!f.syntax || f.domain === 'no_mail') return 'no_mail_domain';
  if (f.disposable) return 'disposable';
  if (f.role) return 'role';
  if (f.domain === 'unknown') return 'unknown';
  return 'valid';
}

/** The local part and the ASCII (punycode) domain of a sendable address; null when it is not one. */
export function addressParts(email: string): { local: string; domain: string } | null {
  if (!isSendableEmail(email)) return null;
  const at = email.lastIndexOf('@');
  const domain = domainToASCII(email.slice(at + 1).toLowerCase());
  return domain ? { local: email.slice(0, at), domain } : null;
}

/** The verdict of an address (its parts, or null when it is not one) given how its domain resolved. */
export function judge(
  parts: { local: string; domain: string } | null,
  domain: DomainOutcome,
): ValidationResult {
  if (!parts) return 'no_mail_domain';
  return verdictOf({
    syntax: true,
    role: isRoleAddress(parts.local),
    disposable: isDisposableDomain(parts.domain),
    domain,
  });
}
