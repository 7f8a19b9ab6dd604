import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Two cores: renders are CPU-bound, so test files that run ffmpeg must not pile up.
    maxWorkers: 2,
  },
});
