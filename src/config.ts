import cron from 'node-cron';
import { z } from 'zod';
import {
  bytes,
  commaList,
  distinctMailboxes,
  dkimName,
  dkimPrivateKey,
  dkimSelector,
  dnsName,
  dnsServer,
  duration,
  emptyAsUndefined,
  flag,
  idList,
  imapUrl,
  sendGap,
  smtpUrls,
} from './config-fields.js';
import { type Config, logLevels, type SlackConfig } from './config-types.js';
import { addressOf, parseSender } from './core/campaigns/sender.js';
import { dkimKeys } from './mail/dkim.js';

export type { ImapMailbox, SmtpAccount } from './config-fields.js';
export type { Config, MailConfig, SlackConfig, ValidationConfig, WebhookConfig } from './config-types.js';

/** DATABASE_URL: a Postgres URL. */
const postgresUrl = z.string().regex(/^postgres(ql)?:\/\//, 'must be postgres://user:pass@host:5432/db');

const envSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.preprocess(emptyAsUndefined, z.string().optional()),
  DATABASE_PATH: z.string().min(1).default('./data/coldbatch.db'),
  DATABASE_URL: z.preprocess(emptyAsUndefined, postgresUrl.optional()),
  DATABASE_POOL_MAX: z.coerce.number().int().min(1, 'must be at least 1').max(1000).default(10),
  API_TOKEN: z.preprocess(emptyAsUndefined, z.string().min(16, 'must be at least 16 characters').optional()),
  IMPORT_MAX_BYTES: bytes.default(50 * 1024 * 1024),
  IMPORT_IDLE_TIMEOUT: duration.pipe(z.number().min(100, 'must be at least 100ms')).default(30_000),
  IMPORT_QUEUE_TIMEOUT: duration.pipe(z.number().min(100, 'must be at least 100ms')).default(60_000),
  LOG_LEVEL: z.enum(logLevels).default('info'),
  LOG_FORMAT: z.preprocess(emptyAsUndefined, z.enum(['json', 'pretty']).optional()),
  SLACK_BOT_TOKEN: z.preprocess(
    emptyAsUndefined,
    z
      .string()
      .regex(/^xoxb-/, 'must be a bot token (xoxb-…)')
      .optional(),
  ),
  SLACK_SIGNING_SECRET: z.preprocess(emptyAsUndefined, z.string().min(8).optional()),
  SLACK_APP_TOKEN: z.preprocess(
    emptyAsUndefined,
    z
      .string()
      .regex(/^xapp-/, 'must be an app-level token (xapp-…) with connections:write')
      .optional(),
  ),
  SLACK_NOTIFY_CHANNEL: z.preprocess(
    emptyAsUndefined,
    z
      .string()
      .regex(/^[CG][A-Z0-9]{2,}$/, 'must be a Slack channel id like C0123ABCD')
      .optional(),
  ),
  SLACK_REPLIES_CHANNEL: z.preprocess(
    emptyAsUndefined,
    z
      .string()
      .regex(/^[CG][A-Z0-9]{2,}$/, 'must be a Slack channel id like C0123ABCD')
      .optional(),
  ),
  SLACK_API_URL: z.preprocess(emptyAsUndefined, z.url({ protocol: /^https?$/ }).optional()),
  SLACK_ADMIN_USERS: idList,
  SLACK_IMPORT_CHANNELS: idList,
  SMTP_URL: z.preprocess(emptyAsUndefined, z.url({ protocol: /^smtps?$/ }).optional()),
  SMTP_URLS: smtpUrls,
  SMTP_MAX_CONNECTIONS: z.coerce.number().int().min(1).max(50).default(5),
  SMTP_RATE_PER_MINUTE: z.preprocess(
    emptyAsUndefined,
    z.coerce.number().int().min(1).max(100_000).optional(),
  ),
  SEND_GAP: sendGap,
  DKIM_PRIVATE_KEY: dkimPrivateKey,
  DKIM_SELECTOR: dkimName(dkimSelector, 'a DKIM selector like s1 or google (letters, digits, - and .)'),
  DKIM_DOMAIN: dkimName(dnsName, 'the domain the key is published under, like example.com'),
  MAIL_FROM: z.preprocess(
    emptyAsUndefined,
    z
      .string()
      .trim()
      .min(3)
      .refine((v) => parseSender(v).ok, {
        error: (i) => {
          const r = parseSender(String(i.input));
          return r.ok ? 'must be one sender' : `must be one sender: it ${r.problem}`;
        },
      })
      .optional(),
  ),
  MAIL_OUTBOX_DIR: z.string().min(1).default('./data/outbox'),
  INBOX_URL: imapUrl,
  INBOX_POLL: duration.pipe(z.number().min(1000, 'must be at least 1s').max(86_400_000)).default(60_000),
  MAIL_POSTAL_ADDRESS: z.preprocess(emptyAsUndefined, z.string().trim().min(5).max(300).optional()),
  MAIL_UNSUBSCRIBE_MAILTO: z.preprocess(emptyAsUndefined, z.email().optional()),
  // VERP adds `+cb.<id>.<tag>` (at most 26 characters) to the local part, which may hold 64
  MAIL_BOUNCE_ADDRESS: z.preprocess(
    emptyAsUndefined,
    z
      .email()
      .refine(
        (v) => v.lastIndexOf('@') <= 38,
        'must have a local part (before the @) of at most 38 characters',
      )
      .optional(),
  ),
  PUBLIC_URL: z.preprocess(emptyAsUndefined, z.url({ protocol: /^https?$/ }).optional()),
  UNSUBSCRIBE_SECRET: z.preprocess(
    emptyAsUndefined,
    z.string().min(16, 'must be at least 16 characters').optional(),
  ),
  MISSED_SCHEDULE_GRACE: duration.default(3_600_000),
  BACKUP_DIR: z.string().min(1).default('./data/backups'),
  BACKUP_KEEP: z.coerce.number().int().min(1).max(1000).default(7),
  RETENTION_DAYS: z.preprocess(emptyAsUndefined, z.coerce.number().int().min(1).max(36_500).optional()),
  BACKUP_CRON: z
    .string()
    .trim()
    .default('0 3 * * *')
    .refine(
      (v) => v === 'off' || cron.validate(v),
      'must be a cron expression like "0 3 * * *" (UTC), or off',
    ),
  SCHEDULER_TICK: duration.pipe(z.number().min(1000, 'must be at least 1s')).default(5000),
  BOUNCE_PAUSE_RATE: z.coerce.number().min(0).max(1).default(0.05),
  BOUNCE_PAUSE_MIN_SENDS: z.coerce.number().int().min(1).default(20),
  SOFT_BOUNCE_LIMIT: z.coerce.number().int().min(1).max(100).default(3),
  DNS_SERVERS: commaList(dnsServer),
  VALIDATION_DNS_SERVERS: commaList(dnsServer),
  VALIDATION_CONCURRENCY: z.coerce.number().int().min(1).max(200).default(20),
  VALIDATION_PROBE_DOMAINS: z.preprocess(
    emptyAsUndefined,
    z
      .string()
      .default('gmail.com,outlook.com,yahoo.com')
      .transform((s) =>
        s.trim().toLowerCase() === 'off' ? [] : s.split(',').map((x) => x.trim().toLowerCase()),
      )
      .pipe(
        z.array(
          z
            .string()
            .regex(
              /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$/,
              'must be comma-separated domain names that have an MX record (gmail.com,outlook.com), or off',
            ),
        ),
      ),
  ),
  VALIDATION_TIMEOUT: duration.pipe(z.number().min(100, 'must be at least 100ms').max(60_000)).default(5000),
  VALIDATE_ON_IMPORT: flag.default(true),
  APPROVAL_THRESHOLD: z.preprocess(emptyAsUndefined, z.coerce.number().int().positive().optional()),
  WEBHOOK_URLS: commaList(z.url({ protocol: /^https?$/, error: 'must be comma-separated http(s) URLs' })),
  WEBHOOK_SECRET: z.preprocess(
    emptyAsUndefined,
    z.string().min(16, 'must be at least 16 characters').optional(),
  ),
  WEBHOOK_TIMEOUT: duration.pipe(z.number().min(100, 'must be at least 100ms').max(120_000)).default(10_000),
});

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Every variable loadConfig reads (.env.example documents each). */
export const configVariables: readonly string[] = Object.keys(envSchema.shape);

