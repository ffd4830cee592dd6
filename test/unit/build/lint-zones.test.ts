import { describe, expect, it } from 'vitest';
import { probeEslint } from './probe-eslint';

// Layer rules (README.md "Layout") are enforced by lint; this proves the rules fire, so a
// config change that silently disables them fails the suite. The probe files do not exist, so
// the type-aware promise rules (proven by lint-promises.test.ts) are off here.
const eslint = probeEslint();

async function messages(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return (result?.messages ?? []).map((m) => `${m.ruleId}: ${m.message}`);
}

describe('layer import zones', () => {
  it.each([
    [
      'shared/probe.ts',
      "export { SW } from '../core/card/transport';",
      'import-x/no-restricted-paths',
    ],
    ['shared/probe.ts', "export { readFileSync } from 'node:fs';", 'no-restricted-imports'],
    [
      'renderer/probe.ts',
      "export { openAuditLog } from '../core/audit/audit-log';",
      'import-x/no-restricted-paths',
    ],
    ['renderer/probe.ts', "export { join } from 'path';", 'no-restricted-imports'],
    [
      'core/probe.ts',
      "export type { VirtualCard } from '../emulator/virtual-card';",
      'import-x/no-restricted-paths',
    ],
    ['core/probe.ts', "export { app } from 'electron';", 'no-restricted-imports'],
    ['cli/probe.ts', "export { app } from 'electron';", 'no-restricted-imports'],
    [
      'build/probe.mjs',
      "export { openAuditLog } from '../core/audit/audit-log.ts';",
      'import-x/no-restricted-paths',
    ],
    // The operator's admin CLI is an HTTP client: no server internals (issue 10 §4).
    [
      'server/admin-cli/probe.ts',
      "export { loadConfig } from '../config';",
      'import-x/no-restricted-paths',
    ],
    [
      'server/admin-cli/probe.ts',
      "export { signDigests } from '../sign/sign-digests';",
      'import-x/no-restricted-paths',
    ],
    [
      'server/admin-cli/probe.ts',
      "export type { Store } from '../store/store';",
      'import-x/no-restricted-paths',
    ],
  ])('%s: %s is refused', async (file, code, rule) => {
    const found = await messages(file, code);
    expect(found.some((m) => m.startsWith(rule))).toBe(true);
  });

  it.each([
    ['core/probe.ts', "export { SW } from '../shared/card/status-words';"],
    ['emulator/probe.ts', "export type { CardTransport } from '../core/card/transport';"],
    ['cli/probe.ts', "export { openAuditLog } from '../core/audit/audit-log';"],
    ['shared/cvc/probe.ts', "export { curveByName } from '../crypto/curves';"],
    ['test/ui/probe.ts', "export * from '../../electron/main/security';"],
    ['build/probe.mjs', "export { RENDERER_CSP } from '../shared/renderer-csp.ts';"],
    ['server/admin-cli/probe.ts', "export { ADMIN_API } from '../api/admin-contract';"],
    ['server/admin-cli/probe.ts', "export { hashFile } from './file-digest';"],
    ['server/admin-cli/probe.ts', "export { curveByName } from '../../shared/crypto/curves';"],
    ['server/cli/probe.ts', "export { signFiles } from '../admin-cli/sign-files';"],
  ])('%s: %s is allowed', async (file, code) => {
    const found = await messages(file, code);
    expect(found.filter((m) => /restricted/i.test(m))).toEqual([]);
  });
});
