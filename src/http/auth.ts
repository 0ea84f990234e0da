import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request, RequestHandler } from 'express';

const digest = (s: string) => createHash('sha256').update(s).digest();

/** Routes anyone may call even when API_TOKEN is set. */
const publicPaths = [/^\/healthz$/, /^\/u\//, /^\/slack\/events$/];

/** Whether a request carries the API token (constant time); always true when API_TOKEN is unset (loopback only). */
export function hasApiToken(apiToken: string | undefined): (req: Request) => boolean {
  if (!apiToken) return () => true;
  const expected = digest(apiToken);
  return (req) => {
    const m = /^Bearer\s+(.+)$/i.exec(req.get('authorization') ?? '');
    return m !== null && timingSafeEqual(digest(m[1]!.trim()), expected);
  };
}

/** Bearer-token check when API_TOKEN is set (compared in constant time); open otherwise (loopback only). */
export function bearerAuth(apiToken: string | undefined): RequestHandler {
  if (!apiToken) return (_req, _res, next) => next();
  const authorized = hasApiToken(apiToken);
  return (req, res, next) => {
    if (publicPaths.some((p) => p.test(req.path))) return next();
    if (authorized(req)) return next();
    const m = /^Bearer\s+(.+)$/i.exec(req.get('authorization') ?? '');
    res
      .status(401)
      .set('WWW-Authenticate', 'Bearer')
      .json({
        error: {
          code: 'unauthorized',
          message: m ? 'The bearer token is wrong.' : 'Send Authorization: Bearer <API_TOKEN>.',
        },
      });
  };
}
