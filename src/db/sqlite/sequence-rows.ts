import Database from 'better-sqlite3';
import type { ContactStatus, SequenceStopReason } from '../../core/vocabulary.js';
import type { Db, Sqlite } from '../client.js';

/**
 * Stops of a campaign's sequence (PRODUCT.md §8), inside the caller's transaction: every store
 * that makes a person leave a sequence (a reply, a bounce, a complaint, an unsubscribe, a status
 * change, a suppression, a cancel, "Stop sequence") calls stopSequences in its own transaction,
 * so the people list says `stopped` in the same commit. Only waiting people change (no stop reason
 * yet, and a follow-up due or a step in flight); a stopped or finished person keeps their state,
 * so the first event is the reason and a second call is a no-op. One UPDATE over an index
 * (sequence_people_contact, or the primary key's campaign prefix), prepared once per connection:
 * a stop by contact costs a few microseconds, cheap enough for a hard bounce in the middle of a
 * send (a drizzle-built statement is compiled again at each call: ~15 times that).
 */

/** A drizzle database or transaction over better-sqlite3, or the connection itself. */
type On = Pick<Db, 'update'> | Sqlite;

/** Whose sequences stop. */
export type StopTarget =
  /** These contacts, in every campaign. */
  | { contactIds: readonly number[] }
  /** One person in one campaign ("Stop sequence"). */
  | { campaignId: string; contactId: number }
  /** Every contact with this address (its SHA-256), in every campaign. */
  | { emailHash: Buffer }
  /** Contacts whose address matches one of two LIKE patterns (a domain rule), in every campaign. */
  | { emailLike: readonly [string, string] }
  /** Everyone waiting in this campaign (the campaign cancelled). */
  | { campaign: string };

// Waiting: a follow-up due, or the last step's row still claimed or retrying (in flight: that step
// goes out, and the engine's sent mark leaves a stopped person stopped, so nothing follows it).
const stop = `UPDATE sequence_people SET stop_reason = ?, stopped_at = ?, next_due_at = NULL, updated_at = ?
  WHERE stop_reason IS NULL
    AND (next_due_at IS NOT NULL OR EXISTS (SELECT 1 FROM sends x
      WHERE x.id = sequence_people.last_send_id AND x.status IN ('claimed', 'retry')))
    AND`;
type Head = [SequenceStopReason, number, number];

function prepare(c: Sqlite) {
  return {
    contact: c.prepare<[...Head, number]>(`${stop} contact_id = ?`),
    person: c.prepare<[...Head, string, number]>(`${stop} campaign_id = ? AND contact_id = ?`),
    hash: c.prepare<[...Head, Buffer]>(
      `${stop} contact_id IN (SELECT id FROM contacts WHERE email_hash = ?)`,
    ),
    like: c.prepare<[...Head, string, string]>(
      `${stop} contact_id IN (SELECT id FROM contacts WHERE email LIKE ? OR email LIKE ?)`,
    ),
    campaign: c.prepare<[...Head, string]>(`${stop} campaign_id = ?`),
  };
}

const cache = new WeakMap<Sqlite, ReturnType<typeof prepare>>();

/**
 * The connection under `on`. A drizzle transaction over better-sqlite3 runs on its database's one
 * connection (`session.client`), so a statement prepared on it runs inside that transaction.
 */
function connectionOf(on: On): Sqlite {
  if (on instanceof Database) return on;
  if ('$client' in on && on.$client instanceof Database) return on.$client;
  const session: unknown = Reflect.get(on, 'session');
  const client: unknown = session && typeof session === 'object' ? Reflect.get(session, 'client') : null;
  if (client instanceof Database) return client;
  throw new Error('stopSequences needs a better-sqlite3 connection or a drizzle transaction on one');
}

function statements(on: On): ReturnType<typeof prepare> {
  const c = connectionOf(on);
  let s = cache.get(c);
  if (!s) {
    s = prepare(c);
    cache.set(c, s);
  }
  return s;
}

/** Waiting people of `target` become stopped with `reason` at `at`; how many. */
export function stopSequences(on: On, target: StopTarget, reason: SequenceStopReason, at: number): number {
  const s = statements(on);
  const head: Head = [reason, at, at];
  if ('contactIds' in target) {
    let n = 0;
    for (const id of target.contactIds) n += s.contact.run(...head, id).changes;
    return n;
  }
  if ('contactId' in target) return s.person.run(...head, target.campaignId, target.contactId).changes;
  if ('emailHash' in target) return s.hash.run(...head, target.emailHash).changes;
  if ('emailLike' in target) return s.like.run(...head, target.emailLike[0], target.emailLike[1]).changes;
  return s.campaign.run(...head, target.campaign).changes;
}

/**
 * The stop reason of a contact status that takes the person out of every audience (null for
 * `active`): the same word for replied/bounced/complained/unsubscribed, `left_audience` otherwise.
 */
export function stopReasonOfStatus(status: ContactStatus): SequenceStopReason | null {
  switch (status) {
    case 'active':
      return null;
    case 'replied':
    case 'bounced':
    case 'complained':
    case 'unsubscribed':
      return status;
    default:
      return 'left_audience';
  }
}
