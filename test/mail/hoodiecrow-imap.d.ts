/** The parts of hoodiecrow-imap (a scriptable IMAP server, no types of its own) the tests use. */
declare module 'hoodiecrow-imap' {
  import type { Server } from 'node:net';

  export type HoodiecrowMessage = { raw: string; flags: string[]; uid?: number; internaldate?: string };
  export type HoodiecrowFolder = {
    messages: HoodiecrowMessage[];
    uidvalidity?: number;
    permanentFlags?: string[];
    allowPermanentFlags?: boolean;
  };
  export type HoodiecrowOptions = {
    /** IDLE, UIDPLUS, ID, … (files of lib/plugins). */
    plugins?: string[];
    users?: Record<string, { password: string }>;
    /** Folders by path; kept (and changed) in memory: hand the same object to a new server to restart it. */
    storage?: Record<string, Partial<HoodiecrowFolder> & { separator?: string; type?: string }>;
    debug?: boolean;
  };
  export type HoodiecrowServer = {
    /** The underlying net.Server. */
    server: Server;
    listen(port: number, host: string, callback?: () => void): void;
    close(callback?: () => void): void;
    getMailbox(path: string): HoodiecrowFolder;
    appendMessage(
      mailbox: string,
      flags: string[],
      internaldate: string | undefined,
      raw: string,
    ): { message: HoodiecrowMessage };
  };
  export default function hoodiecrow(options?: HoodiecrowOptions): HoodiecrowServer;
}
