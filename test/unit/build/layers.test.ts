import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { LAYERS, projectReferenceProblems } from '../../../build/layers.mjs';

// One list of layers (build/layers.mjs) drives lint zones and the TypeScript project references
// that `npm run typecheck` builds; this keeps the per-layer tsconfig files in step with it.
const readText = (path: string): string | undefined => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
};

describe('layer list and project references', () => {
  it('every layer tsconfig references exactly the layers it may import', () => {
    expect(projectReferenceProblems(readText)).toEqual([]);
  });

  it('reports a reference the layer list forbids and a missing one', () => {
    const files: Record<string, string> = {
      'tsconfig.json': JSON.stringify({ references: [{ path: './shared' }, { path: './core' }] }),
      'shared/tsconfig.json': JSON.stringify({ references: [{ path: '../core' }] }),
      'core/tsconfig.json': JSON.stringify({}),
    };
    expect(projectReferenceProblems((p) => files[p])).toEqual([
      'shared/tsconfig.json references layers it may not import: core',
      'core/tsconfig.json misses references: shared',
    ]);
  });

  it('shared/ compiles without Node and DOM types', () => {
    const shared = JSON.parse(readText('shared/tsconfig.json') ?? '{}') as {
      compilerOptions?: { types?: string[]; lib?: string[] };
    };
    expect(shared.compilerOptions?.types).toEqual([]);
    expect(shared.compilerOptions?.lib).toEqual(['ES2022']);
    expect(LAYERS.shared).toEqual([]);
  });
});
