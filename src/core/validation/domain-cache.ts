import type { DomainChecker, DomainOutcome } from './dns.js';

/** Per-run memory of domain outcomes (promises, so one lookup serves every contact of a domain). */
export class DomainCache {
  private readonly outcomes = new Map<string, Promise<DomainOutcome>>();
  lookups = 0;
  constructor(
    private readonly checker: DomainChecker,
    private readonly maxSize: number,
  ) {}
  /** The outcome, and whether this call sent the lookup (fresh) or found it remembered. */
  get(domain: string): { outcome: Promise<DomainOutcome>; fresh: boolean } {
    const known = this.outcomes.get(domain);
    if (known) return { outcome: known, fresh: false };
    if (this.outcomes.size >= this.maxSize) {
      const oldest = this.outcomes.keys().next().value;
      if (oldest !== undefined) this.outcomes.delete(oldest);
    }
    this.lookups++;
    const outcome = this.checker.check(domain);
    this.outcomes.set(domain, outcome);
    return { outcome, fresh: true };
  }
}

/**
 * Fewer than half of the domains first looked up in this chunk receive mail: what a resolver that
 * broke mid-run (NXDOMAIN or no answer for everything) looks like, and worth checking it.
 */
export function mostlyUnresolved(
  lookups: ({ domain: string; fresh: boolean } | null)[],
  outcomes: DomainOutcome[],
): boolean {
  const fresh = new Map<string, DomainOutcome>();
  lookups.forEach((l, i) => {
    if (l?.fresh) fresh.set(l.domain, outcomes[i] ?? 'unknown');
  });
  if (fresh.size === 0) return false;
  const mail = [...fresh.values()].filter((o) => o === 'mail').length;
  return mail * 2 < fresh.size;
}
