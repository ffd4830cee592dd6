import { ESLint } from 'eslint';

/**
 * An ESLint instance for linting probe files that do not exist on disk (the lint-rule tests).
 * The project's type-aware promise rules need a file in a tsconfig project, so they are off
 * here; test/unit/build/lint-promises.test.ts proves those rules separately.
 */
export function probeEslint(): ESLint {
  return new ESLint({
    cwd: process.cwd(),
    overrideConfig: {
      languageOptions: { parserOptions: { projectService: false } },
      rules: {
        '@typescript-eslint/no-floating-promises': 'off',
        '@typescript-eslint/no-misused-promises': 'off',
      },
    },
  });
}
