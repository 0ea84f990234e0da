import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import pg from 'pg';
import type { Logger } from '../../logger.js';

/**
 * The advisory-lock namespaces of a cluster of instances on one Postgres (the first key of the
 * two-key form; the second is `hashtext(name)`).
 */
const liveNamespace = 0x636f6c63; // 'colc': an instance is alive while it holds its lock here
const leadNamespace = 0x636f6c6c; // 'coll': a task only one instance runs at a time

/**
 * SQL true when the instance named by `column` (its id, as `instanceId`) is alive: its process
 * holds its liveness lock on a connection of its own. A process that dies (SIGKILL, a lost host)
 * loses its connection and so its lock, at once (or when the server notices the dead TCP
 * connection): rows it claimed can be taken over. NULL (a row written before leases, or copied
 * from SQLite) reads as not alive.
 */
export function instanceAliveSql(column: string): string {
  return `EXISTS (SELECT 1 FROM pg_locks l WHERE l.locktype = 'advisory' AND l.granted
    AND l.classid = ${liveNamespace}::int4::oid AND l.objid = hashtext(${column})::oid AND l.objsubid = 2)`;
}

/**
 * One process's membership of the cluster: an id (`host:pid:random`) and a connection of its own
 * (outside the pool) that holds its liveness lock for as long as it runs, and the leader locks
 * it takes (`lead`). If that connection is lost, the process stops leading and takes its locks
 * again on a new one (its claims stay its own: the id does not change).
 */
export class PgInstance {
  readonly id = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  private client: pg.Client | null = null;
  private stopped = false;
  private reconnecting: Promise<void> | null = null;
  private readonly leads = new Map<string, Lead>();

  private constructor(
    private readonly url: string,
    private readonly log: Logger,
  ) {}

  /** Whether this instance holds its liveness lock now (false while reconnecting, and once stopped). */
  get connected(): boolean {
    return this.client !== null && !this.stopped;
  }

  /** Connects and takes the liveness lock; resolves once this instance counts as alive. */
  static async start(url: string, log: Logger): Promise<PgInstance> {
    const instance = new PgInstance(url, log.child({ module: 'cluster' }));
    await instance.connect();
    instance.log.info({ instance: instance.id }, 'instance joined the cluster');
    return instance;
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({ connectionString: this.url });
    client.on('error', () => {}); // 'end' follows: handled there
    await client.connect();
    await client.query('SELECT pg_advisory_lock($1, hashtext($2))', [liveNamespace, this.id]);
    client.on('end', () => {
      if (this.client !== client || this.stopped) return;
      this.client = null;
      for (const lead of this.leads.values()) lead.lost();
      this.log.warn({ instance: this.id }, 'lost the cluster connection: reconnecting');
      this.reconnecting ??= this.reconnect().finally(() => {
        this.reconnecting = null;
      });
    });
    this.client = client;
  }

  private async reconnect(): Promise<void> {
    for (let wait = 1000; !this.stopped; wait = Math.min(wait * 2, 30_000)) {
      try {
        await this.connect();
        this.log.info({ instance: this.id }, 'cluster connection back');
        return;
      } catch {
        await new Promise((r) => setTimeout(r, wait).unref());
      }
    }
  }

  /**
   * Runs `fn` only if no other instance is running the task `name` now (a tick-based task that
   * must not run twice at once across the cluster: Slack notices, announced activations).
   * Resolves false, without waiting, when another instance has it.
   */
  async runAlone(name: string, fn: () => Promise<void>): Promise<boolean> {
    const key = `task:${name}`;
    if (!(await this.tryLock(key))) return false;
    try {
      await fn();
      return true;
    } finally {
      await this.unlock(key);
    }
  }

  /**
   * Leads `name` while this instance holds its lock: `start` when it gets it, `stop` when it loses
   * it (its connection lost, or this instance stopping); between, it tries again every `retryMs`
   * (another instance leads; when that one dies its lock goes and this one takes over).
   */
  lead(name: string, handlers: { start(): void; stop(): Promise<void> | void }, retryMs = 15_000): void {
    const lead = new Lead(this, `lead:${name}`, handlers, retryMs, this.log);
    this.leads.set(name, lead);
    lead.tryNow();
  }

  /** Tries the leader lock `key` on the cluster connection (false without one). */
  async tryLock(key: string): Promise<boolean> {
    const client = this.client;
    if (!client) return false;
    const got = await client
      .query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1, hashtext($2)) AS ok', [leadNamespace, key])
      .catch(() => null);
    return got?.rows[0]?.ok === true;
  }

  async unlock(key: string): Promise<void> {
    await this.client
      ?.query('SELECT pg_advisory_unlock($1, hashtext($2))', [leadNamespace, key])
      .catch(() => {});
  }

  /** Stops leading, releases every lock (closing the connection) and leaves the cluster. */
  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all([...this.leads.values()].map((l) => l.end()));
    const client = this.client;
    this.client = null;
    await client?.end().catch(() => {});
  }
}

/** One leader lock an instance tries to hold (see PgInstance.lead). */
class Lead {
  private leading = false;
  private timer: NodeJS.Timeout | undefined;
  private ended = false;

  constructor(
    private readonly instance: PgInstance,
    private readonly key: string,
    private readonly handlers: { start(): void; stop(): Promise<void> | void },
    private readonly retryMs: number,
    private readonly log: Logger,
  ) {}

  tryNow(): void {
    if (this.ended || this.leading) return;
    void this.instance.tryLock(this.key).then((got) => {
      if (this.ended) {
        if (got) void this.instance.unlock(this.key);
        return;
      }
      if (got) {
        this.leading = true;
        this.log.info({ task: this.key }, 'leading');
        this.handlers.start();
      } else {
        this.timer = setTimeout(() => this.tryNow(), this.retryMs);
        this.timer.unref();
      }
    });
  }

  /** The connection holding the lock is gone: stop, and try again on the next one. */
  lost(): void {
    if (!this.leading) return;
    this.leading = false;
    this.log.warn({ task: this.key }, 'no longer leading (connection lost)');
    void Promise.resolve(this.handlers.stop()).finally(() => {
      this.timer = setTimeout(() => this.tryNow(), this.retryMs);
      this.timer.unref();
    });
  }

  async end(): Promise<void> {
    this.ended = true;
    clearTimeout(this.timer);
    if (this.leading) {
      this.leading = false;
      await this.handlers.stop();
      await this.instance.unlock(this.key);
    }
  }
}