/** Names of this machine: a HOST that is one of them listens on loopback only. */
const thisMachine = /^(localhost|127(\.\d{1,3}){3}|::1|\[::1\])$/i;
const isLoopbackHost = (host: string) => thisMachine.test(host);
/** Whether a link to this host only works on this machine (0.0.0.0 too: nobody else can follow it). */
const linksOnlyHere = (host: string) => thisMachine.test(host) || host === '0.0.0.0';

/**
 * Real mail (SMTP) carries unsubscribe links to PUBLIC_URL in every message, so it must be an https
 * URL that recipients can reach; the outbox (no SMTP) may keep http://localhost.
 */
function assertPublicForMail(publicUrl: string, via: 'SMTP_URL' | 'SMTP_URLS'): void {
  const u = new URL(publicUrl);
  if (u.protocol === 'https:' && !linksOnlyHere(u.hostname)) return;
  const must = u.protocol === 'https:' ? 'a public https URL (not this machine)' : 'an https URL';
  throw new ConfigError(
    `Invalid configuration: PUBLIC_URL must be ${must} when ${via} sends real mail: ` +
      `unsubscribe links in every message point to it (got ${publicUrl}).`,
  );
}

/** Reads the configuration from an environment map; throws ConfigError naming the first bad variable. */
export function loadConfig(env: Record<string, string | undefined>): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const name = String(issue.path[0] ?? 'environment');
    const got = env[name];
    const secret = /TOKEN|SECRET|SMTP_URL|WEBHOOK_URLS|INBOX_URL|PRIVATE_KEY/.test(name);
    const shown = secret || got === undefined ? '' : ` (got ${JSON.stringify(got)})`;
    throw new ConfigError(`Invalid configuration: ${name} ${issue.message}${shown}`);
  }
  const e = parsed.data;
  if (e.SMTP_URL && e.SMTP_URLS.length > 0) {
    throw new ConfigError('Invalid configuration: SMTP_URLS replaces SMTP_URL: set only one of them');
  }
  if (e.SLACK_BOT_TOKEN && !e.SLACK_APP_TOKEN && !e.SLACK_SIGNING_SECRET) {
    throw new ConfigError(
      'Invalid configuration: SLACK_SIGNING_SECRET is required in HTTP mode (or set SLACK_APP_TOKEN for Socket Mode)',
    );
  }
  if (e.WEBHOOK_URLS.length > 0 && !e.WEBHOOK_SECRET) {
    throw new ConfigError(
      'Invalid configuration: WEBHOOK_SECRET is required when WEBHOOK_URLS is set (it signs every webhook)',
    );
  }
  if (e.HOST && !e.API_TOKEN && !isLoopbackHost(e.HOST)) {
    throw new ConfigError(
      `Invalid configuration: HOST=${e.HOST} listens beyond this machine, so API_TOKEN is required (without it every REST route would be open to the network); set API_TOKEN, or leave HOST unset to listen on 127.0.0.1 only`,
    );
  }
  const mailboxes = distinctMailboxes(e.INBOX_URL, e.SMTP_URLS);
  if (typeof mailboxes === 'string') throw new ConfigError(`Invalid configuration: ${mailboxes}`);
  const dkim = dkimKeys(
    { pem: e.DKIM_PRIVATE_KEY, selector: e.DKIM_SELECTOR, domain: e.DKIM_DOMAIN },
    e.SMTP_URLS,
  );
  if (typeof dkim === 'string') throw new ConfigError(`Invalid configuration: ${dkim}`);
  const realMail = e.SMTP_URLS.length > 0 ? 'SMTP_URLS' : e.SMTP_URL ? 'SMTP_URL' : null;
  const publicUrl = (e.PUBLIC_URL ?? `http://localhost:${e.PORT}`).replace(/\/$/, '');
  if (realMail) assertPublicForMail(publicUrl, realMail);
  const slack: SlackConfig | null = e.SLACK_BOT_TOKEN
    ? {
        botToken: e.SLACK_BOT_TOKEN,
        appToken: e.SLACK_APP_TOKEN,
        signingSecret: e.SLACK_SIGNING_SECRET,
        apiUrl: e.SLACK_API_URL ? e.SLACK_API_URL.replace(/\/?$/, '/') : undefined,
        adminUsers: e.SLACK_ADMIN_USERS,
        importChannels: e.SLACK_IMPORT_CHANNELS,
        notifyChannel: e.SLACK_NOTIFY_CHANNEL,
        repliesChannel: e.SLACK_REPLIES_CHANNEL,
      }
    : null;
  return {
    port: e.PORT,
    host: e.HOST ?? (e.API_TOKEN ? '0.0.0.0' : '127.0.0.1'),
    databasePath: e.DATABASE_PATH,
    databaseUrl: e.DATABASE_URL,
    databasePoolMax: e.DATABASE_POOL_MAX,
    apiToken: e.API_TOKEN,
    importMaxBytes: e.IMPORT_MAX_BYTES,
    importIdleTimeoutMs: e.IMPORT_IDLE_TIMEOUT,
    importQueueTimeoutMs: e.IMPORT_QUEUE_TIMEOUT,
    logLevel: e.LOG_LEVEL,
    logFormat: e.LOG_FORMAT,
    slack,
    mail: {
      smtpUrl: e.SMTP_URL,
      // each account's gap: its own `gap=` (0: none), else SEND_GAP
      accounts: dkim.accounts.map((a) => (a.gap === undefined && e.SEND_GAP ? { ...a, gap: e.SEND_GAP } : a)),
      dkim: { selector: e.DKIM_SELECTOR, domain: e.DKIM_DOMAIN, key: dkim.single },
      sendGap: e.SEND_GAP,
      maxConnections: e.SMTP_MAX_CONNECTIONS,
      ratePerMinute: e.SMTP_RATE_PER_MINUTE,
      from: e.MAIL_FROM,
      outboxDir: e.MAIL_OUTBOX_DIR,
      postalAddress: e.MAIL_POSTAL_ADDRESS,
      unsubscribeMailto: e.MAIL_UNSUBSCRIBE_MAILTO ?? addressOf(e.MAIL_FROM),
      bounceAddress: e.MAIL_BOUNCE_ADDRESS,
      publicUrl,
      unsubscribeSecret: e.UNSUBSCRIBE_SECRET,
    },
    inbox: { mailboxes, pollMs: e.INBOX_POLL },
    backup: { dir: e.BACKUP_DIR, keep: e.BACKUP_KEEP, cron: e.BACKUP_CRON === 'off' ? null : e.BACKUP_CRON },
    retentionDays: e.RETENTION_DAYS ?? null,
    validation: {
      // DNS_SERVERS serves validation, the doctor and the rest; VALIDATION_DNS_SERVERS is its old name.
      dnsServers: e.DNS_SERVERS.length > 0 ? e.DNS_SERVERS : e.VALIDATION_DNS_SERVERS,
      concurrency: e.VALIDATION_CONCURRENCY,
      timeoutMs: e.VALIDATION_TIMEOUT,
      probeDomains: e.VALIDATION_PROBE_DOMAINS,
      onImport: e.VALIDATE_ON_IMPORT,
    },
    approval: { threshold: e.APPROVAL_THRESHOLD },
    webhooks: { urls: e.WEBHOOK_URLS, secret: e.WEBHOOK_SECRET ?? '', timeoutMs: e.WEBHOOK_TIMEOUT },
    campaigns: {
      missedGraceMs: e.MISSED_SCHEDULE_GRACE,
      tickMs: e.SCHEDULER_TICK,
      bouncePause: { rate: e.BOUNCE_PAUSE_RATE, minSends: e.BOUNCE_PAUSE_MIN_SENDS },
      softBounceLimit: e.SOFT_BOUNCE_LIMIT,
      holdOnDoctor: true,
    },
  };
}
