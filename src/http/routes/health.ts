import { type Request, Router } from 'express';
import type { HealthService } from '../../core/health.js';
import type { ReaderState } from '../../mail/imap/index.js';
import type { IdentityState } from '../../mail/mailer.js';

export type HealthParts = {
  /** Which database the app runs on (DATABASE_URL: postgres; else sqlite). */
  engine: 'sqlite' | 'postgres';
  /** Core's own check (the database answers). */
  core: Pick<HealthService, 'checkDatabase'>;
  slack: () => string;
  smtp: () => string;
  /** Each sending identity (SMTP_URLS): sent and cap today, skipped until; absent with one transport. */
  identities?: () => IdentityState[] | undefined;
  /** Each inbox reader (INBOX_URL, `#inbox=`): state, since, last error; absent without a mailbox. */
  mailboxes?: () => ReaderState[] | undefined;
};

/**
 * GET /healthz: public, so only the statuses (ok, db, slack, smtp, and inbox when a mailbox is
 * read: ok, connecting or reconnecting); the sending identities (host:port:user, counts, caps) and the
 * mailboxes (their names, states and last errors) only with the API token (or with no API_TOKEN:
 * loopback only).
 */
export function healthRoutes(parts: HealthParts, authorized: (req: Request) => boolean): Router {
  const r = Router();
  r.get('/healthz', async (req, res) => {
    const dbState = await parts.core.checkDatabase();
    const ok = dbState === 'ok';
    const identities = authorized(req) ? parts.identities?.() : undefined;
    const mailboxes = parts.mailboxes?.();
    const up = (m: ReaderState) => m.state === 'idle' || m.state === 'polling';
    const inbox = mailboxes?.some((m) => m.state === 'reconnecting')
      ? 'reconnecting'
      : mailboxes?.length && mailboxes.every(up)
        ? 'ok'
        : 'connecting';
    res.status(ok ? 200 : 503).json({
      ok,
      db: { engine: parts.engine, ok },
      slack: parts.slack(),
      smtp: parts.smtp(),
      ...(mailboxes ? { inbox } : {}),
      ...(identities ? { identities } : {}),
      ...(mailboxes && authorized(req) ? { mailboxes } : {}),
    });
  });
  return r;
}
