import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    // Integration suites share pcscd's two virtual readers; files run one at a time there.
    fileParallelism: true,
    pool: 'forks',
  },
});
