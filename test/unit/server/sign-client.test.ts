/**
 * The sign CLI's pieces without a card: streaming file digests (chunk boundaries, empty
 * files), signature checks that never crash on garbage, and the batch client's handling of
 * the server's answers (part-way refusals keep their signatures; malformed answers are
 * refused clearly).
 */
import { createHash, generateKeyPairSync, sign as nodeSign } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { ApiError } from '../../../server/admin-cli/admin-client';
import { digestVerifier } from '../../../server/admin-cli/digest-verifier';
import { hashFile, READ_CHUNK_BYTES } from '../../../server/admin-cli/file-digest';
import { SIGN_BATCH_SIZE, signBatch } from '../../../server/admin-cli/sign-batch';

const dir = mkdtempSync(join(tmpdir(), 'sign-client-'));
let n = 0;
const file = (content: Uint8Array): string => {
  const p = join(dir, `f${n++}`);
  writeFileSync(p, content);
  return p;
};

describe('hashFile', () => {
  it.each([
    0,
    1,
    READ_CHUNK_BYTES - 1,
    READ_CHUNK_BYTES,
    READ_CHUNK_BYTES + 1,
    3 * READ_CHUNK_BYTES + 7,
  ])('size %i: digest and size equal a one-shot SHA-256', async (size) => {
    const content = Uint8Array.from({ length: size }, (_, i) => (i * 31 + 7) & 0xff);
    const d = await hashFile(file(content));
    expect(d.size).toBe(size);
    expect(d.sha256).toBe(createHash('sha256').update(content).digest('hex'));
  });

  it('a missing file rejects (never a hang)', async () => {
    await expect(hashFile(join(dir, 'nope'))).rejects.toThrow(/ENOENT/);
  });
});

describe('digestVerifier (signatures checked over the digest the CLI computed)', () => {
  const content = new TextEncoder().encode('release artefact\n'.repeat(5000));
  const digest = createHash('sha256').update(content).digest('hex');
  const other = createHash('sha256').update(content.subarray(1)).digest('hex');
  const keys = [
    ['ec', 'prime256v1', generateKeyPairSync('ec', { namedCurve: 'prime256v1' })],
    ['ec', 'brainpoolP256r1', generateKeyPairSync('ec', { namedCurve: 'brainpoolP256r1' })],
    ['rsa', '2048', generateKeyPairSync('rsa', { modulusLength: 2048 })],
  ] as const;

  it.each(keys)(
    '%s %s: accepts the right signature, refuses one of other content',
    (type, _curve, { privateKey, publicKey }) => {
      const der = new Uint8Array(nodeSign('sha256', content, privateKey));
      const pem = publicKey.export({ type: 'spki', format: 'pem' }) as string;
      const verify = digestVerifier({ id: 1, type, publicKeyPem: pem });
      expect(verify(digest, der)).toBe(true);
      expect(verify(other, der)).toBe(false);
    },
  );

  it.each(keys)(
    '%s %s: arbitrary bytes as a signature are refused, never thrown',
    async (type, _curve, { publicKey }) => {
      const pem = publicKey.export({ type: 'spki', format: 'pem' }) as string;
      const verify = digestVerifier({ id: 1, type, publicKeyPem: pem });
      await fc.assert(
        fc.property(fc.uint8Array({ maxLength: 300 }), (junk) => {
          expect(verify(digest, junk)).toBe(false);
        }),
        { numRuns: 50 },
      );
    },
  );

  it('a key that is not what the server says it is, or unreadable, is refused before signing', () => {
    const ec = keys[0][2].publicKey.export({ type: 'spki', format: 'pem' }) as string;
    const rsa = keys[2][2].publicKey.export({ type: 'spki', format: 'pem' }) as string;
    expect(() => digestVerifier({ id: 3, type: 'rsa', publicKeyPem: ec })).toThrow(/key 3/);
    expect(() => digestVerifier({ id: 3, publicKeyPem: rsa })).toThrow(/key 3/);
    expect(() => digestVerifier({ id: 3, publicKeyPem: 'nope' })).toThrow(/unreadable/);
  });
});

describe('signBatch', () => {
  let http: Server | undefined;
  afterEach(() => new Promise<void>((r) => (http ? http.close(() => r()) : r())));

  /** A fake server answering every request with `status` and `body`; records the requests. */
  async function fake(status: number, body: unknown): Promise<{ url: string; seen: unknown[] }> {
    const seen: unknown[] = [];
    http = createServer((req, res) => {
      let text = '';
      req.on('data', (c: Buffer) => (text += c.toString('utf8')));
      req.on('end', () => {
        seen.push(JSON.parse(text));
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      });
    });
    await new Promise<void>((r) => http!.listen(0, '127.0.0.1', r));
    return { url: `http://127.0.0.1:${(http.address() as AddressInfo).port}`, seen };
  }
  const digests = (k: number) =>
    Array.from({ length: k }, (_, i) => i.toString(16).padStart(64, '0'));
  const sig = '3044' + 'ab'.repeat(68);

  it('sends key id and digests; returns every signature', async () => {
    const f = await fake(200, { signatures: [sig, sig] });
    const r = await signBatch({ url: f.url, token: 't', ca: undefined }, 't 1', 3, digests(2));
    expect(r.signatures).toHaveLength(2);
    expect(r.stop).toBeUndefined();
    expect(f.seen).toEqual([{ key: '3', digests: digests(2) }]);
  });

  it('a part-way refusal keeps the signatures made and says why', async () => {
    const f = await fake(409, { error: 'target t1 is locked', code: 'locked', signatures: [sig] });
    const r = await signBatch({ url: f.url, token: 't', ca: undefined }, 't1', 1, digests(3));
    expect(r.signatures).toHaveLength(1);
    expect(r.stop).toEqual({ reason: 'target t1 is locked', status: 409 });
  });

  it('a refusal before any signature throws the ApiError unchanged', async () => {
    const f = await fake(409, { error: 'target t1 is locked', code: 'locked' });
    const p = signBatch({ url: f.url, token: 't', ca: undefined }, 't1', 1, digests(3));
    await expect(p).rejects.toBeInstanceOf(ApiError);
    await expect(p).rejects.toThrow('target t1 is locked');
  });

  it.each([
    ['more signatures than digests', { signatures: [sig, sig, sig] }],
    ['a signature that is not hex', { signatures: ['zz'] }],
    ['a number as signature', { signatures: [1] }],
  ])('refuses an answer with %s', async (_what, body) => {
    const f = await fake(200, body);
    await expect(
      signBatch({ url: f.url, token: 't', ca: undefined }, 't1', 1, digests(2)),
    ).rejects.toThrow(/wrong form/);
  });

  it('a 200 answer short of signatures is reported as a stop, not silently accepted', async () => {
    const f = await fake(200, { signatures: [sig] });
    const r = await signBatch({ url: f.url, token: 't', ca: undefined }, 't1', 1, digests(2));
    expect(r.stop?.reason).toMatch(/fewer digests than requested/);
  });

  it('refuses empty and oversized batches before sending', async () => {
    const t = { url: 'http://127.0.0.1:9', token: 't', ca: undefined };
    await expect(signBatch(t, 't1', 1, [])).rejects.toThrow(RangeError);
    await expect(signBatch(t, 't1', 1, digests(SIGN_BATCH_SIZE + 1))).rejects.toThrow(RangeError);
  });
});
