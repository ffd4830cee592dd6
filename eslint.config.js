// Lint is where the layer rules live (README.md "Layout"): each zone lists what a layer
// may NOT import, so a wrong import fails `npm run lint` instead of relying on review.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import importX from 'eslint-plugin-import-x';
import globals from 'globals';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import { LAYERS, RESTRICTED_LAYERS } from './build/layers.mjs';

/** Layers that ship (build/ has no TypeScript; test/ is not product code). */
const PRODUCT_LAYERS = RESTRICTED_LAYERS.filter((l) => l !== 'build');

// The layer list and what each layer may import live in build/layers.mjs (also read by the
// TypeScript project references check of build/typecheck.mjs).
const zones = RESTRICTED_LAYERS.map((target) => {
  const ok = LAYERS[target];
  return {
    target: `./${target}`,
    from: RESTRICTED_LAYERS.filter((l) => l !== target && !ok.includes(l)).map((l) => `./${l}`),
    message: `${target}/ may import only from: ${ok.join(', ') || 'nothing but itself'}.`,
  };
});

// The operator's admin CLI is an HTTP client of the server, not server code (issue 10 §4): it
// may use the admin API contract and nothing else of server/ (server/cli/ dispatches to it).
zones.push({
  target: './server/admin-cli',
  from: './server',
  except: ['./admin-cli', './api/admin-contract.ts'],
  message:
    'server/admin-cli/ is an HTTP client: of server/ it may import only api/admin-contract.ts.',
});

// `paths` match exact module names (a `patterns` entry 'crypto' would also hit '../crypto/x').
const nodeBuiltins = [
  'fs',
  'fs/promises',
  'path',
  'crypto',
  'net',
  'os',
  'child_process',
  'http',
  'https',
  'buffer',
];
const noNode = {
  paths: nodeBuiltins.map((name) => ({ name, message: 'Pure layer: no Node modules.' })),
  patterns: [
    { group: ['node:*'], message: 'Pure layer: no Node modules.' },
    { regex: '^electron(/|$)', message: 'Electron only under electron/.' },
  ],
};

/** Raw IPC outside the wrappers would bypass sender checks and payload validation. */
const rawIpc = [
  { selector: "Identifier[name='ipcRenderer']", message: 'Use the preload bridge (shared/ipc).' },
  { selector: "Identifier[name='ipcMain']", message: 'Use electron/main/ipc wrappers.' },
  {
    selector: "MemberExpression[property.name='send'][object.property.name='webContents']",
    message: 'Send events through createEventSender (electron/main/ipc).',
  },
  {
    selector: "MemberExpression[property.name='send'][object.name='webContents']",
    message: 'Send events through createEventSender (electron/main/ipc).',
  },
];

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', 'out/**', 'coverage/**', 'bin/**', '.tmp/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    plugins: { 'import-x': importX },
    settings: {
      'import-x/resolver-next': [createTypeScriptImportResolver({ alwaysTryTypes: true })],
    },
    languageOptions: { globals: { ...globals.node } },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      'import-x/no-restricted-paths': ['error', { zones }],
      'import-x/no-default-export': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/consistent-type-definitions': ['error', 'type'],
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      'no-restricted-imports': [
        'error',
        {
          // A regex on the module name: a gitignore-style 'electron/*' would also match
          // relative paths such as '../electron/main/x'.
          patterns: [{ regex: '^electron(/|$)', message: 'Electron only under electron/.' }],
        },
      ],
    },
  },
  // Promise rules need type information: on product code (not tests, whose fakes play with
  // promises on purpose), through each layer's own tsconfig.
  {
    files: PRODUCT_LAYERS.flatMap((l) => [`${l}/**/*.ts`, `${l}/**/*.tsx`]),
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
    },
  },
  { files: ['shared/**', 'renderer/**'], rules: { 'no-restricted-imports': ['error', noNode] } },
  // The Electron layer and its tests (which type their fakes against Electron's API).
  {
    files: ['electron/**', 'test/unit/electron/**'],
    rules: { 'no-restricted-imports': 'off' },
  },
  { files: ['renderer/**'], languageOptions: { globals: { ...globals.browser } } },
  {
    files: ['**/*.ts', '**/*.tsx'],
    ignores: ['electron/main/ipc/**', 'electron/preload/**'],
    rules: { 'no-restricted-syntax': ['error', ...rawIpc] },
  },
  {
    files: ['*.config.ts', '*.config.js', 'build/**'],
    rules: { 'import-x/no-default-export': 'off' },
  },
);
