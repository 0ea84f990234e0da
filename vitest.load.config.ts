import { defineConfig } from 'vitest/config';

/** `npm run test:load`: the load test, alone on the machine (CI runs it after npm test). */
export default defineConfig({
  test: {
    include: ['test/load/**/*.load.ts'],
    testTimeout: 300_000,
    hookTimeout: 60_000,
    pool: 'forks',
    fileParallelism: false,
  },
});
