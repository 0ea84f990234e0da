import { z } from 'zod';
import { DomainError } from '../../errors.js';
import { type Actor, type CoreDeps, toIso } from '../types.js';
import type { DomainRuleRow, SuppressionStore } from './suppression-store.js';

/** A whole-domain suppression rule as callers see it. */
export type DomainRule = { pattern: string; actor: string; reason: string | null; createdAt: string };

const label = '[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?';
/** Two or more LDH labels ending in an alphabetic (or punycode) TLD: `acme.com`, `mail.acme.co.uk`. */
const domainRe = new RegExp(`^(?:${label}\\.)+(?:[a-z]{2,24}|xn--[a-z0-9-]{1,59})$`);

/**
 * A rule pattern: `acme.com` (that domain only) or `*.acme.com` (its subdomains and acme.com
 * itself). Trimmed, lower-cased, a leading `@` dropped (`@acme.com` as typed in Slack).
 */
export const domainPatternSchema = z
  .string()
  .trim()
  .toLowerCase()
  .transform((v) => v.replace(/^@/, '').replace(/\.$/, ''))
  .pipe(
    z
      .string()
      .max(253, 'a domain is at most 253 characters')
      .refine((v) => domainRe.test(v.startsWith('*.') ? v.slice(2) : v), {
        message: 'give a domain like acme.com, or *.acme.com for it and all its subdomains',
      }),
  );

export const domainRuleInputSchema = z.object({
  pattern: domainPatternSchema,
  reason: z.string().trim().max(500).optional(),
});
export type DomainRuleInput = z.input<typeof domainRuleInputSchema>;

/**
 * Tells whether an address's domain (the part after the last `@`) falls under a set of rules;
 * built once per import chunk, then a few Set lookups per row and no SQL.
 */
export class DomainMatcher {
  private readonly exact = new Set<string>();
  private readonly wild = new Set<string>();
  constructor(patterns: Iterable<string>) {
    for (const p of patterns) {
      if (p.startsWith('*.')) this.wild.add(p.slice(2));
      else this.exact.add(p);
    }
  }
  get size(): number {
    return this.exact.size + this.wild.size;
  }
  /** True when the address (normalized, lower-case) is under a rule. */
  matches(email: string): boolean {
    const domain = email.slice(email.lastIndexOf('@') + 1);
    if (this.exact.has(domain) || this.wild.has(domain)) return true;
    if (this.wild.size === 0) return false;
    for (let i = domain.indexOf('.'); i >= 0; i = domain.indexOf('.', i + 1)) {
      if (this.wild.has(domain.slice(i + 1))) return true;
    }
    return false;
  }
}

const toRule = (r: DomainRuleRow): DomainRule => ({
  pattern: r.pattern,
  actor: r.actor,
  reason: r.reason,
  createdAt: toIso(r.createdAt)!,
});

/** Whole-domain suppressions: kept as rules, applied at import and (as hashed suppressions) at send. */
export class DomainSuppressionService {
  private readonly log;
  constructor(
    private readonly deps: Pick<CoreDeps, 'log' | 'clock'>,
    private readonly store: SuppressionStore,
  ) {
    this.log = deps.log.child({ module: 'domain-suppressions' });
  }

  /**
   * Adds a rule and, in the same transaction, suppresses (hashed, reason `manual`) every contact
   * already held whose address it covers. Returns the rule and how many were newly suppressed.
   */
  async add(raw: DomainRuleInput, actor: Actor): Promise<{ rule: DomainRule; suppressedContacts: number }> {
    const input = domainRuleInputSchema.parse(raw);
    const added = await this.store.addDomainRule({
      pattern: input.pattern,
      actor,
      reason: input.reason ?? null,
      createdAt: this.deps.clock.now(),
    });
    if (!added) {
      throw new DomainError('conflict', `${input.pattern} is already suppressed.`, {
        pattern: input.pattern,
      });
    }
    const { suppressedContacts } = added;
    this.log.info({ pattern: input.pattern, actor, suppressedContacts }, 'domain suppression added');
    return { rule: toRule(added.rule), suppressedContacts };
  }

  /**
   * Removes a rule: later imports accept the domain again. Contacts it already suppressed stay
   * suppressed (their hashes carry no domain, so they cannot be told apart from manual ones).
   */
  async remove(rawPattern: string, actor: Actor): Promise<DomainRule> {
    const pattern = domainPatternSchema.parse(rawPattern);
    const row = await this.store.removeDomainRule(pattern);
    if (!row) throw new DomainError('not_found', `No domain suppression ${pattern}.`, { pattern });
    this.log.info({ pattern, actor }, 'domain suppression removed');
    return toRule(row);
  }

  /** Every rule, by pattern. */
  async list(): Promise<DomainRule[]> {
    return (await this.store.listDomainRules()).map(toRule);
  }
}
