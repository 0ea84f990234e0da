import type { ConnectionOptions } from 'node:tls';
import type { ImapFlow } from 'imapflow';
import type { Clock } from '../../clock.js';
import type { ImapMailbox } from '../../config-fields.js';
import type { Logger } from '../../logger.js';
import { imapClient } from './imap-client.js';
import { type MailboxHandler, type PassTally, readKeyword, readPass } from './read-pass.js';

/** What /healthz shows of one mailbox (no password, no addresses but the mailbox's own name). */
export type ReaderState = {
  mailbox: string;
  /** connecting → idle (IDLE) or polling (INBOX_POLL) → reconnecting (after a drop) → stopped. */
  state: 'connecting' | 'idle' | 'polling' | 'reconnecting' | 'stopped';
  /** Since when (ISO 8601) it is in this state. */
  since: string;
  /** Why the last connection failed or dropped, null while none has. */
  lastError: string | null;
  /** When the last pass over the mailbox finished (ISO 8601), null before the first. */
  lastPassAt: string | null;
};

export type ReaderOptions = {
  log: Logger;
  clock: Clock;
  /** INBOX_POLL: how often the mailbox is read when the server has no IDLE (and at least this often with it). */
  pollMs: number;
  /** Reconnect delays: the first (1 s), doubled each failure up to the largest (5 min), ± 20 % jitter. */
  backoff?: { minMs: number; maxMs: number };
  /** false: never IDLE, only poll (a server whose IDLE misbehaves; tests). */
  idle?: boolean;
  /** Connect, greeting and command timeouts (default 30 s). */
  timeoutMs?: number;
  /** How long stop() lets the message in hand finish before it closes the connection (default 5 s). */
  stopGraceMs?: number;
  /** Extra TLS options (a private CA). */
  tls?: ConnectionOptions;
  chunkSize?: number;
  fetchBytes?: number;
};

/**
 * Reads one IMAP mailbox for as long as it runs: connect, select, read what is new (readPass),
 * then wait for new mail with IDLE (or poll), and reconnect with backoff whenever the connection
 * fails or drops. One log line per state change; the password never reaches a log or a state.
 */
export class MailboxReader {
  private readonly log: Logger;
  private current: ReaderState;
  private client: ImapFlow | null = null;
  private running: Promise<void> | null = null;
  private stopping = false;
  private wake: () => void = () => {};
  private newMail = false;

  constructor(
    readonly mailbox: ImapMailbox,
    private readonly handler: MailboxHandler,
    private readonly options: ReaderOptions,
  ) {
    this.log = options.log.child({ module: 'imap', mailbox: mailbox.name });
    this.current = {
      mailbox: mailbox.name,
      state: 'connecting',
      since: this.now(),
      lastError: null,
      lastPassAt: null,
    };
  }

  /** Starts reading in the background; never rejects (failures are states and log lines). */
  start(): void {
    this.running ??= this.loop();
  }

  /** The reader's state for /healthz. */
  state(): ReaderState {
    return { ...this.current };
  }

  /** Finishes the message in hand, logs out and ends every loop and timer. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wake();
    const running = this.running;
    if (!running) return this.setState('stopped');
    if (this.current.state === 'connecting') this.client?.close();
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), this.options.stopGraceMs ?? 5000);
    });
    if ((await Promise.race([running, grace])) === 'late') this.client?.close();
    clearTimeout(timer);
    await running;
  }

  private async loop(): Promise<void> {
    let failures = 0;
    while (!this.stopping) {
      this.setState('connecting');
      let reached = false;
      try {
        reached = await this.session();
      } catch (err) {
        this.current.lastError = this.describe(err);
      }
      if (this.stopping) break;
      failures = reached ? 1 : failures + 1;
      const delayMs = this.backoff(failures);
      this.setState('reconnecting', {
        reason: this.current.lastError,
        retryInS: Math.round(delayMs / 10) / 100,
      });
      await this.sleep(delayMs);
    }
    this.setState('stopped');
  }

  /** One connection: true when it reached the mailbox (then the backoff starts over). */
  private async session(): Promise<boolean> {
    const m = this.mailbox;
    const timeout = this.options.timeoutMs ?? 30_000;
    const client = await imapClient(m, timeout, {
      // Between polls the connection is quiet: it must outlive INBOX_POLL.
      socketTimeout: Math.max(300_000, this.options.pollMs + 60_000),
      maxIdleTime: Math.min(this.options.pollMs, 25 * 60_000),
      ...(this.options.tls ? { tls: this.options.tls } : {}),
    });
    this.client = client;
    let dropped: string | null = null;
    client.on('error', (err: unknown) => {
      dropped = this.describe(err);
    });
    client.on('close', () => this.wake());
    client.on('exists', () => {
      this.newMail = true;
      this.wake();
    });
    let reached = false;
    try {
      await client.connect();
      if (this.stopping) return false;
      const box = await client.mailboxOpen(m.path);
      reached = true;
      const uidValidity = String(box.uidValidity);
      const flags = box.permanentFlags;
      const keywords = !flags || flags.has('\\*') || flags.has(readKeyword);
      const idle = this.options.idle !== false && client.capabilities.has('IDLE');
      this.current.lastError = null;
      this.setState(idle ? 'idle' : 'polling', { uidValidity, messages: box.exists, idle });
      if (!keywords)
        this.log.warn(
          `the server cannot store the ${readKeyword} keyword: every pass lists every message, the record skips those read`,
        );
      const done = new Set<number>();
      while (!this.stopping && client.usable) {
        this.newMail = false;
        const tally = await this.pass(client, uidValidity, keywords, done);
        this.current.lastPassAt = this.now();
        if (tally.processed + tally.flagged + tally.failed > 0) this.log.info(tally, 'mailbox read');
        if (this.stopping || !client.usable) break;
        if (!this.newMail) await this.waitForMail(client, idle);
      }
      if (!client.usable && !this.stopping)
        this.current.lastError = dropped ?? 'connection closed by the server';
      return reached;
    } catch (err) {
      this.current.lastError = dropped ?? this.describe(err);
      return reached;
    } finally {
      await this.close(client);
    }
  }

