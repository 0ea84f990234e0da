import { DomainError } from '../../errors.js';
import type { Batch } from '../batches/batch.js';
import type { BatchService } from '../batches/batch-service.js';
import { type Actor, type CoreDeps, toIso } from '../types.js';
import { DomainChecker } from './dns.js';
import { ResolverCheck } from './resolver-check.js';
import { ValidationRunner } from './validation-run.js';
import type { ValidationBatch, ValidationStore } from './validation-store.js';
import {
  failureView,
  newRunId,
  runView,
  type StartResult,
  type ValidationCounts,
  type ValidationSettings,
  type ValidationSummary,
  withUnchecked,
  zeroCounts,
} from './validation-types.js';

export type {
  StartResult,
  ValidationCounts,
  ValidationFailure,
  ValidationRun,
  ValidationSettings,
  ValidationSummary,
} from './validation-types.js';

/**
 * Bulk e-mail validation of a batch: syntax, role mailboxes, disposable domains and MX/A/AAAA
 * lookups, one verdict per contact (`contacts.validation`). Runs go on in the background
 * (ValidationRunner) and keep their cursor in the store, so a run cut short continues from it at
 * the next start (or the next `start`). Before a run the resolver is checked (ResolverCheck): a
 * broken one stops it as `dns_unavailable` rather than marking every contact `no_mail_domain`.
 */
export class ValidationService {
  private readonly log;
  private readonly runner: ValidationRunner;
  private readonly resolver: ResolverCheck;
  /** Starts waiting for the resolver check, so idle() waits for them too. */
  private readonly starting = new Set<Promise<unknown>>();

  constructor(
    private readonly deps: Pick<CoreDeps, 'log' | 'clock'>,
    settings: ValidationSettings,
    private readonly store: ValidationStore,
    /** The owner of batches: it writes the include/exclude flag and its event. */
    private readonly batches: Pick<BatchService, 'setIncludeInvalidDomains'>,
  ) {
    this.log = deps.log.child({ module: 'validation' });
    const checker = new DomainChecker(settings);
    this.resolver = new ResolverCheck(
      { store, clock: deps.clock, log: this.log },
      checker,
      settings.probeDomains,
    );
    this.runner = new ValidationRunner(
      {
        store,
        clock: deps.clock,
        log: this.log,
        checker,
        resolver: this.resolver,
        counts: (batchId) => this.counts(batchId),
      },
      { chunkSize: settings.chunkSize ?? 500, cacheSize: settings.cacheSize ?? 10_000 },
    );
  }

  /**
   * Checks that DNS works, then starts validating a batch in the background; or returns the run
   * already under way (resuming it if this process was not running it), or dns_unavailable when
   * the resolver is broken (nothing is marked). Throws not_found, or conflict while it imports.
   */
  start(batchId: string, actor: Actor): Promise<StartResult> {
    const work = this.begin(batchId, actor);
    this.starting.add(work);
    const done = () => this.starting.delete(work);
    work.then(done, done);
    return work;
  }

  private async begin(batchId: string, actor: Actor): Promise<StartResult> {
    const batch = await this.batchInfo(batchId);
    assertNotImporting(batch);
    const current = await this.store.getRun(batchId);
    if (current) {
      this.runner.kick(batchId, false);
      return {
        kind: 'running',
        run: runView(current, batch.contactCount),
        counts: await this.counts(batchId),
      };
    }
    this.assertOpen();
    const health = await this.resolver.probe();
    this.assertOpen();
    if (!health.ok) {
      const failure = await this.resolver.recordFailure(batchId, null, health);
      // Null: a run was started meanwhile (answered as running), or the batch was deleted (not_found).
      if (!failure) return this.begin(batchId, actor);
      return { kind: 'dns_unavailable', failure, counts: await this.counts(batchId) };
    }
    const outcome = await this.store.startRun(batchId, newRunId(), actor, this.deps.clock.now());
    if (outcome.kind === 'not_found') throw notFound(batchId);
    if (outcome.kind === 'importing') throw importing(batchId);
    const { kind, run, batch: info } = outcome;
    if (kind === 'started') {
      this.log.info({ batchId, runId: run.id, actor, contacts: info.contactCount }, 'validation started');
    }
    this.runner.kick(batchId, true);
    return { kind, run: runView(run, info.contactCount), counts: await this.counts(batchId) };
  }

