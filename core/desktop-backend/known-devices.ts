/**
 * The target devices this custodian approved, remembered per server on this computer
 * (`known-devices.json` in the server's home), so the app can warn clearly the first time a
 * request names a device never seen before (docs/desktop-app.md "Trust cues"). This is the
 * custodian's own memory, never the server's word: a server cannot make a device "known".
 * A damaged file is treated as empty (the worst case is an extra first-time warning).
 * @module
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TargetHistory } from '../../shared/ipc/trust-model';
import { writeFileAtomic } from '../fs/atomic-write';

/** Approvals remembered per server at most (oldest dropped first). */
const KEEP = 2000;

/** One remembered approval. */
type Approval = { readonly deviceId: string; readonly ceremonyId: string; readonly at: string };

/** The memory of one server. */
export type KnownDevices = {
  /** What is remembered about `deviceId`, not counting the ceremony being looked at. */
  history(deviceId: string, exceptCeremonyId?: string): TargetHistory;
  /** Remembers an approval (written at once). */
  approved(deviceId: string, ceremonyId: string, at: Date): void;
};

/** The file of a server home. */
export function knownDevicesPath(serverHome: string): string {
  return join(serverHome, 'known-devices.json');
}

function parse(text: string): Approval[] {
  const data: unknown = JSON.parse(text);
  if (typeof data !== 'object' || data === null || !Array.isArray((data as never)['approvals']))
    return [];
  return ((data as { approvals: unknown[] }).approvals ?? []).filter(
    (a): a is Approval =>
      typeof a === 'object' &&
      a !== null &&
      typeof (a as Approval).deviceId === 'string' &&
      typeof (a as Approval).ceremonyId === 'string' &&
      typeof (a as Approval).at === 'string' &&
      Number.isFinite(Date.parse((a as Approval).at)),
  );
}

/** Opens (or starts) the memory at `path`; `path` undefined keeps it in memory only. */
export function openKnownDevices(path: string | undefined): KnownDevices {
  let approvals: Approval[] = [];
  if (path !== undefined) {
    try {
      approvals = parse(readFileSync(path, 'utf8'));
    } catch {
      approvals = [];
    }
  }
  const save = () => {
    if (path === undefined) return;
    writeFileAtomic(path, JSON.stringify({ approvals }));
  };
  return {
    history(deviceId, exceptCeremonyId) {
      const mine = approvals.filter(
        (a) => a.deviceId === deviceId && a.ceremonyId !== exceptCeremonyId,
      );
      const last = mine.reduce<string | undefined>(
        (best, a) => (best === undefined || a.at > best ? a.at : best),
        undefined,
      );
      return {
        approvedBefore: mine.length > 0,
        times: Math.min(mine.length, 10_000),
        ...(last === undefined ? {} : { lastApprovedAt: last }),
      };
    },
    approved(deviceId, ceremonyId, at) {
      if (approvals.some((a) => a.deviceId === deviceId && a.ceremonyId === ceremonyId)) return;
      approvals = [...approvals, { deviceId, ceremonyId, at: at.toISOString() }].slice(-KEEP);
      save();
    },
  };
}
