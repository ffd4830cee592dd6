/**
 * Signature verification of CVCs and authenticated requests (docs/card-reference.md §4.2): ECDSA, plain
 * r‖s, hash from the signer's algorithm OID, domain parameters from the certificate or
 * inherited from its issuer (docs/card-reference.md §5.1).
 * @module
 */
import { concatBytes } from '../codec/bytes';
import {
  curveByDomain,
  isValidPublicPoint,
  type Curve,
  type DomainParameters,
} from '../crypto/curves';
import { verifyPlain, type HashName } from '../crypto/ecdsa';
import { err, ok, type Result } from '../result';
import type { AuthenticatedRequest, Cvc, CvcError } from './cvc';
import { hashForAlgorithmOid, isEcdsaAlgorithmOid, oidToString } from './oids';

/** A public key ready to verify signatures: curve, uncompressed point and the hash to use. */
export type VerificationKey = { curve: Curve; point: Uint8Array; hash: HashName };

/**
 * The verification key of a certificate. Domain parameters come from the certificate, else from
 * `inherited` (DICA and device certificates carry none, docs/card-reference.md §5.1); the point is checked to
 * lie on the curve. RSA keys and unknown curves are `unsupported`.
 */
export function keyOf(cvc: Cvc, inherited?: DomainParameters): Result<VerificationKey, CvcError> {
  const pk = cvc.body.publicKey;
  const who = `key of ${cvc.body.chr}`;
  if (!isEcdsaAlgorithmOid(pk.oid)) {
    return err({
      code: 'unsupported',
      message: `${who}: algorithm ${oidToString(pk.oid)} is not ECDSA`,
    });
  }
  const hash = hashForAlgorithmOid(pk.oid);
  if (!hash)
    return err({ code: 'unsupported', message: `${who}: no hash for ${oidToString(pk.oid)}` });
  const domain = pk.domain ?? inherited;
  if (!domain) {
    return err({ code: 'structure', message: `${who}: no domain parameters and none inherited` });
  }
  const curve = curveByDomain(domain);
  if (!curve) return err({ code: 'unsupported', message: `${who}: unsupported curve` });
  if (!pk.point) return err({ code: 'structure', message: `${who}: public point (86) missing` });
  if (!isValidPublicPoint(curve, pk.point)) {
    return err({ code: 'structure', message: `${who}: public point not on ${curve.name}` });
  }
  return ok({ curve, point: pk.point, hash });
}

/** True when `signer` signed the certificate body (`7F4E` TLV). Never throws. */
export function verifyCvc(cvc: Cvc, signer: VerificationKey): boolean {
  return verifyPlain(signer.curve, signer.point, cvc.bodyTlv, cvc.signature, signer.hash);
}

/** True when the certificate (or inner request) is signed by its own key. Never throws. */
export function verifySelfSigned(cvc: Cvc, inherited?: DomainParameters): boolean {
  const key = keyOf(cvc, inherited);
  return key.ok && verifyCvc(cvc, key.value);
}

/** True when `device` made the outer signature over `7F21 TLV ‖ 42 TLV` (docs/card-reference.md §4.2). */
export function verifyOuterSignature(req: AuthenticatedRequest, device: VerificationKey): boolean {
  const signed = concatBytes(req.inner.encoded, req.outerCarTlv);
  return verifyPlain(device.curve, device.point, signed, req.outerSignature, device.hash);
}
