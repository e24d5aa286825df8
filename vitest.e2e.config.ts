import { defineConfig } from 'vitest/config';

// Browser tests of the web console (npm run test:e2e): one file, one stack, one Chromium, steps in order.
export default defineConfig({
  test: {
    include: ['tests/e2e/**/*.e2e.test.ts'],
    testTimeout: 300_000,
    hookTimeout: 300_000,
    pool: 'forks',
    fileParallelism: false,
  },
});
