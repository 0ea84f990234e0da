import { randomBytes } from 'node:crypto';
import { toIso, type ValidationResult, validationResults } from '../types.js';
import type { DnsSettings } from './dns.js';
import type { RunState, StoredCounts, StoredFailure } from './validation-store.js';

/** Contacts per verdict, and those not checked yet. */
export type ValidationCounts = Record<ValidationResult, number> & { unchecked: number };

/** A validation run in progress: its cursor is in the database, so a restart continues it. */
export type ValidationRun = {
  id: string;
  batchId: string;
  actor: string;
  startedAt: string;
  /** Contacts checked so far by this run. */
  checked: number;
  /** Contacts in the batch. */
  total: number;
};

/**
 * A run that stopped because DNS lookups were failing (the resolver answered NXDOMAIN, SERVFAIL
 * or nothing for domains that have an MX): no verdict was written from then on.
 */
export type ValidationFailure = {
  runId: string;
  status: 'dns_unavailable';
  /** What failed and what to do, for people. */
  message: string;
  at: string;
  /** Contacts the run had checked before it stopped (they keep their verdicts). */
  checked: number;
};

export type ValidationSummary = {
  counts: ValidationCounts;
  run: ValidationRun | null;
  /** The last run stopped because DNS was failing (null once a run starts again). */
  failure: ValidationFailure | null;
  /** When the last complete run finished. */
  lastValidatedAt: string | null;
  includeInvalidDomains: boolean;
};

export type StartResult =
  | { kind: 'started' | 'running'; run: ValidationRun; counts: ValidationCounts }
  | { kind: 'dns_unavailable'; failure: ValidationFailure; counts: ValidationCounts };

export type ValidationSettings = DnsSettings & {
  /** Domains known to have an MX, looked up before each run (see ResolverHealth); empty: no check. */
  probeDomains: readonly string[];
  /** Contacts per chunk (one transaction each). */
  chunkSize?: number;
  /** Domains remembered per run; the oldest is forgotten past this. */
  cacheSize?: number;
};

export const newRunId = () => `val_${randomBytes(4).toString('hex')}`;

export { zeroCounts } from '../vocabulary.js';

/** Stored counts as callers see them: the verdicts and the contacts not checked yet. */
export function withUnchecked(c: StoredCounts): ValidationCounts {
  const counts = {
    valid: c.valid,
    role: c.role,
    disposable: c.disposable,
    no_mail_domain: c.no_mail_domain,
    unknown: c.unknown,
  };
  const checked = validationResults.reduce((sum, v) => sum + counts[v], 0);
  return { ...counts, unchecked: Math.max(0, c.contactCount - checked) };
}

export function runView(run: RunState, total: number): ValidationRun {
  return {
    id: run.id,
    batchId: run.batchId,
    actor: run.actor,
    startedAt: toIso(run.startedAt)!,
    checked: run.checked,
    total,
  };
}

export function failureView(f: StoredFailure): ValidationFailure {
  return { ...f, at: toIso(f.at)! };
}
