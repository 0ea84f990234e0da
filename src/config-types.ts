import type { ImapMailbox, SmtpAccount } from './config-fields.js';
import type { DkimKey } from './mail/dkim.js';
import type { Gap } from './mail/pacing.js';

/** The levels LOG_LEVEL takes (pino's, and silent). */
export const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof logLevels)[number];

/** What loadConfig (config.ts) gives the app: every variable parsed, checked and grouped. */
export type Config = {
  port: number;
  /** Where the HTTP server listens: 127.0.0.1 unless API_TOKEN is set (then HOST or all interfaces). */
  host: string;
  /** The SQLite file (DATABASE_PATH), used when no DATABASE_URL is set. */
  databasePath: string;
  /** DATABASE_URL: Postgres (postgres://…) instead of SQLite; several instances may share it. */
  databaseUrl: string | undefined;
  /** DATABASE_POOL_MAX: connections in the Postgres pool of each instance. */
  databasePoolMax: number;
  apiToken: string | undefined;
  importMaxBytes: number;
  /** IMPORT_IDLE_TIMEOUT: an upload (REST body, Slack download) that sends nothing this long is refused (408). */
  importIdleTimeoutMs: number;
  /** IMPORT_QUEUE_TIMEOUT: how long a REST import waits for a free import slot before a 503. */
  importQueueTimeoutMs: number;
  logLevel: LogLevel;
  /** LOG_FORMAT; undefined: pretty when stdout is a terminal, JSON otherwise. */
  logFormat: 'json' | 'pretty' | undefined;
  slack: SlackConfig | null;
  mail: MailConfig;
  /** The inbox reader: each distinct mailbox (INBOX_URL, SMTP_URLS `#inbox=`); pollMs (INBOX_POLL) without IDLE. */
  inbox: { mailboxes: ImapMailbox[]; pollMs: number };
  campaigns: {
    missedGraceMs: number;
    tickMs: number;
    bouncePause: { rate: number; minSends: number };
    /** SOFT_BOUNCE_LIMIT: soft bounces of one address within 30 days (read from the inbox) that suppress it. */
    softBounceLimit: number;
    /**
     * A send that would start while the domain doctor fails is held (PRODUCT.md §9). Always on in
     * the app (not a variable); the tests' testConfig turns it off, and the tests of the hold on.
     */
    holdOnDoctor: boolean;
  };
  /** Nightly online backups; cron null when BACKUP_CRON=off. */
  backup: { dir: string; keep: number; cron: string | null };
  /** RETENTION_DAYS: inactive batches older than this are proposed for deletion in Slack; null: off. */
  retentionDays: number | null;
  validation: ValidationConfig;
  /** Two-person rule: a campaign whose audience exceeds `threshold` needs a second admin's approval; undefined: off. */
  approval: { threshold: number | undefined };
  /** Outgoing webhooks (empty urls: off); the secret signs every body (HMAC-SHA256). */
  webhooks: WebhookConfig;
};

export type WebhookConfig = { urls: string[]; secret: string; timeoutMs: number };

/** Bulk e-mail validation (core/validation). */
export type ValidationConfig = {
  /** DNS servers (`ip` or `ip:port`: DNS_SERVERS, else VALIDATION_DNS_SERVERS) for validation and the doctor; empty: the system's resolvers. */
  dnsServers: string[];
  /** Domains looked up at once. */
  concurrency: number;
  /** Per DNS query. */
  timeoutMs: number;
  /**
   * Domains known to have an MX record, looked up before each run: when none resolves, the
   * resolver is broken and the run stops as dns_unavailable instead of condemning every
   * contact. Empty (VALIDATION_PROBE_DOMAINS=off): no check.
   */
  probeDomains: string[];
  /** Validate each batch in the background when its import finishes. */
  onImport: boolean;
};

export type MailConfig = {
  /** SMTP server URL (smtp:// or smtps://, may hold user:password); unset: .eml files in outboxDir. */
  smtpUrl: string | undefined;
  /** SMTP_URLS: several sending identities, rotated per message (empty: smtpUrl or the outbox). */
  accounts: SmtpAccount[];
  /** DKIM_SELECTOR and DKIM_DOMAIN as given, and the key SMTP_URL signs with (all three set); SMTP_URLS accounts carry their own. */
  dkim: { selector: string | undefined; domain: string | undefined; key: DkimKey | null };
  /** SEND_GAP: the random wait between two messages of the one transport; undefined: none (accounts carry their own). */
  sendGap: Gap | undefined;
  maxConnections: number;
  ratePerMinute: number | undefined;
  from: string | undefined;
  outboxDir: string;
  postalAddress: string | undefined;
  unsubscribeMailto: string | undefined;
  /** MAIL_BOUNCE_ADDRESS: the envelope sender of every message is its VERP form (`local+cb.<id>.<tag>@domain`); unset: the From address. */
  bounceAddress: string | undefined;
  /** Base of the links in e-mails (unsubscribe). */
  publicUrl: string;
  unsubscribeSecret: string | undefined;
};

export type SlackConfig = {
  botToken: string;
  /** Socket Mode when set; HTTP mode (POST /slack/events) otherwise. */
  appToken: string | undefined;
  signingSecret: string | undefined;
  /** Web API base URL override (tests, proxies); ends with a slash. */
  apiUrl: string | undefined;
  adminUsers: string[];
  importChannels: string[];
  /** Where app-wide notices go (scheduled activations applied, backups failed); unset: admins by DM. */
  notifyChannel: string | undefined;
  /** SLACK_REPLIES_CHANNEL: where reply notices go; unset: each campaign's progress thread. */
  repliesChannel: string | undefined;
};
