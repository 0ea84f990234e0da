import { DomainError } from '../../errors.js';
import type { SendStatusCount } from '../campaigns/campaign-store.js';
import type {
  ActiveBatch,
  AudienceStore,
  FigureRequest,
  FigureRows,
  Recipient,
  SequenceRows,
} from './audience-store.js';

export type { FigureRequest, Recipient, SequenceRows, StepStatusCount } from './audience-store.js';

/**
 * How old the figures shown for a campaign that is sending, or for the audience of a campaign
 * being created, may be where counting is slow (a million contacts): they are those of the latest
 * count, counted again in the background once they are a second old (a count takes about a second
 * at a million contacts, longer on a busy machine); a request waits for a count only when the
 * latest is older than this. Every other figure is exact when it is shown.
 */
export const figuresMaxStaleMs = 60_000;

/**
 * Why a contact cannot be e-mailed now, the first that applies in this order:
 * - `bounced`, `unsubscribed`, `complained`: the contact's status (a hard bounce, an unsubscribe, a
 *   spam complaint; for good: the address is suppressed too);
 * - `replied`: the contact answered a campaign (the mailbox): left out of cold campaigns until a
 *   person sets them back to active;
 * - `inactive`: the contact was excluded by hand (status inactive);
 * - `suppressed`: the address is on the suppression list (an earlier bounce, unsubscribe or
 *   forget, a manual or domain suppression) although the contact's status is still active;
 * - `no_mail_domain`: validation found that its domain receives no mail, and nobody included those
 *   for the batch (`/batches include-invalid <id> on`, PATCH includeInvalidDomains);
 * - `batch_inactive`: the contact is fine but its batch is not the active one.
 */
export const notSendableReasons = [
  'bounced',
  'unsubscribed',
  'complained',
  'replied',
  'inactive',
  'suppressed',
  'no_mail_domain',
  'batch_inactive',
] as const;
export type NotSendableReason = (typeof notSendableReasons)[number];

/**
 * Why a contact of the active batch is left out of a campaign's audience: a NotSendableReason,
 * or `already_reached` (this campaign already has a ledger row for the person).
 */
export const exclusionReasons = [
  'bounced',
  'unsubscribed',
  'complained',
  'replied',
  'inactive',
  'suppressed',
  'no_mail_domain',
  'already_reached',
] as const;
export type ExclusionReason = (typeof exclusionReasons)[number];
const isExclusionReason = (r: string): r is ExclusionReason => exclusionReasons.some((x) => x === r);

/**
 * Who a campaign would reach now and why the others of the active batch are left out.
 * `batch` is null when no batch is active (then `count` is 0 and nothing is excluded).
 */
export type AudienceSummary = {
  count: number;
  excluded: Partial<Record<ExclusionReason, number>>;
  batch: { id: string; name: string } | null;
};

/**
 * A campaign's figures as counted at one instant: its ledger rows by status and, when asked, its
 * audience then and its rows per step and variant (a sequence).
 */
export type Figures = {
  sends: SendStatusCount[];
  audience: AudienceSummary | null;
  sequence: SequenceRows | null;
  countedAt: number;
};

/** The audience of a campaign about to be saved, and the counted figures `seed` hands on to it. */
export type ReachFigures = { audience: AudienceSummary; countedAt: number; rows: FigureRows };

/** The summary of the active batch's contacts grouped by reason (`sendable` or an exclusion). */
function summarize(
  batch: ActiveBatch | null,
  reasons: readonly { reason: string; n: number }[],
): AudienceSummary {
  if (!batch) return { count: 0, excluded: {}, batch: null };
  let count = 0;
  const excluded: AudienceSummary['excluded'] = {};
  for (const r of reasons) {
    if (isExclusionReason(r.reason)) excluded[r.reason] = r.n;
    else count += r.n; // 'sendable'
  }
  return { count, excluded, batch: { id: batch.id, name: batch.name } };
}

/** "12 no_mail_domain, 3 bounced": the exclusions, largest first. */
export function describeExcluded(excluded: AudienceSummary['excluded']): string {
  return Object.entries(excluded)
    .filter(([, v]) => v !== undefined && v > 0)
    .sort((a, b) => (b[1] ?? 0) - (a[1] ?? 0))
    .map(([k, v]) => `${v} ${k}`)
    .join(', ');
}

