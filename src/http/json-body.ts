import type { Request } from 'express';
import { DomainError } from '../errors.js';

/** Whether the request carries a body: a length above zero, or a chunked one. */
const hasBody = (req: Request) =>
  req.get('transfer-encoding') !== undefined || Number(req.get('content-length') ?? 0) > 0;

/**
 * The JSON body of a request, for zod to parse: an empty object when none was sent (POST …/pause),
 * and 415 when a body came in another type instead of it being read as empty.
 */
export function jsonBody(req: Request): unknown {
  if (hasBody(req) && !req.is('application/json')) {
    throw new DomainError(
      'unsupported_media_type',
      'Send the body as JSON with Content-Type: application/json.',
    );
  }
  return req.body ?? {};
}
