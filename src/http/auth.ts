import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';

const digest = (s: string) => createHash('sha256').update(s).digest();

/** Routes anyone may call even when API_TOKEN is set. */
const publicPaths = [/^\/healthz$/, /^\/u\//, /^\/slack\/events$/];

/** Bearer-token check when API_TOKEN is set (compared in constant time); open otherwise (loopback only). */
export function bearerAuth(apiToken: string | undefined): RequestHandler {
  if (!apiToken) return (_req, _res, next) => next();
  const expected = digest(apiToken);
  return (req, res, next) => {
    if (publicPaths.some((p) => p.test(req.path))) return next();
    const header = req.get('authorization') ?? '';
    const m = /^Bearer\s+(.+)$/i.exec(header);
    if (m && timingSafeEqual(digest(m[1]!.trim()), expected)) return next();
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
