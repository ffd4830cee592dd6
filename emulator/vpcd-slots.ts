/**
 * The vpcd virtual readers of this machine as pcscd exposes them: which reader.conf entries
 * are vpcd readers, which pcscd reader name belongs to which TCP port, and the cross-process
 * lock of a port so that two runs (tests, the demo) never put two cards into one reader.
 * Shared by the test harness and the demo.
 * @module
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Pcsc } from '../core/pcsc/pcsc-adapter';
import { lockFile } from './file-lock';

/** Directory pcscd reads serial-reader definitions from. */
export const READER_CONF_DIR = '/etc/reader.conf.d';

/** One vpcd slot: the pcscd reader name and the TCP port its virtual card connects to. */
export type VpcdSlot = { readonly reader: string; readonly port: number };

/** A vpcd entry of reader.conf: pcscd names its slots `"<friendlyName> <index> <slot>"`. */
export type VpcdConfig = {
  readonly friendlyName: string;
  readonly channel: number;
  readonly file: string;
};

/** The vpcd entries of the reader.conf files (LIBPATH …libifdvpcd…, CHANNELID = base port). */
export function vpcdConfigs(confDir = READER_CONF_DIR): VpcdConfig[] {
  if (!existsSync(confDir)) return [];
  const out: VpcdConfig[] = [];
  for (const f of readdirSync(confDir).sort()) {
    let text: string;
    try {
      text = readFileSync(join(confDir, f), 'utf8');
    } catch {
      continue;
    }
    if (!/^\s*LIBPATH\s+\S*libifdvpcd/m.test(text)) continue;
    const channel = /^\s*CHANNELID\s+(0x[0-9a-f]+|\d+)/im.exec(text)?.[1];
    const name = /^\s*FRIENDLYNAME\s+"([^"]+)"/m.exec(text)?.[1];
    if (channel !== undefined && name !== undefined) {
      out.push({ friendlyName: name, channel: Number(channel), file: join(confDir, f) });
    }
  }
  return out;
}

/**
 * The vpcd reader slots pcscd exposes, in port order. pcscd names slot n of a reader
 * `"<FRIENDLYNAME> <reader index> <slot>"` (two hex digits each); vpcd serves slot n on
 * CHANNELID + n (Debian: "Virtual PCD 00 00" on 35963, "Virtual PCD 00 01" on 35964).
 */
export async function vpcdSlots(pcsc: Pcsc, configs = vpcdConfigs()): Promise<VpcdSlot[]> {
  const names = await pcsc.listReaders();
  const slots: VpcdSlot[] = [];
  for (const reader of names) {
    const m = /^(.*) [0-9A-F]{2} ([0-9A-F]{2})$/.exec(reader);
    if (m?.[1] === undefined || m[2] === undefined) continue;
    const conf = configs.find((c) => c.friendlyName === m[1]);
    if (conf !== undefined) slots.push({ reader, port: conf.channel + Number.parseInt(m[2], 16) });
  }
  return slots.sort((a, b) => a.port - b.port);
}

/** Lock file of a vpcd port (tests, other local runs and the demo share pcscd's readers). */
export const slotLockPath = (port: number): string => join(tmpdir(), `custodian-vpcd-${port}.lock`);

/** Takes the cross-process lock of a vpcd port; resolves with the release function. */
export function lockSlot(port: number, timeoutMs: number): Promise<() => void> {
  return lockFile(slotLockPath(port), timeoutMs, `vpcd port ${port}`);
}
