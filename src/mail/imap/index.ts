import type { ImapMailbox } from '../../config-fields.js';
import { MailboxReader, type ReaderOptions, type ReaderState } from './mailbox-reader.js';
import type { MailboxHandler } from './read-pass.js';

export { MailboxReader, type ReaderOptions, type ReaderState } from './mailbox-reader.js';
export { type MailboxHandler, readKeyword } from './read-pass.js';

/** The inbox readers of the app: one per distinct mailbox (INBOX_URL, SMTP_URLS `#inbox=`). */
export type MailboxReaders = {
  /** Starts one reader per mailbox, handing messages to the handler (once; again does nothing). */
  start(handler: MailboxHandler): void;
  /** Each reader's state for /healthz; undefined when no mailbox is configured. */
  states(): ReaderState[] | undefined;
  stop(): Promise<void>;
};

/** The readers of these mailboxes, not yet started (no mailbox: start and stop do nothing). */
export function mailboxReaders(
  inbox: { mailboxes: ImapMailbox[]; pollMs: number },
  options: Omit<ReaderOptions, 'pollMs'>,
): MailboxReaders {
  let readers: MailboxReader[] = [];
  return {
    start(handler) {
      if (readers.length > 0 || inbox.mailboxes.length === 0) return;
      readers = inbox.mailboxes.map(
        (m) => new MailboxReader(m, handler, { ...options, pollMs: inbox.pollMs }),
      );
      for (const r of readers) r.start();
    },
    states: () => (inbox.mailboxes.length === 0 ? undefined : readers.map((r) => r.state())),
    // Stopped readers are dropped: another instance leads the inbox now, or this one may again later.
    stop: async () => {
      const stopping = readers;
      readers = [];
      await Promise.all(stopping.map((r) => r.stop()));
    },
  };
}
