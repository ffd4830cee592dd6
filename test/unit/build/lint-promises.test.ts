import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

// The promise rules need type information; this proves they fire on product code, so a config
// change that drops them (or the type-aware parser setup) fails the suite. The text is linted as
// if it were an existing product file (the project service needs a file its tsconfig includes).
const eslint = new ESLint({ cwd: process.cwd() });

async function ruleIds(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return (result?.messages ?? []).map((m) => m.ruleId ?? m.message);
}

const floating = `export async function tick(): Promise<void> {}
export function run(): void {
  tick();
}
`;
const misused = `export async function tick(): Promise<void> {}
export function run(list: readonly number[]): void {
  list.forEach(async () => {
    await tick();
  });
  if (tick()) return;
}
`;

describe('promise lint rules on product code', () => {
  it.each(['core/net/backoff.ts', 'server/config.ts', 'shared/result.ts'])(
    '%s: a floating promise is refused',
    async (file) => {
      expect(await ruleIds(file, floating)).toContain('@typescript-eslint/no-floating-promises');
    },
    60_000,
  );

  it('a promise where a void callback or a condition is expected is refused', async () => {
    const ids = await ruleIds('cli/errors.ts', misused);
    expect(ids.filter((id) => id === '@typescript-eslint/no-misused-promises')).toHaveLength(2);
  }, 60_000);

  it('handled promises pass', async () => {
    const ok = `export async function tick(): Promise<void> {}
export function run(): void {
  void tick();
  tick().catch(() => undefined);
}
`;
    expect(await ruleIds('core/net/backoff.ts', ok)).toEqual([]);
  }, 60_000);
});