/** Why an audience is empty, and what to do: the message of the `empty_audience` refusal. */
export function emptyAudienceMessage(a: AudienceSummary): string {
  if (!a.batch) {
    return 'Nobody to send to: no batch is active. Activate one (/batches activate <id>, or POST /contacts/batches/{id}/activate) or import a list first.';
  }
  const total = Object.values(a.excluded).reduce((s, v) => s + (v ?? 0), 0);
  if (total === 0) {
    return `Nobody to send to: the active batch ${a.batch.id} has no contacts. Import a list or activate another batch.`;
  }
  // Bounced, unsubscribed, complained, suppressed and already reached people stay out for good: three reasons can be undone.
  const hints: string[] = [];
  if (a.excluded.no_mail_domain) hints.push(`see /batches include-invalid ${a.batch.id} on`);
  if (a.excluded.inactive) hints.push('set the inactive ones active again (PUT /contacts/{id}/status)');
  if (a.excluded.replied)
    hints.push(
      'people who replied stay out until someone sets them active again (/contacts status <email> active)',
    );
  if (hints.length === 0) hints.push('import new contacts or activate another batch');
  return `Nobody to send to in the active batch ${a.batch.id}: ${total} contact${total === 1 ? '' : 's'} excluded: ${describeExcluded(a.excluded)} — ${hints.join('; ')}.`;
}

/** Throws `empty_audience` (with the summary as details) when the audience holds nobody. */
export function assertAudience(a: AudienceSummary): void {
  if (a.count > 0) return;
  throw new DomainError('empty_audience', emptyAudienceMessage(a), { audience: a });
}

/** Who a campaign may reach: contacts of the active batch whose status is active, minus suppressions and invalid domains. */
export class AudienceService {
  constructor(private readonly store: AudienceStore) {}

  /** How many contacts the audience holds now. */
  count(): Promise<number> {
    return this.store.count();
  }

  /**
   * The audience now with the reasons the others of the active batch are left out; with a
   * campaign id, those it already reached are left out too (`already_reached`). One GROUP BY over
   * the active batch: for creating, scheduling and starting a campaign, not for lists.
   */
  async summary(campaignId?: string): Promise<AudienceSummary> {
    const batch = await this.store.activeBatch();
    return summarize(batch, batch ? await this.store.reasons(batch.id, campaignId ?? null) : []);
  }

  /**
   * A campaign's figures (null: one not saved yet) counted in one read: its ledger rows and, with
   * `audience`, who it reaches now. Up to `maxStaleMs` old where the store keeps figures.
   */
  async figures(campaignId: string | null, request: FigureRequest): Promise<Figures> {
    const rows = await this.store.figures(campaignId, request);
    const a = rows.audience;
    return {
      sends: rows.sends,
      audience: a && summarize(a.batch, a.reasons),
      sequence: rows.sequence ?? null,
      countedAt: rows.countedAt,
    };
  }

  /**
   * Who a campaign about to be saved would reach, from figures up to figuresMaxStaleMs old; an
   * empty audience is always counted again, so a refusal is never made on old figures.
   */
  async reach(now: number): Promise<ReachFigures> {
    const counted = async (maxStaleMs: number) => {
      const rows = await this.store.figures(null, { audience: true, maxStaleMs, now });
      const a = rows.audience;
      return { audience: summarize(a?.batch ?? null, a?.reasons ?? []), countedAt: rows.countedAt, rows };
    };
    const r = await counted(figuresMaxStaleMs);
    return r.audience.count > 0 ? r : counted(0);
  }

  /** A campaign just saved has reached nobody yet: its figures are those of `reach`. */
  seed(campaignId: string, reach: ReachFigures): Promise<void> {
    return this.store.seed(campaignId, reach.rows);
  }

  /** When the active batch was activated (null: none, or never recorded). */
  async activeSince(): Promise<number | null> {
    return (await this.store.activeBatch())?.activatedAt ?? null;
  }

  /** One page of the audience after a contact id (keyset), so callers iterate with flat memory. */
  page(afterId: number, limit: number): Promise<Recipient[]> {
    return this.store.page(afterId, limit);
  }

  /** Every recipient, page by page. */
  async *iterate(pageSize = 1000): AsyncGenerator<Recipient> {
    let after = 0;
    for (;;) {
      const rows = await this.page(after, pageSize);
      if (rows.length === 0) return;
      yield* rows;
      after = rows.at(-1)!.id;
    }
  }
}
