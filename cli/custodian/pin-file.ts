/**
 * `--pin-file PATH`: the PIN from a FIFO (named pipe) or a private file, for automation that
 * runs the CLI through `npx`/`npm exec`, which pass only file descriptors 0–2 to the command (so
 * `--pin-fd 3` cannot work there). The PIN never leaves this machine; the file must be as private
 * as the PIN: owned by this user, no permission bits for group or others, and a FIFO or a regular
 * file (no device, socket or directory). A FIFO gives one PIN per writer: each approval opens it,
 * reads the first line and closes it again.
 * @module
 */
import { constants, statSync, type Stats } from 'node:fs';
import { open } from 'node:fs/promises';
import { UsageError } from '../errors';

/** Longest PIN line accepted (the PIN itself is at most 16 bytes). */
const MAX_PIN_LINE = 64;

/**
 * Why `path` (with `st`, its status) may not hold a PIN, or undefined when it may: a FIFO or a
 * regular file, owned by the current user, with no group/other permission bits.
 */
export function pinFileProblem(
  path: string,
  st: Stats,
  uid = process.getuid?.(),
): string | undefined {
  if (!st.isFIFO() && !st.isFile()) return `${path} is neither a FIFO nor a regular file`;
  if (uid !== undefined && st.uid !== uid)
    return `${path} belongs to another user (uid ${st.uid}); the PIN file must be yours`;
  if ((st.mode & 0o077) !== 0) {
    const mode = (st.mode & 0o777).toString(8).padStart(3, '0');
    return `${path} is accessible to group or others (mode ${mode}); use chmod 600 (or mkfifo -m 600)`;
  }
  return undefined;
}

/** Checks a `--pin-file` before the command starts, so a bad file fails at once, not at approval. */
export function checkPinFile(path: string): void {
  let st: Stats;
  try {
    st = statSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UsageError(
      code === 'ENOENT'
        ? `--pin-file ${path} does not exist (create it with mkfifo -m 600 ${path})`
        : `--pin-file ${path} cannot be used (${code ?? 'unknown error'})`,
    );
  }
  const problem = pinFileProblem(path, st);
  if (problem !== undefined) throw new UsageError(`--pin-file: ${problem}`);
}

/**
 * Opens `path` (waiting for a writer when it is a FIFO), re-checks what was opened, and reads one
 * line; returns its bytes without the line end, or undefined when it is empty. The buffer is
 * wiped; the caller owns (and wipes) the result.
 */
export async function readPinFromFile(path: string): Promise<Uint8Array | undefined> {
  const handle = await open(path, constants.O_RDONLY | constants.O_NOCTTY);
  const buf = new Uint8Array(MAX_PIN_LINE + 1);
  let n = 0;
  try {
    // The opened file is checked, not only the path: a swap after checkPinFile is caught here.
    const problem = pinFileProblem(path, await handle.stat());
    if (problem !== undefined) throw new UsageError(`--pin-file: ${problem}`);
    for (;;) {
      const { bytesRead } = await handle.read(buf, n, 1, null);
      if (bytesRead === 0 || buf[n] === 0x0a) break;
      if (++n > MAX_PIN_LINE) throw new UsageError(`the PIN line in ${path} is too long`);
    }
    if (n > 0 && buf[n - 1] === 0x0d) n -= 1;
    return n > 0 ? buf.slice(0, n) : undefined;
  } finally {
    buf.fill(0);
    await handle.close();
  }
}
