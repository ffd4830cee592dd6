/**
 * The test CA directory: `ca.json` (keys and certificates, hex) and `root.cvc` (the binary root
 * certificate clients configure as an extra trust anchor, docs/card-reference.md §5.3). Loading validates the
 * whole chain so a corrupt or mismatched directory is a clear error, never a broken card.
 * @module
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { bytesEqual, fromHex, toHex } from '../../shared/codec/bytes';
import { CURVE_NAMES, curveByName, publicKeyFromPrivate } from '../../shared/crypto/curves';
import { parseCvc } from '../../shared/cvc/cvc';
import { keyOf, verifyCvc, verifySelfSigned } from '../../shared/cvc/verify';
import { writeFileAtomic } from '../../core/fs/atomic-write';
import { generateTestCa, type CaEntity, type TestCa } from './test-ca';

const CA_FORMAT = 'custodian-emulator-test-ca/1';
const hex = z.string().regex(/^([0-9a-f]{2})+$/, 'lower-case hex');
const entity = z.object({ chr: z.string().min(1).max(16), privateKey: hex, cvc: hex }).strict();
const caSchema = z
  .object({
    format: z.literal(CA_FORMAT),
    curve: z.enum(CURVE_NAMES as [string, ...string[]]),
    root: entity,
    dica: entity,
  })
  .strict();

/** A CA directory that cannot be used. */
export class CaFileError extends Error {
  override readonly name = 'CaFileError';
}

const entityJson = (e: CaEntity): z.infer<typeof entity> => ({
  chr: e.chr,
  privateKey: toHex(e.privateKey),
  cvc: toHex(e.cvc),
});

/** Serialises a CA to the `ca.json` form. */
export function caToJson(ca: TestCa): string {
  const json = {
    format: CA_FORMAT,
    curve: ca.curve,
    root: entityJson(ca.root),
    dica: entityJson(ca.dica),
  };
  return `${JSON.stringify(json, null, 2)}\n`;
}

/** Parses and fully checks `ca.json` text: chain signatures, CHRs and key pairs. */
export function caFromJson(text: string): TestCa {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new CaFileError('ca.json is not valid JSON');
  }
  const parsed = caSchema.safeParse(raw);
  if (!parsed.success) {
    throw new CaFileError(`ca.json is invalid: ${parsed.error.issues[0]?.message ?? 'bad shape'}`);
  }
  const j = parsed.data;
  const curve = curveByName(j.curve as TestCa['curve']);
  const root = parseCvc(fromHex(j.root.cvc));
  const dica = parseCvc(fromHex(j.dica.cvc));
  if (!root.ok || !dica.ok) throw new CaFileError('ca.json: a certificate does not parse');
  const rootKey = keyOf(root.value);
  if (!rootKey.ok || !verifySelfSigned(root.value)) {
    throw new CaFileError('ca.json: root certificate is not validly self-signed');
  }
  const dicaKey = keyOf(dica.value, rootKey.value.curve.domain);
  if (!dicaKey.ok || !verifyCvc(dica.value, rootKey.value)) {
    throw new CaFileError('ca.json: DICA certificate is not signed by the root');
  }
  if (root.value.body.chr !== j.root.chr || dica.value.body.chr !== j.dica.chr) {
    throw new CaFileError('ca.json: CHR does not match the certificate');
  }
  for (const [name, e, point] of [
    ['root', j.root, rootKey.value.point],
    ['DICA', j.dica, dicaKey.value.point],
  ] as const) {
    let pub: Uint8Array;
    try {
      pub = publicKeyFromPrivate(curve, fromHex(e.privateKey));
    } catch {
      throw new CaFileError(`ca.json: ${name} private key is invalid`);
    }
    if (!bytesEqual(pub, point)) throw new CaFileError(`ca.json: ${name} key does not match`);
  }
  const ent = (e: z.infer<typeof entity>): CaEntity => ({
    chr: e.chr,
    privateKey: fromHex(e.privateKey),
    cvc: fromHex(e.cvc),
  });
  return { curve: curve.name, root: ent(j.root), dica: ent(j.dica) };
}

/** Loads the CA in `dir`; throws {@link CaFileError} when missing or invalid. */
export function loadTestCa(dir: string): TestCa {
  const file = join(dir, 'ca.json');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new CaFileError(`cannot read ${file}`);
  }
  return caFromJson(text);
}

/**
 * Loads the test CA from `dir`, or creates it (root + DICA) when `dir` holds no `ca.json`.
 * Always (re)writes `root.cvc` so it matches `ca.json`. Idempotent.
 */
export function createTestCa(dir: string): TestCa {
  const file = join(dir, 'ca.json');
  let ca: TestCa;
  if (existsSync(file)) {
    ca = loadTestCa(dir);
  } else {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    ca = generateTestCa();
    writeFileAtomic(file, caToJson(ca), 0o600);
  }
  const rootFile = join(dir, 'root.cvc');
  let current: Uint8Array | undefined;
  try {
    current = new Uint8Array(readFileSync(rootFile));
  } catch {
    current = undefined;
  }
  if (!current || !bytesEqual(current, ca.root.cvc)) writeFileAtomic(rootFile, ca.root.cvc, 0o644);
  return ca;
}
