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

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    { level, base: { app: 'coldbatch' }, redact: { paths: redactPaths, censor: '[redacted]' } },
    destination,
  );
}

/** Bolt's Logger interface over a pino child, so Slack SDK lines are structured and redacted too. */
export function boltLogger(log: Logger) {
  const child = log.child({ module: 'bolt' });
  const text = (msg: unknown[]) => msg.map((m) => (typeof m === 'string' ? m : JSON.stringify(m))).join(' ');
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
