import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { checkPinOptions } from '../../../../cli/custodian/card-pin';
import { checkPinFile, pinFileProblem, readPinFromFile } from '../../../../cli/custodian/pin-file';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'pin-file-'));
  dirs.push(d);
  return d;
}
const text = (b: Uint8Array | undefined) => (b ? new TextDecoder().decode(b) : undefined);

describe('--pin-file', () => {
  it('reads the first line of a private regular file (LF or CRLF), each time', async () => {
    const f = join(tmp(), 'pin');
    writeFileSync(f, '648219\r\nsecond\n', { mode: 0o600 });
    checkPinFile(f);
    expect(text(await readPinFromFile(f))).toBe('648219');
    expect(text(await readPinFromFile(f))).toBe('648219');
    writeFileSync(f, '');
    expect(await readPinFromFile(f)).toBeUndefined();
  });

  it.each([0o640, 0o604, 0o620, 0o602, 0o644, 0o666])(
    'refuses a file with mode %s (group or others have access)',
    async (mode) => {
      const f = join(tmp(), 'pin');
      writeFileSync(f, '648219\n');
      chmodSync(f, mode);
      expect(() => checkPinFile(f)).toThrow(/accessible to group or others.*chmod 600/);
      await expect(readPinFromFile(f)).rejects.toThrow(/accessible to group or others/);
    },
  );

  it('refuses a directory, a missing path and a file of another user', () => {
    const d = tmp();
    expect(() => checkPinFile(d)).toThrow(/neither a FIFO nor a regular file/);
    expect(() => checkPinFile(join(d, 'nope'))).toThrow(/does not exist.*mkfifo -m 600/);
    const f = join(d, 'pin');
    writeFileSync(f, '1\n', { mode: 0o600 });
    const st = statSync(f);
    expect(pinFileProblem(f, st, st.uid + 1)).toMatch(/belongs to another user/);
    expect(pinFileProblem(f, st, st.uid)).toBeUndefined();
  });

  it('checks the file it opened, not only the path (a symlink to a shared file)', async () => {
    const d = tmp();
    const shared = join(d, 'shared');
    writeFileSync(shared, '648219\n', { mode: 0o644 });
    chmodSync(shared, 0o644);
    const link = join(d, 'pin');
    symlinkSync(shared, link);
    await expect(readPinFromFile(link)).rejects.toThrow(/accessible to group or others/);
  });

  it('reads one PIN per writer from a FIFO, waiting for the writer', async () => {
    const fifo = join(tmp(), 'pin.fifo');
    execFileSync('mkfifo', ['-m', '600', fifo]);
    checkPinFile(fifo);
    for (const pin of ['111111', '222222']) {
      const reading = readPinFromFile(fifo);
      const writer = await open(fifo, 'w');
      await writer.write(`${pin}\n`);
      await writer.close();
      expect(text(await reading)).toBe(pin);
    }
  });

  it('refuses a FIFO others can open', () => {
    const fifo = join(tmp(), 'pin.fifo');
    execFileSync('mkfifo', ['-m', '622', fifo]);
    chmodSync(fifo, 0o622);
    expect(() => checkPinFile(fifo)).toThrow(/accessible to group or others/);
  });

  it('refuses a line longer than any PIN', async () => {
    const f = join(tmp(), 'pin');
    writeFileSync(f, `${'9'.repeat(100)}\n`, { mode: 0o600 });
    await expect(readPinFromFile(f)).rejects.toThrow(/too long/);
  });

  it('allows only one PIN source', () => {
    const f = join(tmp(), 'pin');
    writeFileSync(f, '1\n', { mode: 0o600 });
    expect(() => checkPinOptions({ pinFd: 3, pinFile: f })).toThrow(
      /only one of --pin-fd, --pin-file/,
    );
    expect(() => checkPinOptions({ pinFile: f, pinpad: true })).toThrow(/--pin-file, --pinpad/);
    expect(() => checkPinOptions({ pinFile: f })).not.toThrow();
  });
});
