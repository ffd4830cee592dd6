/**
 * Writing the `.sig` files of `custodian-server sign`.
 * @module
 */
import { writeFile } from 'node:fs/promises';
import { messageOf } from '../../shared/error-message';

/**
 * Writes verified signatures off the event loop (file creation is slow on some file systems
 * and would otherwise hold up the card). The returned promise is already observed, so a
 * failure surfaces where it is awaited, never as an unhandled rejection.
 */
export function writeSignatures(
  files: ReadonlyArray<readonly [string, Uint8Array]>,
): Promise<void> {
  const p = Promise.all(
    files.map(([path, der]) =>
      writeFile(path, der).catch((e: unknown) => {
        throw new Error(`cannot write ${path}: ${messageOf(e)}`);
      }),
    ),
  ).then(() => undefined);
  p.catch(() => undefined);
  return p;
}
