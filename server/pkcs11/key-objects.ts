/**
 * The PKCS#11 view of a target's keys (docs/pkcs11.md "Objects"): for each key its card id,
 * CKA_ID (the key id byte, as OpenSC's SmartCard-HSM driver reports it), label, public part
 * (RSA modulus and exponent, or EC parameters and point) and, when `CE<id>` holds an X.509
 * certificate, the certificate with its subject, issuer and serial number.
 * @module
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { ecPublicParts } from '../../shared/codec/spki';
import { decodeTlv, decodeTlvList, type Tlv } from '../../shared/codec/tlv';
import type { SmartCardHsm } from '../../core/sc-hsm/sc-hsm-session';
import { parseAuthenticatedRequest, parseCvc } from '../../shared/cvc/cvc';
import { listKeys, publicKeyFrom } from '../targets/key-info';
import { item, printable, TAG } from './wire';

/** A key as the module sees it. */
export type KeyObjectInfo = {
  readonly ref: number;
  readonly label: string;
  readonly publicKey: KeyObject;
  readonly kind: 'rsa' | 'ec';
  /** Signature length in bytes (modulus length, or 2 × field length). */
  readonly signatureBytes: number;
  readonly cert: Uint8Array | undefined;
};

const DER = { maxLength: 1 << 20 };

function der(input: Uint8Array): Tlv[] {
  const r = decodeTlvList(input, DER);
  if (!r.ok) throw new Error(r.error.message);
  return r.value;
}

/** DER OCTET STRING around an EC point (CKA_EC_POINT, PKCS#11 v2.40 §2.3.3 of the mechanisms). */
export function ecPointAttribute(point: Uint8Array): Uint8Array {
  const len = point.length < 0x80 ? [point.length] : [0x81, point.length];
  return Uint8Array.from([0x04, ...len, ...point]);
}

/** Subject, issuer and serial number (DER) of an X.509 certificate (RFC 5280 §4.1). */
export function certificateNames(cert: Uint8Array): {
  subject: Uint8Array;
  issuer: Uint8Array;
  serial: Uint8Array;
} {
  const top = decodeTlv(cert, DER);
  if (!top.ok) throw new Error(top.error.message);
  const tbs = der(top.value.value)[0];
  if (!tbs) throw new Error('certificate without tbsCertificate');
  let fields = der(tbs.value);
  if (fields[0]?.tag === 0xa0) fields = fields.slice(1); // explicit version
  const [serial, , issuer, , subject] = fields;
  if (!serial || !issuer || !subject) throw new Error('truncated tbsCertificate');
  return { serial: serial.raw, issuer: issuer.raw, subject: subject.raw };
}

/** The RSA public key in a key's authenticated request or CVC (`7F49 { 81 n, 82 e }`, §7.2). */
export function rsaPublicKeyFrom(data: Uint8Array | undefined): KeyObject | undefined {
  if (!data || data.length === 0) return undefined;
  const body =
    data[0] === 0x67
      ? (() => {
          const r = parseAuthenticatedRequest(data);
          return r.ok ? r.value.inner.body : undefined;
        })()
      : data[0] === 0x7f && data[1] === 0x21
        ? (() => {
            const r = parseCvc(data);
            return r.ok ? r.value.body : undefined;
          })()
        : undefined;
  const pk = body?.publicKey;
  if (!pk?.modulus || !pk.exponent) return undefined;
  return createPublicKey({
    key: {
      kty: 'RSA',
      n: Buffer.from(pk.modulus).toString('base64url'),
      e: Buffer.from(pk.exponent).toString('base64url'),
    },
    format: 'jwk',
  });
}

/** Reads every key's public part from the card. Keys without a readable public part are skipped. */
export async function readKeyObjects(card: SmartCardHsm): Promise<KeyObjectInfo[]> {
  const out: KeyObjectInfo[] = [];
  for (const k of await listKeys(card)) {
    try {
      const data = await card.readKeyObject(k.id);
      const publicKey = rsaPublicKeyFrom(data) ?? createPublicKey(publicKeyFrom(data, k.id).pem);
      const kind = publicKey.asymmetricKeyType === 'rsa' ? 'rsa' : 'ec';
      let signatureBytes: number;
      if (kind === 'rsa') {
        signatureBytes = Math.ceil((publicKey.asymmetricKeyDetails?.modulusLength ?? 0) / 8);
      } else {
        const spki = publicKey.export({ type: 'spki', format: 'der' });
        signatureBytes = ecPublicParts(spki).point.length - 1;
      }
      out.push({
        ref: k.id,
        label: k.label ?? `key ${k.id}`,
        publicKey,
        kind,
        signatureBytes,
        cert: data && data[0] === 0x30 ? data : undefined,
      });
    } catch {
      // A key slot without a usable public key (e.g. a custodian's PKA key) is not offered.
    }
  }
  return out;
}

function unsigned(b64url: string): Buffer {
  const b = Buffer.from(b64url, 'base64url');
  let i = 0;
  while (i < b.length - 1 && b[i] === 0) i++;
  return b.subarray(i);
}

/** The KEY item of one key (pkcs11/src/reply.h). */
export function keyItem(k: KeyObjectInfo): Buffer {
  const parts = [
    item(TAG.keyRef, Uint8Array.of(k.ref)),
    item(TAG.keyType, Uint8Array.of(k.kind === 'rsa' ? 0 : 3)),
    item(TAG.keyId, Uint8Array.of(k.ref)),
    item(TAG.keyLabel, printable(k.label, 100)),
  ];
  if (k.kind === 'rsa') {
    const jwk = k.publicKey.export({ format: 'jwk' });
    parts.push(item(TAG.keyModulus, unsigned(jwk.n ?? '')));
    parts.push(item(TAG.keyExponent, unsigned(jwk.e ?? '')));
  } else {
    const { params, point } = ecPublicParts(k.publicKey.export({ type: 'spki', format: 'der' }));
    parts.push(item(TAG.keyEcParams, params));
    parts.push(item(TAG.keyEcPoint, ecPointAttribute(point)));
  }
  if (k.cert) {
    try {
      const names = certificateNames(k.cert);
      parts.push(item(TAG.keyCert, k.cert));
      parts.push(item(TAG.keyCertSubject, names.subject));
      parts.push(item(TAG.keyCertIssuer, names.issuer));
      parts.push(item(TAG.keyCertSerial, names.serial));
    } catch {
      // An unreadable certificate is left out; the key pair is still offered.
    }
  }
  return item(TAG.key, Buffer.concat(parts));
}
