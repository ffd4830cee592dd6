import { createVerify, generateKeyPairSync, createPublicKey } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { curveByName } from '../../../shared/crypto/curves';
import { generateKeyPair } from '../../../shared/crypto/curves';
import { plainToDer, signPlain } from '../../../shared/crypto/ecdsa';
import { ecPublicKeyPem, ecSpkiDer } from '../../../server/sign/spki';

describe('SPKI export', () => {
  it('matches what OpenSSL (node:crypto) exports for a P-256 key', () => {
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const jwk = publicKey.export({ format: 'jwk' });
    const point = Buffer.concat([
      Buffer.of(4),
      Buffer.from(jwk.x!, 'base64url'),
      Buffer.from(jwk.y!, 'base64url'),
    ]);
    const ours = ecSpkiDer('secp256r1', point);
    expect(Buffer.from(ours).toString('hex')).toBe(
      publicKey.export({ type: 'spki', format: 'der' }).toString('hex'),
    );
  });

  it('a brainpoolP256r1 PEM loads in OpenSSL and verifies a DER signature', () => {
    const curve = curveByName('brainpoolP256r1');
    const kp = generateKeyPair(curve);
    const pem = ecPublicKeyPem('brainpoolP256r1', kp.publicKey);
    const key = createPublicKey(pem);
    expect(key.asymmetricKeyDetails?.namedCurve).toBe('brainpoolP256r1');
    const msg = Buffer.from('hello');
    const sig = plainToDer(signPlain(curve, kp.privateKey, msg, 'sha256'));
    expect(createVerify('sha256').update(msg).verify(pem, Buffer.from(sig))).toBe(true);
    expect(createVerify('sha256').update('other').verify(pem, Buffer.from(sig))).toBe(false);
  });

  it('refuses a compressed point', () => {
    expect(() => ecSpkiDer('secp256r1', new Uint8Array(33).fill(2))).toThrow(/uncompressed/);
  });
});
