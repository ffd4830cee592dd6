/**
 * `custodian-server sign` against a fake admin API, with the file system watched (issue 12 §4):
 * every file is read exactly once (the signature is checked over the digest computed while
 * hashing, not by reading the file again), a signature that does not match that digest is
 * refused, and hashing overlaps signing (the first sign request leaves before the last file has
 * been hashed). Orders of events only; no timing is asserted.
 */
import { createHash, createPublicKey, verify as nodeVerify } from 'node:crypto';
import type * as fsp from 'node:fs/promises';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { signFiles } from '../../../server/admin-cli/sign-files';
import { SIGN_BATCH_BYTES } from '../../../server/admin-cli/sign-pipeline';
import { ecPublicKeyPem } from '../../../server/sign/spki';
import { fromHex, toHex } from '../../../shared/codec/bytes';
import { curveByName, generateKeyPair } from '../../../shared/crypto/curves';
import { plainToDer, signDigestPlain } from '../../../shared/crypto/ecdsa';

/** What the watched file system saw, in order, and a gate that holds back one file's open. */
const fsWatch = vi.hoisted(() => ({
  events: [] as string[],
  opens: new Map<string, number>(),
  gate: undefined as { file: string; open: Promise<void> } | undefined,
  /** A file whose open fails as an unreadable one does. */
  unreadable: undefined as string | undefined,
}));

vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof fsp>();
  const open: typeof real.open = async (path, flags, mode) => {
    const p = String(path);
    fsWatch.opens.set(p, (fsWatch.opens.get(p) ?? 0) + 1);
    if (fsWatch.gate?.file === p) await fsWatch.gate.open;
    if (fsWatch.unreadable === p) throw new Error(`EACCES: permission denied, open '${p}'`);
    const fh = await real.open(path, flags, mode);
    const close = fh.close.bind(fh);
    fh.close = () => {
      fsWatch.events.push(`read ${basename(p)}`);
      return close();
    };
    return fh;
  };
  return { ...real, open };
});

const curve = curveByName('secp256r1');
const key = generateKeyPair(curve);
const publicKeyPem = ecPublicKeyPem('secp256r1', key.publicKey);
const signDigest = (hex: string) =>
  toHex(plainToDer(signDigestPlain(curve, key.privateKey, fromHex(hex))));

let dir: string;
let http: Server | undefined;
let onSign: (digests: string[]) => string[] = (d) => d.map(signDigest);

/** A fake admin API: the key, and a sign route that logs each request before answering. */
async function fakeServer(): Promise<string> {
  http = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      res.setHeader('content-type', 'application/json');
      if (req.method === 'GET' && req.url === '/api/targets/t/keys/k') {
        res.end(JSON.stringify({ id: 1, type: 'ec', publicKeyPem, deviceId: 'DEV0001' }));
      } else if (req.method === 'POST' && req.url === '/api/targets/t/sign') {
        const { digests } = JSON.parse(body) as { digests: string[] };
        fsWatch.events.push(`sign-request ${digests.length}`);
        res.end(JSON.stringify({ keyId: 1, signatures: onSign(digests), unlocked: null }));
      } else {
        res.statusCode = 404;
        res.end('{"error":"no"}');
      }
    });
  });
  await new Promise<void>((r) => http!.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
}

function writeFiles(n: number, size = 1000): string[] {
  return Array.from({ length: n }, (_, i) => {
    const p = join(dir, `f${String(i).padStart(3, '0')}.bin`);
    writeFileSync(p, Buffer.alloc(size + 97 * i, `file ${i} `));
    return p;
  });
}

const io = { out: () => undefined, err: () => undefined };

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sign-pipeline-'));
  fsWatch.events.length = 0;
  fsWatch.opens.clear();
  fsWatch.gate = undefined;
  fsWatch.unreadable = undefined;
  onSign = (d) => d.map(signDigest);
});

afterEach(async () => {
  await new Promise<void>((r) => (http ? http.close(() => r()) : r()));
  http = undefined;
  rmSync(dir, { recursive: true, force: true });
});

