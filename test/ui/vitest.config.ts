import { defineConfig } from 'vitest/config';

// The renderer suites in headless Chromium (npm run test:ui). One file at a time: each file
// starts a browser, and the machine has two cores.
// eslint-disable-next-line import-x/no-default-export -- vitest loads the default export
export default defineConfig({
  test: {
    name: 'ui',
    include: ['test/ui/**/*.test.ts'],
    pool: 'forks',
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
