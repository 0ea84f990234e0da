import { Router } from 'express';
import type { Db } from '../../db/client.js';
import type { IdentityState } from '../../mail/mailer.js';

export type HealthParts = {
  slack: () => string;
  smtp: () => string;
  /** Each sending identity (SMTP_URLS): sent and cap today, skipped until; absent with one transport. */
  identities?: () => IdentityState[] | undefined;
};

export function healthRoutes(db: Db, parts: HealthParts): Router {
  const r = Router();
  r.get('/healthz', (_req, res) => {
    let dbState = 'ok';
    try {
      db.$client.prepare('SELECT 1').get();
    } catch {
      dbState = 'error';
    }
    const ok = dbState === 'ok';
    const identities = parts.identities?.();
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
