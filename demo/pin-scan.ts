/**
 * Proof that the custodians' PINs stayed on their machines (docs/card-reference.md §14.2: the PIN is
 * verified locally, the server never sees it): every WebSocket frame the clients sent or
 * received and every file the server and the clients wrote is searched for each PIN, as text, as hex, and as
 * the VERIFY APDU that would carry it (`00 20 00 81 06 <PIN>`, docs/card-reference.md §3.1).
 * @module
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { asciiBytes, concatBytes, toHex } from '../shared/codec/bytes';
import type { Frame } from './custodian';

/** Result of the scan. */
export type PinScan = {
  readonly frames: number;
  /** Files searched (server data directory, custodian audit logs). */
  readonly files: number;
  /** Where a PIN was found (empty when none leaked). */
  readonly leaks: readonly string[];
};

function needles(pin: string): string[] {
  const bytes = asciiBytes(pin);
  const verify = concatBytes(Uint8Array.of(0x00, 0x20, 0x00, 0x81, bytes.length), bytes);
  return [pin, toHex(bytes).toLowerCase(), toHex(verify).toLowerCase()];
}

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const s = statSync(p);
    if (s.isDirectory()) out.push(...filesUnder(p));
    else if (s.isFile()) out.push(p);
  }
  return out;
}

/** Searches `frames` and the files under `dirs` for any of `pins`. */
export function scanForPins(
  frames: readonly Frame[],
  dirs: readonly string[],
  pins: readonly string[],
): PinScan {
  const leaks: string[] = [];
  const all = pins.map((pin) => ({ pin, needles: needles(pin) }));
  for (const [i, f] of frames.entries()) {
    const text = f.text.toLowerCase();
    for (const { pin, needles: ns } of all) {
      if (ns.some((n) => text.includes(n.toLowerCase()))) {
        leaks.push(
          `frame #${i} (${f.custodian}, ${f.dir}) contains the PIN of a custodian (${pin.length} digits)`,
        );
      }
    }
  }
  const files = dirs.flatMap(filesUnder);
  for (const file of files) {
    const raw = readFileSync(file);
    // SQLite pages and JSON both hold text as bytes: search the raw bytes as latin1 and hex.
    const latin = raw.toString('latin1').toLowerCase();
    for (const { needles: ns } of all) {
      if (ns.some((n) => latin.includes(n.toLowerCase())))
        leaks.push(`file ${file} contains a PIN`);
    }
  }
  return { frames: frames.length, files: files.length, leaks };
}
