import { describe, expect, it } from 'vitest';
import { concatBytes } from '../../../../shared/codec/bytes';
import { anchorFromCvc, validateDeviceChain, type TrustAnchor } from '../../../../shared/cvc/chain';
import { encodeCvcBody, signCertificate } from '../../../../shared/cvc/encode';
import { ID_TA_ECDSA_SHA_256, OID_CC_ROLE_SC_HSM } from '../../../../shared/cvc/oids';
import { buildSyntheticChain, type TestKey } from '../../../fixtures/cvc/synthetic';

// Issue 7 item 7: the signatures alone do not say which certificate is which, so a CA passed
// as the target device (its CHR then signed into PKA inputs) must be refused by role and
// position, whatever the permutation.

const NOW = new Date('2026-06-01T12:00:00Z');
const WIDE = {
  effective: { year: 2020, month: 1, day: 1 },
  expiration: { year: 2099, month: 12, day: 31 },
};
const s = buildSyntheticChain();
const anchor: TrustAnchor = (() => {
  const a = anchorFromCvc(s.root, 'synthetic test root');
  if (!a.ok) throw new Error(a.error.message);
  return a.value;
})();

type Cert = {
  chr: string;
  car: string;
  subject: TestKey;
  issuer: TestKey;
  rights?: number;
  oid?: Uint8Array;
};

/** A certificate issued by `issuer` for `subject`'s key, with the given role bits (or none). */
function cert(c: Cert): Uint8Array {
  return signCertificate(
    encodeCvcBody({
      car: c.car,
      publicKey: { oid: ID_TA_ECDSA_SHA_256, point: c.subject.publicKey },
      chr: c.chr,
      ...(c.rights !== undefined
        ? { chat: { oid: c.oid ?? OID_CC_ROLE_SC_HSM, rights: Uint8Array.of(c.rights) } }
        : {}),
      ...WIDE,
    }),
    c.issuer.curve,
    c.issuer.privateKey,
  );
}

const { root: kr, dica: kd, device: kv } = s.keys;
const { root: R, dica: D, device: V } = s.chrs;

const verdict = (...certs: Uint8Array[]) =>
  validateDeviceChain(concatBytes(...certs), [anchor], NOW);

describe('issue 7 item 7: CA certificates never pass as the target device', () => {
  it('7.7 [DICA ‖ root] and [root ‖ root] are refused for their roles', () => {
    expect(verdict(s.dica, s.root)).toMatchObject({ genuine: false, code: 'wrong-role' });
    expect(verdict(s.root, s.root)).toMatchObject({ genuine: false, code: 'wrong-role' });
    // The genuine order still passes.
    expect(verdict(s.device, s.dica).genuine).toBe(true);
  });

  it('7.7 every ordered pair of root, DICA and device but [device ‖ DICA] is refused', () => {
    const certs = { root: s.root, dica: s.dica, device: s.device };
    for (const [a, x] of Object.entries(certs)) {
      for (const [b, y] of Object.entries(certs)) {
        const v = verdict(x, y);
        expect(v.genuine, `[${a} ‖ ${b}]`).toBe(a === 'device' && b === 'dica');
      }
    }
  });

  it('7.7 a certificate holding the wrong role in either position is refused', () => {
    // A CA-role (80 or C0) certificate issued by the DICA, passed as the device.
    for (const rights of [0x80, 0x40, 0xc0]) {
      const asDevice = cert({ chr: 'UTCC1209355AAAAA', car: D, subject: kv, issuer: kd, rights });
      expect(verdict(asDevice, s.dica), `device rights ${rights}`).toMatchObject({
        genuine: false,
        code: 'wrong-role',
      });
    }
    // A device-role (00) or root-role (C0) certificate issued by the root, passed as the DICA.
    for (const rights of [0x00, 0xc0]) {
      const dica = cert({ chr: 'UTDICAROLE00001', car: R, subject: kd, issuer: kr, rights });
      const device = cert({ chr: V, car: 'UTDICAROLE00001', subject: kv, issuer: kd, rights: 0 });
      expect(verdict(device, dica), `DICA rights ${rights}`).toMatchObject({
        genuine: false,
        code: 'wrong-role',
      });
    }
  });

  it('7.7 a certificate without a role (CHAT) or from another role scheme is refused', () => {
    const noChatDevice = cert({ chr: V, car: D, subject: kv, issuer: kd });
    expect(verdict(noChatDevice, s.dica)).toMatchObject({ code: 'wrong-role' });
    const noChatDica = cert({ chr: 'UTDICANOCHAT001', car: R, subject: kd, issuer: kr });
    const under = cert({ chr: V, car: 'UTDICANOCHAT001', subject: kv, issuer: kd, rights: 0 });
    expect(verdict(under, noChatDica)).toMatchObject({ code: 'wrong-role' });
    const otherOid = Uint8Array.of(0x04, 0x00, 0x7f, 0x00, 0x07, 0x03, 0x01, 0x02, 0x02);
    const foreign = cert({ chr: V, car: D, subject: kv, issuer: kd, rights: 0, oid: otherOid });
    expect(verdict(foreign, s.dica)).toMatchObject({ code: 'wrong-role' });
  });

  it('7.7 a self-issued device or DICA, or a device repeating a CA CHR, is refused', () => {
    // Device role, CAR = CHR = the DICA's CHR, signed by the DICA key: issuer matches.
    const selfDevice = cert({ chr: D, car: D, subject: kv, issuer: kd, rights: 0 });
    expect(verdict(selfDevice, s.dica)).toMatchObject({ genuine: false, code: 'wrong-role' });
    // A self-signed device certificate issued by its own key.
    const ownKey = cert({ chr: V, car: V, subject: kv, issuer: kv, rights: 0 });
    expect(verdict(ownKey, s.dica).genuine).toBe(false);
    // A DICA-role certificate with the root's CHR issued by the root (a re-issued root).
    const rootAsDica = cert({ chr: R, car: R, subject: kd, issuer: kr, rights: 0x80 });
    const device = cert({ chr: V, car: R, subject: kv, issuer: kd, rights: 0 });
    expect(verdict(device, rootAsDica)).toMatchObject({ genuine: false, code: 'wrong-role' });
    // A device certificate whose CHR is the root's.
    const named = cert({ chr: R, car: D, subject: kv, issuer: kd, rights: 0 });
    expect(verdict(named, s.dica)).toMatchObject({ genuine: false, code: 'wrong-role' });
  });

  it('7.7 a chain too long or too short is refused', () => {
    expect(verdict(s.device, s.dica, s.root)).toMatchObject({ genuine: false, code: 'malformed' });
    expect(verdict(s.device)).toMatchObject({ genuine: false, code: 'malformed' });
    expect(verdict(s.dica)).toMatchObject({ genuine: false, code: 'malformed' });
    expect(verdict(s.root)).toMatchObject({ genuine: false, code: 'malformed' });
  });
});