describe('sign pipeline', () => {
  it.each([1, 20, 150])(
    '%i file(s): each read exactly once; every signature verifies with openssl semantics',
    async (n) => {
      const url = await fakeServer();
      const files = writeFiles(n);
      const out = join(dir, 'out');
      await signFiles(
        { url, token: 'x', ca: undefined },
        { target: 't', key: 'k', out, files },
        io,
      );
      for (const f of files) expect(fsWatch.opens.get(f), f).toBe(1);
      // Small files fill whole batches of 64.
      const requests = fsWatch.events.filter((e) => e.startsWith('sign-request'));
      expect(requests.map((e) => Number(e.split(' ')[1]))).toEqual(
        Array.from({ length: Math.ceil(n / 64) }, (_, i) => Math.min(64, n - 64 * i)),
      );
      const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as {
        files: { file: string; sha256: string }[];
      };
      // Deterministic order: the manifest lists the files as given.
      expect(manifest.files.map((e) => e.file)).toEqual(files.map((f) => basename(f)));
      const pub = createPublicKey(publicKeyPem);
      for (const f of files) {
        const content = readFileSync(f);
        const sig = readFileSync(join(out, `${basename(f)}.sig`));
        expect(nodeVerify('sha256', content, pub, sig)).toBe(true);
      }
    },
  );

  it.each([
    ['small files (checked over the bytes of their one read)', 1000],
    ['large files (checked over the digest)', 70_000],
  ])('%s: a signature over another digest is refused and not written', async (_what, size) => {
    const url = await fakeServer();
    const files = writeFiles(3, size);
    const wrong = createHash('sha256').update('something else').digest('hex');
    onSign = (d) => d.map(() => signDigest(wrong));
    const out = join(dir, 'out');
    await expect(
      signFiles({ url, token: 'x', ca: undefined }, { target: 't', key: 'k', out, files }, io),
    ).rejects.toThrow(/f000\.bin does not verify with key 1/);
    expect(() => readFileSync(join(out, 'f000.bin.sig'))).toThrow(/ENOENT/);
    for (const f of files) expect(fsWatch.opens.get(f) ?? 0).toBeLessThanOrEqual(1);
    // A wrong key costs one batch: nothing more was asked for.
    expect(fsWatch.events.filter((e) => e.startsWith('sign-request'))).toHaveLength(1);
  });

  it('a card that goes bad mid-run: the verified files kept, at most one more batch discarded', async () => {
    const url = await fakeServer();
    const files = writeFiles(200);
    const wrong = createHash('sha256').update('something else').digest('hex');
    let seen = 0;
    onSign = (d) => d.map((x) => (seen++ === 68 ? signDigest(wrong) : signDigest(x)));
    const out = join(dir, 'out');
    await expect(
      signFiles({ url, token: 'x', ca: undefined }, { target: 't', key: 'k', out, files }, io),
    ).rejects.toThrow(
      /f068\.bin does not verify with key 1; nothing written for it \(\d+ signature\(s\) of the next batch discarded unwritten\)/,
    );
    expect(readFileSync(join(out, 'f067.bin.sig')).length).toBeGreaterThan(0);
    expect(() => readFileSync(join(out, 'f068.bin.sig'))).toThrow(/ENOENT/);
    expect(fsWatch.events.filter((e) => e.startsWith('sign-request')).length).toBeLessThanOrEqual(
      3,
    );
  });

  it('hashing overlaps signing: the first sign request leaves before the last file is read', async () => {
    const url = await fakeServer();
    // 20 files of a little over SIGN_BATCH_BYTES: large files go to the card one by one.
    const files = writeFiles(20, SIGN_BATCH_BYTES + 1);
    const last = files.at(-1)!;
    // The last file's read waits for the first sign request (or, on a pipeline that hashes
    // everything first, for a fallback that lets the run finish so the order can be checked).
    let release!: () => void;
    const open = new Promise<void>((r) => (release = r));
    setTimeout(release, 3000).unref();
    fsWatch.gate = { file: last, open };
    const signBefore = onSign;
    onSign = (d) => {
      release();
      return signBefore(d);
    };
    const out = join(dir, 'out');
    await signFiles({ url, token: 'x', ca: undefined }, { target: 't', key: 'k', out, files }, io);
    const firstSign = fsWatch.events.findIndex((e) => e.startsWith('sign-request'));
    const lastRead = fsWatch.events.indexOf(`read ${basename(last)}`);
    expect(firstSign).toBeGreaterThanOrEqual(0);
    expect(firstSign).toBeLessThan(lastRead);
    expect(readFileSync(join(out, 'manifest.json'), 'utf8')).toContain(basename(last));
  });

  it('a file that cannot be read stops the run: earlier batches kept, its batch and the rest reported NOT signed', async () => {
    const url = await fakeServer();
    const files = writeFiles(130);
    fsWatch.unreadable = files[100];
    const out = join(dir, 'out');
    const err = await signFiles(
      { url, token: 'x', ca: undefined },
      { target: 't', key: 'k', out, files },
      io,
    ).then(
      () => undefined,
      (e: unknown) => e as { status: number; message: string },
    );
    expect(err?.status).toBe(400);
    expect(err?.message).toMatch(
      /64 of 130 file\(s\) signed.*66 NOT signed.*cannot read .*f100\.bin/,
    );
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as {
      files: { file: string }[];
      notSigned: { file: string; reason: string }[];
    };
    expect(manifest.files.map((e) => e.file)).toEqual(files.slice(0, 64).map((f) => basename(f)));
    expect(manifest.notSigned.map((e) => e.file)).toEqual(files.slice(64).map((f) => basename(f)));
    expect(manifest.notSigned[0]!.reason).toMatch(/cannot read .*f100\.bin: EACCES/);
    for (const f of files) expect(fsWatch.opens.get(f) ?? 0).toBeLessThanOrEqual(1);
  });

  it('the first file unreadable: nothing signed, the read error as it is, no manifest', async () => {
    const url = await fakeServer();
    const files = writeFiles(3);
    fsWatch.unreadable = files[0];
    const out = join(dir, 'out');
    await expect(
      signFiles({ url, token: 'x', ca: undefined }, { target: 't', key: 'k', out, files }, io),
    ).rejects.toThrow(/cannot read .*f000\.bin: EACCES/);
    expect(fsWatch.events.some((e) => e.startsWith('sign-request'))).toBe(false);
    expect(() => readFileSync(join(out, 'manifest.json'))).toThrow(/ENOENT/);
  });
});
