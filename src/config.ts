import { z } from 'zod';

const bytes = z
  .string()
  .trim()
  .regex(/^\d+(\.\d+)?\s*(b|kb|mb|gb)?$/i, 'must be a size like 52428800, 50MB or 512kb')
  .transform((s) => {
    const m = /^(\d+(?:\.\d+)?)\s*(b|kb|mb|gb)?$/i.exec(s)!;
    const unit = (m[2] ?? 'b').toLowerCase();
    const mult = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 }[unit] ?? 1;
    return Math.floor(Number(m[1]) * mult);
  })
  .pipe(z.number().int().positive());

const emptyAsUndefined = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? undefined : v);

/** Comma-separated Slack ids (users U…/W…, channels C…/G…). */
const idList = z
  .string()
  .default('')
  .transform((s) =>
    s
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean),
  )
  .pipe(z.array(z.string().regex(/^[A-Z0-9]{2,}$/, 'must be comma-separated Slack ids like U0123ABCD')));

const envSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.preprocess(emptyAsUndefined, z.string().optional()),
  DATABASE_PATH: z.string().min(1).default('./data/coldbatch.db'),
  API_TOKEN: z.preprocess(emptyAsUndefined, z.string().min(16, 'must be at least 16 characters').optional()),
  IMPORT_MAX_BYTES: bytes.default(50 * 1024 * 1024),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
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
  SLACK_API_URL: z.preprocess(emptyAsUndefined, z.url({ protocol: /^https?$/ }).optional()),
  SLACK_ADMIN_USERS: idList,
  SLACK_IMPORT_CHANNELS: idList,
});

export type Config = {
  port: number;
  /** Where the HTTP server listens: 127.0.0.1 unless API_TOKEN is set (then HOST or all interfaces). */
  host: string;
  databasePath: string;
  apiToken: string | undefined;
  importMaxBytes: number;
  logLevel: z.infer<typeof envSchema>['LOG_LEVEL'];
  slack: SlackConfig | null;
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
};

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Reads the configuration from an environment map; throws ConfigError naming the first bad variable. */
export function loadConfig(env: Record<string, string | undefined>): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const name = String(issue.path[0] ?? 'environment');
    const got = env[name];
    const secret = /TOKEN|SECRET/.test(name);
    const shown = secret || got === undefined ? '' : ` (got ${JSON.stringify(got)})`;
    throw new ConfigError(`Invalid configuration: ${name} ${issue.message}${shown}`);
  }
  const e = parsed.data;
  if (e.SLACK_BOT_TOKEN && !e.SLACK_APP_TOKEN && !e.SLACK_SIGNING_SECRET) {
    throw new ConfigError(
      'Invalid configuration: SLACK_SIGNING_SECRET is required in HTTP mode (or set SLACK_APP_TOKEN for Socket Mode)',
    );
  }
  const slack: SlackConfig | null = e.SLACK_BOT_TOKEN
    ? {
        botToken: e.SLACK_BOT_TOKEN,
        appToken: e.SLACK_APP_TOKEN,
        signingSecret: e.SLACK_SIGNING_SECRET,
        apiUrl: e.SLACK_API_URL ? e.SLACK_API_URL.replace(/\/?$/, '/') : undefined,
        adminUsers: e.SLACK_ADMIN_USERS,
        importChannels: e.SLACK_IMPORT_CHANNELS,
      }
    : null;
  return {
    port: e.PORT,
    host: e.HOST ?? (e.API_TOKEN ? '0.0.0.0' : '127.0.0.1'),
    databasePath: e.DATABASE_PATH,
    apiToken: e.API_TOKEN,
    importMaxBytes: e.IMPORT_MAX_BYTES,
    logLevel: e.LOG_LEVEL,
    slack,
  };
}
