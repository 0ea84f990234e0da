import { Resolver } from 'node:dns/promises';

/** What DNS says about a domain: it receives mail, it cannot (no such domain, no MX/A/AAAA, null MX), or no answer. */
export type DomainOutcome = 'mail' | 'no_mail' | 'unknown';

/**
 * Whether the resolver works: some domain known to have an MX record got one. When none did,
 * `resolvers` and `answers` say who answered what (`NXDOMAIN`, `SERVFAIL`, `timeout`…).
 */
export type ResolverHealth =
  | { ok: true }
  | { ok: false; resolvers: string[]; answers: { domain: string; answer: string }[]; timeoutMs: number };

export type DnsSettings = {
  /** `ip` or `ip:port`; empty: the system's resolvers. */
  servers: string[];
  /** Domains looked up at once (each holds one query in flight at a time). */
  concurrency: number;
  /** Per query; one try. */
  timeoutMs: number;
};

/** A FIFO counting semaphore. */
export class Semaphore {
  private free: number;
  private readonly waiting: (() => void)[] = [];
  constructor(size: number) {
    this.free = size;
  }
  async use<T>(fn: () => Promise<T>): Promise<T> {
    if (this.free > 0) this.free--;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    try {
      return await fn();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.free++;
    }
  }
}

/** Answers that mean "this name has no such records" rather than "DNS did not answer". */
const noSuchDomain = 'ENOTFOUND';
const noRecords = 'ENODATA';

const errorCode = (e: unknown): string =>
  typeof e === 'object' && e !== null && 'code' in e ? String(e.code) : 'EUNKNOWN';

/**
 * MX lookups with the RFC 5321 §5.1 fallback to A, then AAAA, when a domain has no MX. One
 * resolver for the service, one try per query with the configured timeout, and at most
 * `concurrency` domains being looked up at once across every run.
 */
export class DomainChecker {
  private readonly resolver: Resolver;
  private readonly lane: Semaphore;
  /** Queries sent, for the run's log line. */
  queries = 0;

  constructor(private readonly settings: DnsSettings) {
    this.resolver = new Resolver({ timeout: settings.timeoutMs, tries: 1 });
    if (settings.servers.length > 0) this.resolver.setServers(settings.servers);
    this.lane = new Semaphore(settings.concurrency);
  }

  /** Whether an (ASCII, lower-case) domain receives mail: NXDOMAIN or no MX/A/AAAA → no_mail; timeout, SERVFAIL… → unknown. */
  check(domain: string): Promise<DomainOutcome> {
    return this.inLane((abandoned) => this.lookup(domain, abandoned));
  }

  /**
   * Looks up the MX of domains that have one (gmail.com…), all at once: healthy as soon as one
   * answers with records; when none does, the resolver is broken (a resolver that says NXDOMAIN
   * for everything would otherwise condemn every contact). No domains: healthy.
   */
  probe(domains: readonly string[]): Promise<ResolverHealth> {
    if (domains.length === 0) return Promise.resolve({ ok: true });
    return new Promise((resolve) => {
      const answers: { domain: string; answer: string }[] = [];
      for (const domain of domains) {
        void this.inLane((abandoned) => this.query(() => this.resolver.resolveMx(domain), abandoned)).then(
          (mx) => {
            if (Array.isArray(mx) && mx.length > 0) resolve({ ok: true });
            answers.push({ domain, answer: Array.isArray(mx) ? noRecords : mx });
            if (answers.length === domains.length) {
              const order = (a: { domain: string }) => domains.indexOf(a.domain);
              resolve({
                ok: false,
                resolvers: this.resolver.getServers(),
                answers: answers.sort((a, b) => order(a) - order(b)),
                timeoutMs: this.settings.timeoutMs,
              });
            }
          },
        );
      }
    });
  }

  /** Cancels queries in flight (they end as unknown). */
  cancel(): void {
    this.resolver.cancel();
  }

  /**
   * Runs `fn` in a lane slot. The slot stays taken while a query that timed out is still out, so
   * the DNS server never sees more than `concurrency` queries from us.
   */
  private inLane<T>(fn: (abandoned: Promise<unknown>[]) => Promise<T>): Promise<T> {
    return new Promise((resolve, reject) => {
      void this.lane.use(async () => {
        const abandoned: Promise<unknown>[] = [];
        try {
          resolve(await fn(abandoned));
        } catch (e) {
          reject(e);
        }
        await Promise.all(abandoned);
      });
    });
  }

  private async lookup(domain: string, abandoned: Promise<unknown>[]): Promise<DomainOutcome> {
    const mx = await this.query(() => this.resolver.resolveMx(domain), abandoned);
    if (Array.isArray(mx)) {
      // RFC 7505: a single MX of "." (read as "") says the domain accepts no mail.
      const nullMx = mx.length === 1 && (mx[0]?.exchange === '' || mx[0]?.exchange === '.');
      if (mx.length > 0) return nullMx ? 'no_mail' : 'mail';
    } else if (mx !== noRecords) {
      return mx === noSuchDomain ? 'no_mail' : 'unknown';
    }
    // No MX: the domain itself is the implicit MX when it has an address (RFC 5321 §5.1).
    for (const resolve of [() => this.resolver.resolve4(domain), () => this.resolver.resolve6(domain)]) {
      const addresses = await this.query(resolve, abandoned);
      if (Array.isArray(addresses)) {
        if (addresses.length > 0) return 'mail';
      } else if (addresses !== noRecords) {
        return addresses === noSuchDomain ? 'no_mail' : 'unknown';
      }
    }
    return 'no_mail';
  }

  /**
   * The records, or the error code; ETIMEOUT after `timeoutMs`. c-ares (1.34, one try) waits up
   * to twice its timeout before it gives up, so the answer is not awaited past ours: the query
   * left out goes into `abandoned`, and the caller keeps its lane slot until it settles.
   */
  private async query<T>(run: () => Promise<T[]>, abandoned: Promise<unknown>[]): Promise<T[] | string> {
    this.queries++;
    const answer = run().catch((e: unknown) => errorCode(e));
    let timer: NodeJS.Timeout | undefined;
    const guard = new Promise<'ETIMEOUT'>((resolve) => {
      timer = setTimeout(() => resolve('ETIMEOUT'), this.settings.timeoutMs);
    });
    const first = await Promise.race([answer, guard]);
    clearTimeout(timer);
    if (first === 'ETIMEOUT') abandoned.push(answer);
    return first;
  }
}
