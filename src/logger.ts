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
