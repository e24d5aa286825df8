import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/unit/**/*.test.ts', 'tests/integration/**/*.test.ts'],
    // tfjs model tests are CPU heavy on a 2-core machine: give them room, run files in forks.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
