import type { ErrorRequestHandler, RequestHandler } from 'express';
import { ZodError } from 'zod';
import { DomainError, type ErrorCode, storageError } from '../errors.js';
import type { Logger } from '../logger.js';

export type ErrorBody = { error: { code: string; message: string; details?: unknown } };

/** The HTTP status of each domain error code: the one place REST maps them. */
export const httpStatus = {
  invalid_input: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  duplicate_file: 409,
  suppressed: 409,
  too_large: 413,
  upload_timeout: 408,
  /** Answered with Retry-After (the upload route). */
  import_busy: 503,
  not_csv: 415,
  unsupported_media_type: 415,
  empty_file: 422,
  no_email_column: 422,
  malformed_csv: 422,
  no_valid_rows: 422,
  no_new_contacts: 422,
  opted_out_list: 422,
  mail_not_configured: 409,
  empty_audience: 409,
  import_failed: 500,
  storage_read_only: 503,
  storage_unavailable: 503,
  storage_full: 507,
  download_failed: 502,
  internal: 500,
} as const satisfies Record<ErrorCode, number>;

/** Maps any thrown value to an HTTP status and the `{error:{code,message,details}}` body. */
export function toHttpError(thrown: unknown): { status: number; body: ErrorBody } {
  const err = storageError(thrown) ?? thrown;
  if (err instanceof DomainError) {
    return {
      status: httpStatus[err.code],
      body: {
        error: { code: err.code, message: err.message, ...(err.details ? { details: err.details } : {}) },
      },
    };
  }
  if (err instanceof ZodError) {
    const first = err.issues[0];
    const where = first?.path.length ? `${first.path.join('.')}: ` : '';
    return {
      status: 400,
      body: {
        error: {
          code: 'invalid_input',
          message: `${where}${first?.message ?? 'invalid input'}`,
          details: err.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
        },
      },
    };
  }
  const e = err as { type?: unknown; status?: unknown };
  if (e?.type === 'entity.too.large') {
    return { status: 413, body: { error: { code: 'too_large', message: 'The request body is too large.' } } };
  }
  if (e?.type === 'entity.parse.failed') {
    return {
      status: 400,
      body: { error: { code: 'invalid_input', message: 'The body is not valid JSON.' } },
    };
  }
  if (e?.type === 'charset.unsupported' || e?.type === 'encoding.unsupported') {
    return {
      status: 415,
      body: {
        error: {
          code: 'unsupported_media_type',
          message: 'Send the body as UTF-8 JSON, without a Content-Encoding other than gzip, deflate or br.',
        },
      },
    };
  }
  // any other refusal of the body parsers (an aborted or mis-sized body, too many fields) is the client's
  if (typeof e?.status === 'number' && e.status >= 400 && e.status < 500) {
    const code =
      e.status === 413 ? 'too_large' : e.status === 415 ? 'unsupported_media_type' : 'invalid_input';
    return {
      status: e.status === 413 || e.status === 415 ? e.status : 400,
      body: { error: { code, message: 'The request body could not be read; check it and send it again.' } },
    };
  }
  return {
    status: 500,
    body: { error: { code: 'internal', message: 'Something went wrong on our side; try again.' } },
  };
}

export function errorHandler(log: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    const { status, body } = toHttpError(err);
    if (status >= 500) log.error({ err, method: req.method, path: req.path }, 'request failed');
    if (res.headersSent) {
      res.destroy();
      return;
    }
    res.status(status).json(body);
  };
}

export const notFound: RequestHandler = (req, res) => {
  res.status(404).json({ error: { code: 'not_found', message: `No route ${req.method} ${req.path}.` } });
};
