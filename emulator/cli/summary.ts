/**
 * The `info` view of a state file: a plain-data summary (for `--json`) and its text form.
 * Never includes secrets (PIN digests, private keys, DKEK).
 * @module
 */
import { bytesToAscii } from '../../shared/codec/bytes';
import { parseAuthenticatedRequest } from '../../shared/cvc/cvc';
import { PREFIX } from '../../shared/sc-hsm/constants';
import type { DeviceState } from '../card/state';
import { memoryFree } from '../card/state';

/** What `info` reports. */
export type DeviceSummary = {
  serial: string;
  deviceChr: string;
  firmware: string;
  initialized: boolean;
  options: string;
  userPin: { retries: number; maxRetries: number; transport: boolean } | null;
  soPin: { retries: number; maxRetries: number } | null;
  pka: { m: number; n: number; registered: string[] } | null;
  dkek: { shares: number; outstanding: number } | null;
  /** `curve` is the curve name, or `rsa:<bits>` for an RSA key. */
  keys: { id: number; curve: string; chr: string | null }[];
  files: string[];
  freeMemory: number;
};

/** Builds the summary of a state. */
export function summarize(s: DeviceState): DeviceSummary {
  const keyChr = (id: number): string | null => {
    const ce = s.files.get((PREFIX.EE_CERT << 8) | id);
    const req = ce ? parseAuthenticatedRequest(ce) : undefined;
    return req?.ok ? req.value.inner.body.chr : null;
  };
  return {
    serial: s.serial,
    deviceChr: bytesToAscii(s.identity.chr),
    firmware: `${s.firmware.major}.${s.firmware.minor}`,
    initialized: s.initialized,
    options: s.options.toString(16).padStart(4, '0'),
    userPin: s.userPin
      ? { retries: s.userPin.retries, maxRetries: s.userPin.maxRetries, transport: s.transportPin }
      : null,
    soPin: s.soPin ? { retries: s.soPin.retries, maxRetries: s.soPin.maxRetries } : null,
    pka: s.pka
      ? { m: s.pka.m, n: s.pka.n, registered: s.pka.slots.map((x) => bytesToAscii(x.chr)) }
      : null,
    dkek: s.dkek ? { shares: s.dkek.shares, outstanding: s.dkek.outstanding } : null,
    keys: [...s.keys].map(([id, k]) => ({
      id,
      curve: k.rsa ? `rsa:${k.rsa.bits}` : k.curve,
      chr: keyChr(id),
    })),
    files: [...s.files.keys()].sort((a, b) => a - b).map((f) => f.toString(16).padStart(4, '0')),
    freeMemory: memoryFree(s),
  };
}

/** Human-readable text of a summary. */
export function formatSummary(d: DeviceSummary): string {
  const lines = [
    `Device        ${d.deviceChr} (serial ${d.serial}, firmware ${d.firmware})`,
    `Initialized   ${d.initialized ? `yes, options ${d.options}` : 'no (factory fresh)'}`,
  ];
  if (d.userPin) {
    const t = d.userPin.transport ? ', transport PIN' : '';
    lines.push(`User PIN      ${d.userPin.retries}/${d.userPin.maxRetries} tries left${t}`);
  } else if (d.initialized) {
    lines.push('User PIN      none (PKA only)');
  }
  if (d.soPin) lines.push(`SO-PIN        ${d.soPin.retries}/${d.soPin.maxRetries} tries left`);
  if (d.pka) {
    lines.push(`PKA           ${d.pka.n} of ${d.pka.m}, ${d.pka.registered.length} registered`);
    for (const chr of d.pka.registered) lines.push(`                ${chr}`);
  }
  if (d.dkek)
    lines.push(`DKEK          ${d.dkek.shares} shares, ${d.dkek.outstanding} outstanding`);
  lines.push(`Keys          ${d.keys.length === 0 ? 'none' : ''}`.trimEnd());
  for (const k of d.keys)
    lines.push(`  ${String(k.id).padStart(3)}  ${k.curve}  ${k.chr ?? ''}`.trimEnd());
  lines.push(`Files         ${d.files.length === 0 ? 'none' : d.files.join(' ')}`);
  lines.push(`Free memory   ${d.freeMemory} bytes`);
  return `${lines.join('\n')}\n`;
}
