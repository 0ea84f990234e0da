/**
 * The tests the `postgres` project (vitest.config.ts) runs again over Postgres: service and app
 * tests that go through the stores only (a test that reads SQLite with `core.db` or `app.db`
 * stays SQLite-only; its store's meaning on Postgres is checked by test/db/pg instead).
 */
export const postgresTests = [
  'test/core/campaigns/approval-at-start.test.ts',
  'test/core/campaigns/approvals.test.ts',
  'test/core/campaigns/export-attempts.test.ts',
  'test/core/campaigns/figures.test.ts',
  'test/core/sending/audience-switch.test.ts',
  'test/cli/batches.test.ts',
] as const;
