import { Router } from 'express';
import type { Db } from '../../db/client.js';

export type HealthParts = { slack: () => string; smtp: () => string };

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
    res.status(ok ? 200 : 503).json({ ok, db: dbState, slack: parts.slack(), smtp: parts.smtp() });
  });
  return r;
}
