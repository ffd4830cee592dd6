// Types of build/electron-builder.mjs for the TypeScript tests that import it.
import type { Configuration } from 'electron-builder';

declare const config: Configuration;
export default config;
