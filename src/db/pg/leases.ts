import { instanceAliveSql } from './instance.js';

/**
 * The instance (instance.ts PgInstance) a store claims work for: claims write its id (the lease),
 * and another instance takes such a row over only once this one is no longer alive. Null: claims
 * name no instance (stores built alone, as in tests), and any sweep takes them, as before leases.
 */
export type PgClaimer = {
  readonly id: string;
  /**
   * False while the instance has lost its liveness connection (PgInstance reconnecting): other
   * instances may take its claims over then, so it claims nothing new until it is back.
   */
  readonly connected?: boolean;
} | null;

/**
 * SQL true when the row's claim, named by `column` (an instance id, or null), belongs to no live
 * instance: what a sweep may take over. `column` is qualified with its table, so the check's own
 * FROM (pg_locks) cannot capture it.
 */
export function leaseLapsedSql(column: string): string {
  return `NOT ${instanceAliveSql(column)}`;
}
