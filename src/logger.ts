import pino, { type DestinationStream, type Logger } from 'pino';

export type { Logger };

/** Paths whose values never reach a log line. */
export const redactPaths = [
  'token',
  '*.token',
  'apiToken',
  'authorization',
  '*.authorization',
  'req.headers.authorization',
  'headers.authorization',
  'password',
  '*.password',
  'email',
  '*.email',
  'emails',
];

/** LOG_FORMAT: one JSON object a line (for log collectors), or pino-pretty's readable lines (a terminal). */
export type LogFormat = 'json' | 'pretty';

export type LogOutput = {
  /** json or pretty; unset: pretty when the output is a terminal, json otherwise. */
  format?: LogFormat | undefined;
  /** 1 (stdout, the app) or 2 (stderr, the CLIs, whose stdout is their answer). */
  fd?: 1 | 2;
};

/**
 * The root logger: ISO times, secrets redacted. Lines go to `destination` when given (tests read
 * them as JSON), else to stdout/stderr, through pino's own pino-pretty transport when pretty.
 */
export function createLogger(level: string, destination?: DestinationStream, output: LogOutput = {}): Logger {
  const options = {
    level,
    base: { app: 'coldbatch' },
    redact: { paths: redactPaths, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  if (destination) return pino(options, destination);
  const fd = output.fd ?? 1;
  const tty = (fd === 1 ? process.stdout : process.stderr).isTTY === true;
  // A silent logger never writes, so it needs no transport thread.
  if (level === 'silent' || (output.format ?? (tty ? 'pretty' : 'json')) === 'json') {
    return pino(options, fd === 1 ? undefined : pino.destination({ fd, sync: true }));
  }
  const pretty = pino.transport({
    target: 'pino-pretty',
    options: { destination: fd, colorize: tty, translateTime: 'SYS:standard', ignore: 'pid,hostname,app' },
  });
  return pino(options, pretty);
}

/** An e-mail address in free text (also URL-encoded, `%40`): what the SDK's lines quote from bodies. */
const addressInText = /[^\s@"'`<>()[\]{},;:\\|=&]+(?:@|%40)[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}/gi;

/** Text with every e-mail address replaced (the Slack SDK's debug lines quote whole request bodies). */
export const redactAddresses = (text: string): string => text.replace(addressInText, '[email]');

/** Bolt's Logger interface over a pino child, so Slack SDK lines are structured and redacted too. */
export function boltLogger(log: Logger) {
  const child = log.child({ module: 'bolt' });
  const text = (msg: unknown[]) =>
    redactAddresses(msg.map((m) => (typeof m === 'string' ? m : JSON.stringify(m))).join(' '));
  let name = 'bolt';
  return {
    debug: (...msg: unknown[]) => child.debug({ logger: name }, text(msg)),
    info: (...msg: unknown[]) => child.info({ logger: name }, text(msg)),
    warn: (...msg: unknown[]) => child.warn({ logger: name }, text(msg)),
    error: (...msg: unknown[]) => child.error({ logger: name }, text(msg)),
    setLevel: () => {},
    getLevel: () => 'info' as never,
    setName: (n: string) => {
      name = n;
    },
  };
}
