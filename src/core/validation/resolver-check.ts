import type { Clock } from '../../clock.js';
import type { Logger } from '../../logger.js';
import type { DomainChecker, ResolverHealth } from './dns.js';
import { dnsUnavailableMessage } from './dns-health.js';
import type { RunState, ValidationStore } from './validation-store.js';
import { failureView, newRunId, type ValidationFailure } from './validation-types.js';

export type ResolverFailure = Extract<ResolverHealth, { ok: false }>;

/**
 * Whether the resolver works, asked before a run and when most of a chunk's domains do not
 * resolve: a few domains known to have an MX are looked up, and when none does, the resolver is
 * broken and the run stops as `dns_unavailable` rather than marking every contact `no_mail_domain`.
 */
export class ResolverCheck {
  constructor(
    private readonly deps: { store: ValidationStore; clock: Clock; log: Logger },
    private readonly checker: DomainChecker,
    private readonly probeDomains: readonly string[],
  ) {}

  /** Looks up the probe domains (none configured: healthy). */
  probe(): Promise<ResolverHealth> {
    return this.checker.probe(this.probeDomains);
  }

  /**
   * Records that DNS failed: before any run (`run` null), or ending `run` where it got to (its
   * verdicts so far stay). Null when another run has taken over meanwhile (nothing recorded).
   */
  async recordFailure(
    batchId: string,
    run: RunState | null,
    health: ResolverFailure,
  ): Promise<ValidationFailure | null> {
    const failure = await this.deps.store.recordFailure(
      batchId,
      run?.id ?? null,
      newRunId(),
      this.deps.clock.now(),
      (progress) => dnsUnavailableMessage(health, progress),
    );
    if (!failure) return null;
    this.deps.log.warn(
      {
        batchId,
        runId: failure.runId,
        checked: failure.checked,
        resolvers: health.resolvers,
        answers: health.answers,
      },
      'validation stopped: DNS lookups are failing, no contact marked from here on',
    );
    return failureView(failure);
  }
}
