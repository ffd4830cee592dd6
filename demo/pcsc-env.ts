/**
 * The PC/SC environment `--pcsc` needs: pcscd running with two vpcd reader slots (vsmartcard,
 * reference §10). Mirrors test/integration/helpers/pcscd.ts without starting or reconfiguring
 * system daemons: the demo only says exactly what to install or start.
 * @module
 */
import {
  closeSync,
  existsSync,
  openSync,
  readdirSync,
  readFileSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Pcsc, PcscEvent } from '../core/pcsc/pcsc-adapter';

/** Directory pcscd reads serial-reader definitions from (Debian). */
const READER_CONF_DIR = '/etc/reader.conf.d';

/** One vpcd slot: the reader name pcscd shows and the TCP port the virtual card connects to. */
export type VpcdSlot = { readonly reader: string; readonly port: number };

/** Why `--pcsc` cannot run, worded as what to do. */
export class PcscSetupError extends Error {
  override readonly name = 'PcscSetupError';
}

function findBinary(name: string): string | undefined {
  for (const dir of [
    '/usr/sbin',
    '/usr/bin',
    '/sbin',
    '/bin',
    '/usr/local/sbin',
    '/usr/local/bin',
  ]) {
    if (existsSync(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

/** vpcd entries of reader.conf: friendly name and base port (CHANNELID). */
function vpcdConfigs(): { friendlyName: string; channel: number }[] {
  if (!existsSync(READER_CONF_DIR)) return [];
  const out: { friendlyName: string; channel: number }[] = [];
  for (const f of readdirSync(READER_CONF_DIR).sort()) {
    let text: string;
    try {
      text = readFileSync(join(READER_CONF_DIR, f), 'utf8');
    } catch {
      continue;
    }
    if (!/^\s*LIBPATH\s+\S*libifdvpcd/m.test(text)) continue;
    const channel = /^\s*CHANNELID\s+(0x[0-9a-f]+|\d+)/im.exec(text)?.[1];
    const name = /^\s*FRIENDLYNAME\s+"([^"]+)"/m.exec(text)?.[1];
    if (channel !== undefined && name !== undefined)
      out.push({ friendlyName: name, channel: Number(channel) });
  }
  return out;
}

/** Checks what can be checked before talking to pcscd. */
export function checkInstalled(): void {
  if (!findBinary('pcscd')) {
    throw new PcscSetupError(
      'pcscd is not installed: apt-get install pcscd libpcsclite1 (then start it: pcscd, or systemctl start pcscd)',
    );
  }
  if (vpcdConfigs().length === 0) {
    throw new PcscSetupError(
      'no vpcd reader is configured: apt-get install vsmartcard-vpcd, then restart pcscd',
    );
  }
}

/** Advice when opening the PC/SC context failed. */
export function notRunningAdvice(message: string): string {
  return `cannot reach pcscd (${message}): start it with \`pcscd\` (as root) or \`systemctl start pcscd\`; the native module needs libpcsclite-dev at npm install time`;
}

/** vpcd slots pcscd lists, in port order (pcscd names slot n `"<FRIENDLYNAME> <idx> <n>"`). */
export async function vpcdSlots(pcsc: Pcsc): Promise<VpcdSlot[]> {
  const configs = vpcdConfigs();
  const slots: VpcdSlot[] = [];
  for (const reader of await pcsc.listReaders()) {
    const m = /^(.*) [0-9A-F]{2} ([0-9A-F]{2})$/.exec(reader);
    if (m?.[1] === undefined || m[2] === undefined) continue;
    const conf = configs.find((c) => c.friendlyName === m[1]);
    if (conf) slots.push({ reader, port: conf.channel + Number.parseInt(m[2], 16) });
  }
  return slots.sort((a, b) => a.port - b.port);
}

/** Resolves with the first PC/SC event matching `pred`, or rejects after `ms`. */
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

/** True when pcscd reports a card in `reader` (the watch replays the current state). */
export function cardPresent(pcsc: Pcsc, reader: string): boolean {
  let present = false;
  pcsc.watch((e) => {
    if (e.type === 'card-inserted' && e.reader === reader) present = true;
  })();
  return present;
}

const lockPath = (port: number) => join(tmpdir(), `custodian-vpcd-${port}.lock`);

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Takes the same cross-process lock file the integration tests use for a vpcd port, so a demo
 * and a test run never put two cards into one reader. Returns the release function.
 */
export async function lockSlot(port: number, timeoutMs = 30_000): Promise<() => void> {
  const path = lockPath(port);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => {
        try {
          if (readFileSync(path, 'utf8') === String(process.pid)) unlinkSync(path);
        } catch {
          // already gone
        }
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const owner = Number.parseInt(readFileSync(path, 'utf8') || '0', 10);
    if (!Number.isInteger(owner) || owner <= 0 || (owner !== process.pid && !alive(owner))) {
      try {
        unlinkSync(path);
      } catch {
        // someone else removed the stale lock first
      }
      continue;
    }
    if (Date.now() > deadline)
      throw new PcscSetupError(
        `vpcd port ${port} is in use by process ${owner} (a test run?); try again when it ends`,
      );
    await new Promise((r) => setTimeout(r, 100));
  }
}
