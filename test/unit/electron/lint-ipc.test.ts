import { describe, expect, it } from 'vitest';
import { probeEslint } from '../build/probe-eslint';

// Raw IPC is allowed only in the IPC wrappers and the preload (docs/desktop-app.md "IPC").
const eslint = probeEslint();

async function rules(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return (result?.messages ?? []).map((m) => `${m.ruleId ?? ''}: ${m.message}`);
}

describe('raw IPC lint ban', () => {
  it.each([
    [
      'electron/main/probe.ts',
      "import { ipcMain } from 'electron';\nipcMain.handle('x', () => 1);\n",
    ],
    [
      'electron/main/probe.ts',
      "declare const w: { webContents: { send(c: string): void } };\nw.webContents.send('x');\n",
    ],
    [
      'renderer/probe.ts',
      "declare const ipcRenderer: { send(c: string): void };\nipcRenderer.send('x');\n",
    ],
    [
      'electron/main/probe.ts',
      "declare const webContents: { send(c: string): void };\nwebContents.send('x');\n",
    ],
  ])('%s refuses %s', async (file, code) => {
    const found = await rules(file, code);
    expect(found.some((m) => m.startsWith('no-restricted-syntax'))).toBe(true);
  });

  it('allows raw IPC inside the wrappers and the preload', async () => {
    const main = await rules(
      'electron/main/ipc/probe.ts',
      "import { ipcMain } from 'electron';\nexport const h = ipcMain;\n",
    );
    const preload = await rules(
      'electron/preload/probe.ts',
      "import { ipcRenderer } from 'electron';\nexport const r = ipcRenderer;\n",
    );
    expect([...main, ...preload].filter((m) => m.startsWith('no-restricted-syntax'))).toEqual([]);
  });
});