  /**
   * Continues the runs a stopped process left unfinished: at start, and on Postgres every minute
   * (the lease sweep), for runs whose instance died; the store lists no live instance's run.
   */
  async resumeInterrupted(): Promise<string[]> {
    const resumed: string[] = [];
    for (const batchId of await this.store.listRunning()) {
      if (this.runner.has(batchId)) continue;
      resumed.push(batchId);
      this.runner.kick(batchId, false);
    }
    if (resumed.length > 0) this.log.info({ batches: resumed }, 'validation resumed: its instance stopped');
    return resumed;
  }

  /** Contacts per verdict in a batch (cheap: kept with each chunk; recounted after deletions). */
  async counts(batchId: string): Promise<ValidationCounts> {
    const batch = await this.batchInfo(batchId);
    const stored = await this.store.getCounts(batchId);
    if (!stored) return { ...zeroCounts(), unchecked: batch.contactCount };
    if (stored.contactCount === batch.contactCount) return withUnchecked(stored);
    const fresh = await this.store.recount(batchId);
    if (!fresh) throw notFound(batchId);
    return withUnchecked(fresh);
  }

  /** Counts, the run under way, when the last run finished, and whether invalid domains are mailed. */
  async summary(batchId: string): Promise<ValidationSummary> {
    const counts = await this.counts(batchId);
    const batch = await this.batchInfo(batchId);
    const run = await this.store.getRun(batchId);
    const failure = await this.store.getFailure(batchId);
    return {
      counts,
      run: run ? runView(run, batch.contactCount) : null,
      failure: failure && failureView(failure),
      lastValidatedAt: toIso((await this.store.getCounts(batchId))?.finishedAt),
      includeInvalidDomains: batch.includeInvalidDomains,
    };
  }

  /** Lets campaigns reach (true) or skip (false) this batch's contacts whose domain cannot receive mail. */
  async setIncludeInvalidDomains(batchId: string, include: boolean, actor: Actor): Promise<Batch> {
    const changed = await this.batches.setIncludeInvalidDomains(batchId, include, actor);
    if (!changed) throw notFound(batchId);
    if (changed.before !== include) {
      this.log.info(
        { batchId, actor, from: changed.before, to: include },
        include ? 'batch includes invalid domains in sends' : 'batch excludes invalid domains from sends',
      );
    }
    return changed.batch;
  }

  /** Resolves once no run is in progress (or starting) in this process. */
  async idle(): Promise<void> {
    for (;;) {
      const busy = [...this.runner.inFlight(), ...this.starting];
      if (busy.length === 0) return;
      await Promise.allSettled(busy);
    }
  }

  /** Stops every run after its current chunk (nothing half-written) and cancels DNS queries in flight. */
  async stop(): Promise<void> {
    this.runner.close();
    await this.idle();
  }

  private assertOpen(): void {
    if (this.runner.closing)
      throw new DomainError('conflict', 'coldbatch is shutting down; validate again once it is back.');
  }

  private async batchInfo(batchId: string): Promise<ValidationBatch> {
    const b = await this.store.getBatch(batchId);
    if (!b) throw notFound(batchId);
    return b;
  }
}

const notFound = (batchId: string) =>
  new DomainError('not_found', `No batch ${batchId}; see the batch list for ids.`);

const importing = (batchId: string) =>
  new DomainError('conflict', `Batch ${batchId} is still importing; validate it once the import is done.`);

function assertNotImporting(batch: ValidationBatch): void {
  if (batch.status === 'importing') throw importing(batch.id);
}
