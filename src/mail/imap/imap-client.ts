import type { ImapFlow, ImapFlowOptions } from 'imapflow';
import type { ImapMailbox } from '../../config-fields.js';

/**
 * An imapflow client for one mailbox (INBOX_URL, `#inbox=`), not yet connected: its TLS mode, login,
 * no logger of its own, no automatic IDLE. imapflow loads on first use, not with every app start.
 * `timeoutMs` bounds the connection and the greeting; `more` adds or overrides options.
 */
export async function imapClient(
  m: ImapMailbox,
  timeoutMs: number,
  more: Partial<ImapFlowOptions> = {},
): Promise<ImapFlow> {
  const { ImapFlow } = await import('imapflow');
  return new ImapFlow({
    host: m.host,
    port: m.port,
    secure: m.security === 'tls',
    doSTARTTLS: m.security === 'starttls' ? true : m.security === 'none' ? false : undefined,
    auth: { user: m.user, pass: m.pass },
    logger: false,
    disableAutoIdle: true,
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    ...more,
  });
}
