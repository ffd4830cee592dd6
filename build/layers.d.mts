// Types of build/layers.mjs for the TypeScript callers (tests).
export type LayerName =
  | 'shared'
  | 'core'
  | 'cli'
  | 'server'
  | 'emulator'
  | 'electron'
  | 'renderer'
  | 'build'
  | 'demo'
  | 'test';
/** What each layer may import from, besides itself and npm packages. */
export declare const LAYERS: Readonly<Record<LayerName, readonly LayerName[]>>;
/** Layers whose imports lint restricts (test/ may import everything). */
export declare const RESTRICTED_LAYERS: readonly LayerName[];
/** Differences between LAYERS and the TypeScript project references, one line per problem. */
export declare function projectReferenceProblems(
  readText: (path: string) => string | undefined,
): string[];