  private pass(
    client: ImapFlow,
    uidValidity: string,
    keywords: boolean,
    done: Set<number>,
  ): Promise<PassTally> {
    return readPass({
      client,
      handler: this.handler,
      log: this.log,
      mailbox: this.mailbox.name,
      uidValidity,
      keywords,
      done,
      chunkSize: this.options.chunkSize ?? 50,
      fetchBytes: this.options.fetchBytes ?? 8 * 1024 * 1024,
      maxFailures: 3,
      stopping: () => this.stopping,
      describe: (err) => this.describe(err),
    });
  }

  /** Waits for an EXISTS (IDLE, or any response when polling), the poll timer, a drop or stop(). */
  private async waitForMail(client: ImapFlow, idle: boolean): Promise<void> {
    // A SEARCH on the next pass breaks the IDLE (imapflow sends DONE first).
    if (idle) void client.idle().catch(() => false);
    await this.sleep(this.options.pollMs);
  }

  /** Sleeps ms, or until wake() (new mail, a drop, stop()). */
  private sleep(ms: number): Promise<void> {
    if (this.stopping) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = () => {
        this.wake = () => {};
        done();
      };
    });
  }

  /** Logs out (briefly) and closes the socket; never throws. */
  private async close(client: ImapFlow): Promise<void> {
    if (client.usable) {
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, 2000);
      });
      await Promise.race([client.logout().catch(() => {}), late]);
      clearTimeout(timer);
    }
    client.close();
    client.removeAllListeners();
    client.on('error', () => {}); // a late socket error after close must not crash the process
    if (this.client === client) this.client = null;
  }

  private backoff(failures: number): number {
    const { minMs, maxMs } = this.options.backoff ?? { minMs: 1000, maxMs: 300_000 };
    const base = Math.min(maxMs, minMs * 2 ** Math.min(failures - 1, 30));
    return Math.round(base * (0.8 + Math.random() * 0.4));
  }

  private setState(state: ReaderState['state'], fields: Record<string, unknown> = {}): void {
    if (this.current.state === state && state !== 'reconnecting') return;
    const wasUp = this.current.state === 'idle' || this.current.state === 'polling';
    this.current = { ...this.current, state, since: this.now() };
    if (state === 'connecting') return; // the next line says how it went
    if (state === 'reconnecting') {
      this.log.warn(fields, wasUp ? 'mailbox disconnected; reconnecting' : 'mailbox not reachable; retrying');
    } else if (state === 'stopped') this.log.info('mailbox reader stopped');
    else
      this.log.info(
        fields,
        state === 'idle' ? 'mailbox connected; waiting with IDLE' : 'mailbox connected; polling',
      );
  }

  /** An error's text without the password (servers and sockets may quote what they were sent). */
  private describe(err: unknown): string {
    const e = err instanceof Error ? (err as Error & { responseText?: string; code?: string }) : null;
    const text = e ? [e.message, e.responseText, e.code].filter(Boolean).join(': ') : String(err);
    const pass = this.mailbox.pass;
    return [pass, encodeURIComponent(pass)]
      .reduce((t, s) => (s ? t.split(s).join('[redacted]') : t), text)
      .slice(0, 300);
  }

  private now(): string {
    return new Date(this.options.clock.now()).toISOString();
  }
}
