import type { ImapFlow } from 'imapflow';
import type { MailboxRef } from '../../core/mailbox/types.js';
import type { Logger } from '../../logger.js';

/** The keyword that marks a message as read by coldbatch (with \Seen); nothing is ever deleted. */
export const readKeyword = '$Coldbatch';

/**
 * What the reader hands messages to (MailboxService in the app; a recorder in tests). The reader
 * is only a transport: classifying, matching and recording are the handler's.
 */
export type MailboxHandler = {
  /** Records one message and applies its effects; throws only when it could not be recorded. */
  process(ref: MailboxRef, raw: Buffer): Promise<unknown>;
  /** Whether this message was recorded before (a flag can be lost; the record is the truth). */
  seen(ref: MailboxRef): Promise<boolean>;
};

export type PassTally = { processed: number; flagged: number; failed: number };

export type PassOptions = {
  client: ImapFlow;
  handler: MailboxHandler;
  log: Logger;
  /** The mailbox's name and UIDVALIDITY: with the UID, the message's ref. */
  mailbox: string;
  uidValidity: string;
  /** false: the server cannot store keywords, so every pass lists every message (the record dedupes). */
  keywords: boolean;
  /** UIDs done in this session (flagged, or left to the record when keywords cannot be stored). */
  done: Set<number>;
  /** Messages asked about at once (one SEARCH filter, one FETCH of sizes, one STORE). */
  chunkSize: number;
  /** Bytes of message sources fetched in one round trip (at least one message). */
  fetchBytes: number;
  /** Consecutive failures that end the pass (the database is likely down: try again later). */
  maxFailures: number;
  stopping: () => boolean;
  /** Redacts the password from an error's text. */
  describe: (err: unknown) => string;
};

/**
 * One pass over the selected mailbox: every message without the keyword, oldest UID first, is
 * handed to the handler (unless it was recorded before) and then flagged \Seen and $Coldbatch.
 * A message the handler fails on stays unflagged and is read again on the next pass; a lost
 * connection throws (the reader reconnects). Never expunges, never deletes.
 */
export async function readPass(o: PassOptions): Promise<PassTally> {
  const tally: PassTally = { processed: 0, flagged: 0, failed: 0 };
  const query = o.keywords ? { unKeyword: readKeyword } : { all: true };
  const found = (await o.client.search(query, { uid: true })) || [];
  const uids = found.filter((uid) => !o.done.has(uid)).sort((a, b) => a - b);
  let failedInARow = 0;
  for (let i = 0; i < uids.length && !o.stopping(); i += o.chunkSize) {
    const chunk = uids.slice(i, i + o.chunkSize);
    const ready: number[] = [];
    const todo: number[] = [];
    for (const uid of chunk) {
      try {
        ((await o.handler.seen(ref(o, uid))) ? ready : todo).push(uid);
        failedInARow = 0;
      } catch (err) {
        failedInARow = fail(o, tally, uid, err, failedInARow);
        if (failedInARow >= o.maxFailures) break;
      }
    }
    const stop = () => o.stopping() || failedInARow >= o.maxFailures;
    for (const group of stop() ? [] : await fetchGroups(o, todo)) {
      if (stop()) break;
      const sources = await fetchSources(o.client, group);
      for (const uid of group) {
        const raw = sources.get(uid);
        if (!raw) continue; // expunged by someone else meanwhile
        if (stop()) break;
        try {
          await o.handler.process(ref(o, uid), raw);
          ready.push(uid);
          tally.processed++;
          failedInARow = 0;
        } catch (err) {
          failedInARow = fail(o, tally, uid, err, failedInARow);
        }
        // process() is synchronous work behind resolved promises (SQLite): without a turn here a
        // group of 50 held the event loop for one long block (170 ms to over a second).
        await new Promise<void>((r) => setImmediate(r));
      }
    }
    if (ready.length > 0) {
      await o.client.messageFlagsAdd(ready.join(','), ['\\Seen', readKeyword], { uid: true });
      for (const uid of ready) o.done.add(uid);
      tally.flagged += ready.length;
    }
    if (failedInARow >= o.maxFailures) {
      o.log.warn(
        { failedInARow },
        'mailbox pass stopped: messages not recorded in a row; read again on the next pass',
      );
      break;
    }
  }
  return tally;
}

function ref(o: PassOptions, uid: number): MailboxRef {
  return { mailbox: o.mailbox, uidValidity: o.uidValidity, uid };
}

function fail(o: PassOptions, tally: PassTally, uid: number, err: unknown, inARow: number): number {
  tally.failed++;
  o.log.warn(
    { uid, err: o.describe(err) },
    'message not recorded: left unflagged, read again on the next pass',
  );
  return inARow + 1;
}

/** The UIDs in groups whose sources together stay under fetchBytes (a bigger message goes alone). */
async function fetchGroups(o: PassOptions, uids: number[]): Promise<number[][]> {
  if (uids.length === 0) return [];
  const sizes = new Map<number, number>();
  for await (const m of o.client.fetch(uids.join(','), { uid: true, size: true }, { uid: true })) {
    sizes.set(m.uid, m.size ?? 0);
  }
  const groups: number[][] = [];
  let group: number[] = [];
  let bytes = 0;
  for (const uid of uids) {
    const size = sizes.get(uid);
    if (size === undefined) continue; // gone
    if (group.length > 0 && bytes + size > o.fetchBytes) {
      groups.push(group);
      group = [];
      bytes = 0;
    }
    group.push(uid);
    bytes += size;
  }
  if (group.length > 0) groups.push(group);
  return groups;
}

/** The raw sources of these UIDs (BODY.PEEK[]: fetching sets no flag). */
async function fetchSources(client: ImapFlow, uids: number[]): Promise<Map<number, Buffer>> {
  const out = new Map<number, Buffer>();
  for await (const m of client.fetch(uids.join(','), { uid: true, source: true }, { uid: true })) {
    if (m.source) out.set(m.uid, m.source);
  }
  return out;
}
