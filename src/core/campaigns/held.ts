import { z } from 'zod';
import type { Logger } from '../../logger.js';
import type { BlockingCheck } from '../deliverability/types.js';
import type { CampaignPatch } from './campaign-store.js';

/** What a hold asks of the domain doctor (DoctorService): the failing checks, from its kept report. */
export type DoctorBlocking = { blocking(opts?: { fresh?: boolean }): Promise<BlockingCheck[]> };

/** A failing check as a held campaign keeps it (`heldChecks`, JSON) and the API shows it. */
export const heldCheckSchema = z.object({
  name: z.string(),
  domain: z.string().nullable(),
  title: z.string(),
  detail: z.string(),
  fix: z.string().nullable(),
});
export type HeldCheck = z.infer<typeof heldCheckSchema>;

/** The checks a campaign was held for (null: never held). */
export function parseHeldChecks(json: string | null): HeldCheck[] | null {
  if (json === null) return null;
  return z.array(heldCheckSchema).parse(JSON.parse(json));
}

/**
 * Names reserved for testing and documentation (RFC 2606, RFC 6761): no mail from them reaches
 * anyone, so they have no reputation to protect and never hold a campaign.
 */
const reserved = /(^|\.)(test|example|invalid|localhost)$|(^|\.)example\.(com|net|org)$/i;
export const isReservedDomain = (domain: string): boolean => reserved.test(domain);

/** "SPF (acme.com), Postal address (MAIL_POSTAL_ADDRESS)". */
export const checkNames = (checks: readonly HeldCheck[]): string =>
  checks.map((c) => (c.domain ? `${c.title} (${c.domain})` : c.title)).join(', ');

/** The history line of a hold: each check with what was found. */
export const heldDetail = (checks: readonly HeldCheck[]): string =>
  checks.map((c) => `${c.domain ? `${c.title} (${c.domain})` : c.title}: ${c.detail}`).join(' ');

/** The columns of a campaign held by the doctor: status `held`, the reason, the checks and a line for people. */
export function heldPatch(checks: readonly HeldCheck[]): CampaignPatch {
  const kept = checks.map(({ name, domain, title, detail, fix }) => ({ name, domain, title, detail, fix }));
  const n = checks.length;
  return {
    status: 'held',
    heldReason: 'doctor',
    heldChecks: JSON.stringify(kept),
    statusReason:
      `Held: ${n} deliverability check${n === 1 ? '' : 's'} of the domain doctor fail${n === 1 ? 's' : ''} ` +
      `(${checkNames(checks)}). Nothing was sent: fix ${n === 1 ? 'it' : 'them'} (/campaigns doctor), ` +
      'then an admin clicks Send anyway to send.',
  };
}

/**
 * Whether a campaign's send may start as far as the domain doctor is concerned (PRODUCT.md §9).
 * Only when mail really leaves the machine (an SMTP transport) and holds are on; only failing
 * checks count (never warns), and not those of reserved test domains. A doctor that cannot run
 * never blocks sending: it is warned about in the log.
 */
export class DoctorHold {
  constructor(
    private readonly doctor: DoctorBlocking | null,
    private readonly enabled: boolean,
    private readonly log: Logger,
    /** Told when the send engine's first start held a campaign (its Slack message is refreshed). */
    readonly notify: (campaignId: string) => void = () => {},
  ) {}

  /** The failing checks that hold a campaign now (none: it may start). The doctor's kept report is used. */
  async failing(): Promise<BlockingCheck[]> {
    if (!this.enabled || !this.doctor) return [];
    try {
      const checks = await this.doctor.blocking();
      return checks.filter((c) => c.domain === null || !isReservedDomain(c.domain));
    } catch (err) {
      this.log.warn({ err }, 'domain doctor could not run: the campaign is not held');
      return [];
    }
  }
}
