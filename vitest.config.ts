import { defineConfig } from 'vitest/config';
import { postgresTests } from './test/pg/service-tests.js';

/**
 * Two projects: `sqlite` runs every test; `postgres` runs the service and app tests listed in
 * test/pg/service-tests.ts again with COLDBATCH_TEST_DB=postgres (testCore and startTestApp then
 * build the app over Postgres). Both get a real PostgreSQL from test/pg/global-setup.ts (the
 * store tests under test/db/pg compare the two databases themselves).
 */
export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    globalSetup: ['test/pg/global-setup.ts'],
    projects: [
      { extends: true, test: { name: 'sqlite', include: ['test/**/*.test.ts'] } },
      {
        extends: true,
        test: { name: 'postgres', include: [...postgresTests], env: { COLDBATCH_TEST_DB: 'postgres' } },
      },
    ],
  },
});
