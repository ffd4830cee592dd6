/**
 * Signing for PKCS#11 clients: resolves the key, computes what the card signs for the
 * mechanism, signs inside the target's unlock window (each signature counts against it: the
 * same `signDigest` as `custodian-server sign`, server/sign/sign-digests.ts), checks the card's signature against the
 * key's public key, and audits it with the client's identity and the digest.
 * @module
 */
import { toHex } from '../../shared/codec/bytes';
import { ecPublicParts, OPENSSL_CURVES } from '../../shared/codec/spki';
import { curveByName } from '../../shared/crypto/curves';
import { derToPlain, verifyDigestPlain } from '../../shared/crypto/ecdsa';
import { signDigest } from '../sign/sign-digests';
import type { Store } from '../store/store';
import type { TargetService } from '../targets/target-service';
import type { Pkcs11Client } from './client-store';
import { CKR, Pkcs11Refusal } from './ckr';
import { readKeyObjects, type KeyObjectInfo } from './key-objects';
import { hash, mechanismOf, type Mechanism } from './mechanisms';
import type { SignRequest } from './requests';
import { rsaSign } from './rsa-sign';

/** Per-target cache of key objects (dropped on every reset of the target). */
export class KeyCache {
  private readonly cache = new Map<string, Map<number, KeyObjectInfo>>();

  constructor(targets: ReadonlyMap<string, TargetService>) {
    for (const t of targets.values()) t.onReset(() => this.cache.delete(t.name));
  }

  /** All keys of the target, read from the card when not cached. */
  async all(t: TargetService, refresh = false): Promise<KeyObjectInfo[]> {
    let m = refresh ? undefined : this.cache.get(t.name);
    if (!m) {
      const keys = await t.run((card) => readKeyObjects(card));
      m = new Map(keys.map((k) => [k.ref, k]));
      this.cache.set(t.name, m);
    }
    return [...m.values()];
  }

  /** Key `ref`, re-reading the card once before calling it unknown. */
  async get(t: TargetService, ref: number): Promise<KeyObjectInfo> {
    let k = (await this.all(t)).find((x) => x.ref === ref);
    if (!k) k = (await this.all(t, true)).find((x) => x.ref === ref);
    if (!k) throw new Pkcs11Refusal(CKR.KEY_HANDLE_INVALID, `no key ${ref} on target ${t.name}`);
    return k;
  }
}

async function ecSign(
  t: TargetService,
  key: KeyObjectInfo,
  m: Mechanism,
  data: Uint8Array,
): Promise<{ signature: Uint8Array; digest: Uint8Array }> {
  const digest = m.hash ? hash(m.hash, data) : data;
  if (digest.length < 1 || digest.length > 64) {
    throw new Pkcs11Refusal(CKR.DATA_LEN_RANGE, 'CKM_ECDSA takes a digest of 1–64 bytes');
  }
  const curveName = OPENSSL_CURVES[key.publicKey.asymmetricKeyDetails?.namedCurve ?? ''];
  if (!curveName) throw new Pkcs11Refusal(CKR.KEY_TYPE_INCONSISTENT, 'unsupported curve');
  const curve = curveByName(curveName);
  const der = await signDigest(t, key.ref, digest);
  const plain = derToPlain(der, curve.orderBytes);
  const point = ecPublicParts(key.publicKey.export({ type: 'spki', format: 'der' })).point;
  if (!plain.ok || !verifyDigestPlain(curve, point, digest, plain.value)) {
    throw new Pkcs11Refusal(
      CKR.DEVICE_ERROR,
      `the card's signature with key ${key.ref} does not verify`,
    );
  }
  return { signature: plain.value, digest };
}

/** Signs one request for `client`; audits the signature. Errors are refusals for the caller. */
export async function signFor(
  store: Store,
  t: TargetService,
  keys: KeyCache,
  client: Pkcs11Client,
  req: SignRequest,
): Promise<Uint8Array> {
  const m = mechanismOf(req.mechanism);
  const key = await keys.get(t, req.keyRef);
  if (key.kind !== m.kind) {
    throw new Pkcs11Refusal(CKR.KEY_TYPE_INCONSISTENT, `${m.name} does not fit key ${key.ref}`);
  }
  const data = Uint8Array.from(Buffer.from(req.data, 'hex'));
  // Taken before signing: the last allowed signature ends the window (and its ceremony id).
  const ceremonyId = t.unlocked?.ceremonyId ?? '';
  const r =
    m.kind === 'ec' ? await ecSign(t, key, m, data) : await rsaSign(t, key, m, data, req.pss);
  store.audit.append('signed', {
    target: t.name,
    keyId: key.ref,
    count: 1,
    digests: [toHex(r.digest)],
    ceremonyId,
    client: client.name,
    via: 'pkcs11',
    mechanism: m.name,
  });
  return r.signature;
}
