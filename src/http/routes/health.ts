import { type Request, Router } from 'express';
import type { HealthService } from '../../core/health.js';
import type { IdentityState } from '../../mail/mailer.js';

export type HealthParts = {
  /** Core's own check (the database answers). */
  core: Pick<HealthService, 'checkDatabase'>;
  slack: () => string;
  smtp: () => string;
  /** Each sending identity (SMTP_URLS): sent and cap today, skipped until; absent with one transport. */
  identities?: () => IdentityState[] | undefined;
};

/**
 * GET /healthz: public, so only the statuses (ok, db, slack, smtp); the sending identities
 * (host:port:user, counts, caps) only with the API token (or with no API_TOKEN: loopback only).
 */
export function healthRoutes(parts: HealthParts, authorized: (req: Request) => boolean): Router {
  const r = Router();
  r.get('/healthz', async (req, res) => {
    const dbState = await parts.core.checkDatabase();
    const ok = dbState === 'ok';
    const identities = authorized(req) ? parts.identities?.() : undefined;
    res.status(ok ? 200 : 503).json({
      ok,
      db: dbState,
      slack: parts.slack(),
      smtp: parts.smtp(),
      ...(identities ? { identities } : {}),
    });
  });
  return r;
}
