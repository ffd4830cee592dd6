#!/usr/bin/env node
// Typechecks every layer with its own tsconfig (each layer has its own lib/types, so a stray
// `Buffer` in shared/ or `window` in core/ fails here) in one incremental `tsc -b` over the
// project references of tsconfig.json. Build info and declarations go to .tmp/tsc (gitignored);
// delete it for a cold run. The references must match the layer list of build/layers.mjs.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { projectReferenceProblems } from './layers.mjs';

const readText = (path) => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
};
const problems = projectReferenceProblems(readText);
if (problems.length > 0) {
  for (const p of problems) console.error(`typecheck: ${p}`);
  process.exit(1);
}
try {
  execFileSync('npx', ['tsc', '-b', ...process.argv.slice(2)], { stdio: 'inherit' });
  console.log('typecheck: ok');
} catch {
  console.error('typecheck: FAILED');
  process.exit(1);
}
