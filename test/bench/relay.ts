/**
 * Relay overhead of what ships: the server's offer carries exactly one APDU, the PKA SIGN
 * (k = 1). In the same run, (a) that APDU sent straight to an in-process card and (b) the same
 * APDU forwarded by the REAL custodian engine (firewall, script runner, the shipped audit log —
 * per-APDU entries written unsynced and one fsync before the decision — decision over a loopback
 * WebSocket). Per approval, overhead per APDU = ((b) − (a)) / k. (b) starts when the engine has
 * verified the PIN (its audit entry written) and ends when the scripted server reads the
 * decision that carries the response. (a) runs on the same card right before or after
 * (alternating).
 *
 * The per-approval fixed costs — offer arrival and verification, approval audit, card session,
 * PIN verify, the decision frame — are measured in the same approvals and reported separately.
 * The run is repeated with the audit log on tmpfs to show the share of disk durability.
 * @module
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fromHex } from '../../shared/codec/bytes';
import { createApduFirewall } from '../../shared/policy/firewall';
import { benchOffer } from './fixtures';
import { auditAppend, firewallPerApdu, verifyOnce, wsRoundTrip } from './relay-parts';
import { relayWorld, runConfig, type RelayRun } from './relay-run';
import { summarize, type Summary } from './stats';

export type { RelayRun };

/** What the relay benchmark measured (milliseconds). */
export type RelayResult = {
  readonly samples: number;
  /** APDUs per script (k). */
  readonly k: number;
  readonly scriptRules: readonly string[];
  readonly runs: readonly RelayRun[];
  readonly parts: {
    readonly verifyCold: Summary;
    readonly verifyCached: Summary;
    readonly firewall: Summary;
    readonly auditDisk: Summary;
    readonly auditTmpfs: Summary | undefined;
    readonly decisionRoundTrip: Summary;
    readonly decisionBytes: number;
  };
};

/** tmpfs for the second run, when this machine has one. */
function tmpfsDir(): string | undefined {
  try {
    return mkdtempSync('/dev/shm/bench-relay-');
  } catch {
    return undefined;
  }
}

/** Runs the relay benchmark: `n` measured approvals (after `warmup`) per configuration. */
export async function benchRelay(n = 1000, warmup = 50): Promise<RelayResult> {
  const w = await relayWorld();
  const disk = mkdtempSync(join(tmpdir(), 'bench-relay-'));
  const shm = tmpfsDir();
  try {
    const onDisk = await runConfig(w, 'disk', disk, n, warmup);
    const onTmpfs = shm ? await runConfig(w, 'tmpfs', shm, n, warmup) : undefined;
    const sample = benchOffer(0, w.target, w.cust);
    const script = sample.script.apdus.map(fromHex);
    const firewall = createApduFirewall({
      ceremonyId: sample.ceremonyId,
      targetDeviceChr: w.target.chr,
      challenge: fromHex(sample.challenge),
      keyId: w.cust.keyId,
    });
    const scriptRules = script.map((apdu) => firewall.inspect(apdu).rule);
    const cold: number[] = [];
    const cached: number[] = [];
    const own = { keyId: w.cust.keyId, chr: w.cust.keyChr };
    for (let i = 0; i < Math.max(n, 100); i++) {
      const v = verifyOnce(benchOffer(i, w.target, w.cust), [w.anchor], own);
      cold.push(v.cold);
      cached.push(v.cached);
    }
    return {
      samples: n,
      k: script.length,
      scriptRules,
      runs: onTmpfs ? [onDisk.run, onTmpfs.run] : [onDisk.run],
      parts: {
        verifyCold: summarize(cold),
        verifyCached: summarize(cached),
        firewall: firewallPerApdu(10_000, () => {
          const o = benchOffer(0, w.target, w.cust);
          return {
            script: o.script.apdus.map(fromHex),
            approval: {
              ceremonyId: o.ceremonyId,
              targetDeviceChr: w.target.chr,
              challenge: fromHex(o.challenge),
              keyId: w.cust.keyId,
            },
          };
        }),
        auditDisk: auditAppend(disk, 300),
        auditTmpfs: shm ? auditAppend(shm, 300) : undefined,
        decisionRoundTrip: await wsRoundTrip(n, onDisk.decisionText),
        decisionBytes: new TextEncoder().encode(onDisk.decisionText).length,
      },
    };
  } finally {
    rmSync(disk, { recursive: true, force: true });
    if (shm) rmSync(shm, { recursive: true, force: true });
  }
}
