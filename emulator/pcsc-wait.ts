/**
 * Waiting for pcscd to report what a virtual card did, and finding the system binaries the
 * PC/SC environment needs. Shared by the demo's `--pcsc` mode and the integration-test harness,
 * so both wait for pcscd the same way instead of racing its card polling.
 * @module
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Pcsc, PcscEvent } from '../core/pcsc/pcsc-adapter';

/** Where Debian and most distributions install daemons and tools. */
const BINARY_DIRS = ['/usr/sbin', '/usr/bin', '/sbin', '/bin', '/usr/local/sbin', '/usr/local/bin'];

/** The absolute path of a system binary such as `pcscd`, or undefined when it is not installed. */
export function findSystemBinary(name: string): string | undefined {
  for (const dir of BINARY_DIRS) {
    const path = join(dir, name);
    if (existsSync(path)) return path;
  }
  return undefined;
}

/**
 * Resolves with the first PC/SC event matching `pred`, or rejects after `ms` with an error naming
 * `what`. Stops watching either way; an event after the timeout is ignored.
 */
export function nextEvent(
  pcsc: Pcsc,
  pred: (e: PcscEvent) => boolean,
  ms: number,
  what: string,
): Promise<PcscEvent> {
  return new Promise((resolve, reject) => {
    let done = false;
    let stop: () => void = () => undefined;
    const timer = setTimeout(() => {
      done = true;
      stop();
      reject(new Error(`${what}: pcscd did not report it within ${ms} ms`));
    }, ms);
    stop = pcsc.watch((e) => {
      if (done || !pred(e)) return;
      done = true;
      clearTimeout(timer);
      queueMicrotask(() => stop());
      resolve(e);
    });
    if (done) stop();
  });
}

/** Whether pcscd currently reports a card in `reader` (the watch replays the current state). */
export function isCardPresent(pcsc: Pcsc, reader: string): boolean {
  let present = false;
  pcsc.watch((e) => {
    if (e.type === 'card-inserted' && e.reader === reader) present = true;
  })();
  return present;
}
