/**
 * Default way to open a target's card: its PC/SC reader, connected EXCLUSIVELY so no other
 * application can use or observe the authentication state the server builds up (docs/card-reference.md
 * §6.7). Emulator-state targets need an opener from a composition root that may use the
 * emulator (the server layer must not import it).
 * @module
 */
import { openPcsc, type Pcsc } from '../../core/pcsc/pcsc-adapter';
import type { TargetConfig } from '../config';
import type { TransportOpener } from './target-service';

/** The PC/SC context all default openers share, opened on first use. */
let pcsc: Promise<Pcsc> | undefined;

/**
 * Closes the shared PC/SC context (if one was opened). Its reader watcher keeps the event loop
 * alive, so `serve` calls this on shutdown; a later open starts a new context.
 */
export async function closeDefaultPcsc(): Promise<void> {
  const open = pcsc;
  pcsc = undefined;
  if (open === undefined) return;
  await open.then(
    (context) => context.close(),
    () => undefined, // never opened: nothing to close
  );
}

/** The opener for a configured target. */
export function defaultOpener(target: TargetConfig): TransportOpener {
  const reader = target.reader;
  if (reader === undefined) {
    return () =>
      Promise.reject(
        new Error(
          'emulatorState targets are opened by a launcher with the emulator (tests, demo/); use a PC/SC reader name here, e.g. the emulator on vpcd',
        ),
      );
  }
  return async () => {
    pcsc ??= openPcsc();
    try {
      return await (await pcsc).connect(reader, { share: 'exclusive' });
    } catch (e) {
      // A failed context (pcscd down) is retried on the next open.
      if (
        !(await pcsc.then(
          () => true,
          () => false,
        ))
      )
        pcsc = undefined;
      throw e;
    }
  };
}
