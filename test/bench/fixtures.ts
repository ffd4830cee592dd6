/**
 * Shared pieces of the benchmarks: a TEST PKI, an in-process custodian card with a PKA key
 * (set up exactly as the demo does), a target identity, valid offers for it, and a card
 * transport that adds up the time the card itself spends on each APDU.
 * @module
 */
import { randomBytes } from 'node:crypto';
import type { CardTransport } from '../../core/card/transport';
import { setUpCustodianCard } from '../../demo/cards';
import { generateTestCa, type TestCa } from '../../emulator/ca/test-ca';
import { EmulatedSmartCardHsm } from '../../emulator/card/sc-hsm-card';
import { createDeviceState } from '../../emulator/card/state-file';
import { createInProcessTransport } from '../../emulator/transport/in-process';
import { encodeCommandApdu } from '../../shared/codec/apdu';
import { concatBytes, toHex } from '../../shared/codec/bytes';
import { anchorFromCvc, type TrustAnchor } from '../../shared/cvc/chain';
import type { OfferMessage } from '../../shared/protocol/index';
import { unwrap } from '../../shared/result';
import { ALGO } from '../../shared/sc-hsm/constants';
import { signCommand } from '../../shared/sc-hsm/sign';

/** PIN of the bench custodian card. */
export const BENCH_PIN = '31415926';

/** A TEST PKI and its anchor. */
export function benchPki(): { ca: TestCa; anchor: TrustAnchor } {
  const ca = generateTestCa();
  return { ca, anchor: unwrap(anchorFromCvc(ca.root.cvc, 'bench TEST root')) };
}

/** A custodian card with its PKA key (PIN {@link BENCH_PIN}). */
export async function benchCustodian(ca: TestCa, serial = 7001) {
  const card = new EmulatedSmartCardHsm(createDeviceState(ca, { serial }));
  const key = await setUpCustodianCard(createInProcessTransport(card), 'bench', BENCH_PIN);
  return { card, ...key };
}

/** A target's identity: EF 2F02 and the raw device CHR (docs/card-reference.md §5.2, §6.6 step 3). */
export function benchTarget(
  ca: TestCa,
  serial = 7100,
): { chain: Uint8Array; chr: Uint8Array; deviceId: string } {
  const id = createDeviceState(ca, { serial }).identity;
  return { chain: id.certificates, chr: id.chr, deviceId: new TextDecoder().decode(id.chr) };
}

/** The PKA SIGN a custodian runs: `80 68 <kid> 73 Lc CHR(target) ‖ challenge 00` (docs/card-reference.md §6.6 step 4). */
export function pkaSignApdu(
  keyId: number,
  targetChr: Uint8Array,
  challenge: Uint8Array,
): Uint8Array {
  return unwrap(
    encodeCommandApdu(
      unwrap(signCommand(keyId, ALGO.ECDSA_SHA256, concatBytes(targetChr, challenge))),
    ),
  );
}

/**
 * A valid offer #`seq` for `target`, asking key `key` to sign a fresh challenge: the script is
 * the SIGN alone, as the server sends it.
 */
export function benchOffer(
  seq: number,
  target: { chain: Uint8Array; chr: Uint8Array; deviceId: string },
  key: { keyId: number; keyChr: string },
): OfferMessage {
  const challenge = new Uint8Array(randomBytes(8));
  const apdus = [pkaSignApdu(key.keyId, target.chr, challenge)];
  return {
    v: 1,
    type: 'offer',
    ceremonyId: `cer-${seq}`,
    offerId: `off-${seq}`,
    target: { label: 'Bench target', deviceId: target.deviceId, chain: toHex(target.chain) },
    purpose: 'benchmark',
    requester: 'bench',
    quorum: { n: 3, m: 5 },
    progress: { authenticated: 0, approvedBy: [] },
    expiresAt: new Date(Date.now() + 10 * 60_000).toISOString().replace(/\.\d+Z$/, 'Z'),
    challenge: toHex(challenge),
    key: { chr: key.keyChr, keyId: key.keyId },
    script: { apdus: apdus.map(toHex) },
  };
}

/** One APDU as the card saw it: when it went in and when the answer came back (ms). */
export type CardCall = { readonly start: number; readonly end: number };

/**
 * Card time accounting: every transmit on transports from `open` adds to `ms` and `apdus` and
 * is appended to `calls`; every close (the reset at the end of an approval) to `closes`. The
 * caller empties both between approvals.
 */
export function timedCard(card: EmulatedSmartCardHsm) {
  const acc = { ms: 0, apdus: 0 };
  const calls: CardCall[] = [];
  const closes: CardCall[] = [];
  const open = async (): Promise<CardTransport> => {
    const inner = createInProcessTransport(card);
    return {
      get atr() {
        return inner.atr;
      },
      async transmit(apdu) {
        const start = performance.now();
        const r = await inner.transmit(apdu);
        const end = performance.now();
        acc.ms += end - start;
        acc.apdus += 1;
        calls.push({ start, end });
        return r;
      },
      transaction: (fn) => inner.transaction(fn),
      async close(d) {
        const start = performance.now();
        await inner.close(d);
        closes.push({ start, end: performance.now() });
      },
      reset: () => inner.reset(),
    };
  };
  return { acc, calls, closes, open };
}
