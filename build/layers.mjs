// The project's layers and what each may import (README.md "Layout"), in one place: the ESLint
// import zones (eslint.config.js), the TypeScript project references (`<layer>/tsconfig.json`,
// checked by test/unit/build/layers.test.ts) and the typecheck runner (build/typecheck.mjs) all
// read this list.

/** What each layer may import from, besides itself and npm packages. Order = build order. */
export const LAYERS = {
  shared: [],
  core: ['shared'],
  cli: ['core', 'shared'],
  server: ['core', 'shared'],
  emulator: ['core', 'shared'],
  electron: ['core', 'shared'],
  renderer: ['shared'],
  // build/ scripts read pure definitions from shared/ (e.g. the renderer CSP for serve-ui.mjs).
  build: ['shared'],
  // demo/ is a composition root like test/: it wires the real server, engine and emulator together.
  demo: ['core', 'shared', 'cli', 'server', 'emulator'],
  // test/ may import every layer.
  test: ['shared', 'core', 'cli', 'server', 'emulator', 'electron', 'renderer', 'demo'],
};

/** Layers whose imports lint restricts (test/ may import everything). */
export const RESTRICTED_LAYERS = Object.keys(LAYERS).filter((l) => l !== 'test');

/**
 * Differences between {@link LAYERS} and the TypeScript project references: every layer's
 * tsconfig.json must reference exactly the layers it may import, and the root solution
 * (tsconfig.json) must reference every layer that has a tsconfig. Returns one line per problem.
 * @param {(path: string) => string | undefined} readText reads a file relative to the root
 * @returns {string[]}
 */
export function projectReferenceProblems(readText) {
  const problems = [];
  const refsOf = (text) =>
    (JSON.parse(text).references ?? []).map((r) =>
      r.path.replace(/^\.\.?\//, '').replace(/\/$/, ''),
    );
  const root = readText('tsconfig.json');
  const rootRefs = root === undefined ? [] : refsOf(root);
  for (const [layer, allowed] of Object.entries(LAYERS)) {
    const text = readText(`${layer}/tsconfig.json`);
    if (text === undefined) continue; // a layer without TypeScript (build/)
    if (!rootRefs.includes(layer)) problems.push(`tsconfig.json does not reference ${layer}`);
    const refs = refsOf(text);
    const missing = allowed.filter(
      (l) => readText(`${l}/tsconfig.json`) !== undefined && !refs.includes(l),
    );
    const extra = refs.filter((l) => !allowed.includes(l));
    if (missing.length > 0)
      problems.push(`${layer}/tsconfig.json misses references: ${missing.join(', ')}`);
    if (extra.length > 0)
      problems.push(
        `${layer}/tsconfig.json references layers it may not import: ${extra.join(', ')}`,
      );
  }
  return problems;
}
