import { defineConfig } from 'vitest/config';

// `vitest run` (npm test) runs every project:
// - unit: every test file outside the two folders below, files in parallel;
// - integration: one file at a time, because the suites share pcscd's two vpcd readers
//   (test/integration/helpers); the prebuilt commands (dist/cli) are rebuilt first;
// - ui: the renderer suites in headless Chromium, with their own config (npm run test:ui).
export default defineConfig({
  test: {
    testTimeout: 20_000,
    hookTimeout: 30_000,
    pool: 'forks',
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/**/*.test.ts'],
          exclude: ['test/integration/**', 'test/ui/**', '**/node_modules/**'],
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          // The suites spawn the launchers of bin/, which run the bundles of dist/cli.
          globalSetup: ['test/integration/helpers/build-cli.ts'],
          fileParallelism: false,
          maxWorkers: 1,
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      // Settings live in test/ui/vitest.config.ts (also used alone by npm run test:ui).
      { extends: './test/ui/vitest.config.ts', test: { name: 'ui', root: '.' } },
    ],
  },
});
