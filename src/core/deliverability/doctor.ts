import type { CoreDeps } from '../types.js';
import { checkDkim } from './dkim.js';
import { checkDmarc, checkMx } from './dmarc-mx.js';
import { checkInbox, checkPostalAddress, checkPublicUrl } from './general.js';
import { dnsFailure } from './resolver.js';
import { type SendingDomain, sendingDomains } from './senders.js';
import { checkSpf } from './spf.js';
import {
  type BlockingCheck,
  type CheckName,
  type DoctorCheck,
  type DoctorReport,
  type DoctorSettings,
  type DomainReport,
  type Probes,
  worstOf,
} from './types.js';

/** A check that threw (a DNS answer mailauth could not take, a bug): a warn that says so, never a crash. */
function broken(name: CheckName, title: string, e: unknown): DoctorCheck {
  const why = e instanceof Error ? e.message : String(e);
  return {
    name,
    title,
    result: 'warn',
    detail: `This check could not run: ${why}.`,
    fix: 'Run the doctor again; if it keeps happening, report it with this text.',
  };
}

const guarded = (name: CheckName, title: string, run: () => Promise<DoctorCheck>) =>
  run().catch((e: unknown) => broken(name, title, e));

/**
 * The domain doctor: for each sending identity's From domain, SPF, DKIM, DMARC and MX; then
 * PUBLIC_URL's unsubscribe page, MAIL_POSTAL_ADDRESS and each mailbox read. Each check passes,
 * warns or fails, in plain words with what to do. A report is kept `cacheMs` so Slack and REST do
 * not query DNS at every look; `run({ fresh: true })` checks again.
 */
export class DoctorService {
  private cached: { at: number; report: DoctorReport } | null = null;
  private running: Promise<DoctorReport> | null = null;

  constructor(
    private readonly deps: CoreDeps,
    private readonly settings: DoctorSettings,
    private readonly probes: Probes,
  ) {}

  /** The report: the kept one while it is fresh (and not `fresh`), else a new run (one at a time). */
  async run(opts: { fresh?: boolean } = {}): Promise<DoctorReport> {
    const now = this.deps.clock.now();
    if (!opts.fresh && this.cached && now - this.cached.at < this.settings.cacheMs) return this.cached.report;
    if (this.running) return this.running;
    this.running = this.check().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  /**
   * The failing checks (with their domain), from the kept report when fresh. A campaign start
   * should call it first: none → start; some → hold the campaign (PRODUCT §9: status `held`,
   * `heldReason: "doctor"` with these checks) until an admin confirms "send anyway".
   */
  async blocking(opts: { fresh?: boolean } = {}): Promise<BlockingCheck[]> {
    const report = await this.run(opts);
    return [
      ...report.domains.flatMap((d) =>
        d.checks.filter((c) => c.result === 'fail').map((c) => ({ ...c, domain: d.domain })),
      ),
      ...report.general.filter((c) => c.result === 'fail').map((c) => ({ ...c, domain: null })),
    ];
  }

  /**
   * The warn and fail checks of the last report, whatever its age, without running the checks
   * (no lookup, never waits): what the campaign modal and progress message show. Empty before
   * the first run (a save with a send time, `/campaigns doctor`, `npm run doctor`, GET /doctor).
   */
  known(): BlockingCheck[] {
    const report = this.cached?.report;
    if (!report) return [];
    return [
      ...report.domains.flatMap((d) =>
        d.checks.filter((c) => c.result !== 'pass').map((c) => ({ ...c, domain: d.domain })),
      ),
      ...report.general.filter((c) => c.result !== 'pass').map((c) => ({ ...c, domain: null })),
    ];
  }

  private async check(): Promise<DoctorReport> {
    const started = this.deps.clock.now();
    const s = this.settings;
    const failing = await dnsFailure(this.probes.resolve, s.probeDomains);
    const [domains, general] = await Promise.all([
      Promise.all(sendingDomains(s).map((d) => this.checkDomain(d, failing))),
      Promise.all([
        guarded('public_url', 'Unsubscribe page (PUBLIC_URL)', () => checkPublicUrl(this.probes, s)),
        Promise.resolve(checkPostalAddress(s)),
        checkInbox(this.probes, s),
      ]),
    ]);
    const flat = general.flat();
    const all = [...domains.flatMap((d) => d.checks), ...flat];
    const report: DoctorReport = {
      checkedAt: new Date(started).toISOString(),
      worst: worstOf(all.map((c) => c.result)),
      domains,
      general: flat,
    };
    this.cached = { at: started, report };
    const count = (r: string) => all.filter((c) => c.result === r).length;
    this.deps.log.child({ module: 'doctor' }).info(
      {
        domains: domains.length,
        pass: count('pass'),
        warn: count('warn'),
        fail: count('fail'),
        ms: this.deps.clock.now() - started,
      },
      'domain doctor ran',
    );
    return report;
  }

  /** A domain's four checks; each a warn saying why when DNS itself is failing here (`dnsFailing`). */
  private async checkDomain(target: SendingDomain, dnsFailing: string | null): Promise<DomainReport> {
    const r = this.probes.resolve;
    const s = this.settings;
    const blind = (name: CheckName, title: string): DoctorCheck => ({
      name,
      title,
      result: 'warn',
      detail: `Not checked: DNS lookups fail on this server (${dnsFailing}), so nothing can be said about ${target.domain}.`,
      fix: 'Check that this server reaches its DNS servers (DNS_SERVERS; empty: /etc/resolv.conf), then run the doctor again.',
    });
    const checks = dnsFailing
      ? [blind('spf', 'SPF'), blind('dkim', 'DKIM'), blind('dmarc', 'DMARC'), blind('mx', 'MX (replies)')]
      : await Promise.all([
          guarded('spf', 'SPF', () => checkSpf(r, target)),
          guarded('dkim', 'DKIM', () => checkDkim(r, s, target)),
          guarded('dmarc', 'DMARC', () => checkDmarc(r, s, target)),
          guarded('mx', 'MX (replies)', () => checkMx(r, s, target)),
        ]);
    return {
      domain: target.domain,
      identities: target.identities,
      relays: [...new Set(target.relays.map((x) => x.host))],
      checks,
    };
  }
}
