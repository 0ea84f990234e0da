import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Clock } from '../../clock.js';
import type { Logger } from '../../logger.js';
import type { DomainChecker } from './dns.js';
import { DomainCache, mostlyUnresolved } from './domain-cache.js';
import type { ResolverCheck } from './resolver-check.js';
import type { RunState, ValidationStore } from './validation-store.js';
import type { ValidationCounts } from './validation-types.js';
import { addressParts, judge } from './verdict.js';

export type RunnerDeps = {
  store: ValidationStore;
  clock: Clock;
  log: Logger;
  checker: DomainChecker;
  resolver: ResolverCheck;
  /** The batch's counts, for the "finished" log line. */
  counts: (batchId: string) => Promise<ValidationCounts>;
};

/**
 * The runs of this process, in the background. A run walks its batch by id in chunks, looks the
 * chunk's domains up (cached per run, bounded concurrency), then has the store write the
 * verdicts, the counts and its cursor in one transaction; a run cut short continues from its
 * cursor at the next start.
 */
export class ValidationRunner {
  private readonly running = new Map<string, Promise<void>>();
  private stopping = false;

  constructor(
    private readonly deps: RunnerDeps,
    private readonly sizes: { chunkSize: number; cacheSize: number },
  ) {}

  /** True once stop() was called: no run starts or writes any more. */
  get closing(): boolean {
    return this.stopping;
  }

  has(batchId: string): boolean {
    return this.running.has(batchId);
  }

  /** The runs under way, to wait for. */
  inFlight(): Promise<void>[] {
    return [...this.running.values()];
  }

  /** Stops every run after its current chunk and cancels DNS queries in flight. */
  close(): void {
    this.stopping = true;
    this.deps.checker.cancel();
  }

  /** Runs the batch's run in the background unless it already runs; `probed`: DNS was just checked. */
  kick(batchId: string, probed: boolean): void {
    if (this.stopping || this.running.has(batchId)) return;
    const work = this.process(batchId, probed)
      .catch((err: unknown) => {
        if (!this.stopping)
          this.deps.log.error({ err, batchId }, 'validation run failed; it continues at the next start');
      })
      .finally(() => this.running.delete(batchId));
    this.running.set(batchId, work);
  }

  private async process(batchId: string, probed: boolean): Promise<void> {
    const { store, checker } = this.deps;
    const cache = new DomainCache(checker, this.sizes.cacheSize);
    const started = performance.now();
    const queriesBefore = checker.queries;
    let dnsChecked = probed;
    for (;;) {
      if (this.stopping) return;
      const run = await store.getRun(batchId);
      if (!run) return;
      if (!dnsChecked) {
        // A run resumed after a restart: the resolver may be broken now.
        if (!(await this.dnsWorks(run))) return;
        dnsChecked = true;
      }
      const rows = await store.readChunk(batchId, run.afterId, this.sizes.chunkSize);
      if (rows.length === 0) {
        await this.finish(run, {
          durationMs: Math.round(performance.now() - started),
          domains: cache.lookups,
          queries: checker.queries - queriesBefore,
        });
        return;
      }
      const parts = rows.map((r) => addressParts(r.email));
      const lookups = parts.map((p) => (p ? { domain: p.domain, ...cache.get(p.domain) } : null));
      const outcomes = await Promise.all(lookups.map((l) => l?.outcome ?? ('no_mail' as const)));
      if (this.stopping) return;
      // Most new domains did not resolve: a resolver that broke mid-run answers NXDOMAIN (or
      // nothing) for everything, so check it before writing verdicts that would condemn them.
      if (mostlyUnresolved(lookups, outcomes) && !(await this.dnsWorks(run))) return;
      const verdicts = parts.map((p, i) => judge(p, outcomes[i] ?? 'unknown'));
      if (!(await store.commitChunk(run, rows, verdicts, this.deps.clock.now()))) return;
      await nextTurn();
    }
  }

  /** Looks up the probe domains; when none resolves, ends the run as dns_unavailable (false). */
  private async dnsWorks(run: RunState): Promise<boolean> {
    const health = await this.deps.resolver.probe();
    if (this.stopping) return false;
    if (health.ok) return true;
    await this.deps.resolver.recordFailure(run.batchId, run, health);
    return false;
  }

  private async finish(
    run: RunState,
    figures: { durationMs: number; domains: number; queries: number },
  ): Promise<void> {
    if (!(await this.deps.store.finishRun(run, this.deps.clock.now()))) return;
    this.deps.log.info(
      {
        batchId: run.batchId,
        runId: run.id,
        checked: run.checked,
        ...figures,
        counts: await this.deps.counts(run.batchId),
      },
      'validation finished',
    );
  }
}
