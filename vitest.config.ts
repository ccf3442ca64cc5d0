import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // GPU tests share one device; run files one at a time so timings and memory stay sane.
    fileParallelism: false,
  },
});
