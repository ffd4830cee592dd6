/**
 * The emulated card's persistent state (docs/card-reference.md §10 "Persistent"): what survives power loss.
 * Volatile per-selection state lives in `session.ts`. The JSON file form is in `state-file.ts`.
 * @module
 */
import type { CurveName } from '../../shared/crypto/curves';

/** A PIN or SO-PIN: salted SHA-256 of the value, its length (CHANGE REFERENCE DATA needs it) and counters. */
export type PinRecord = {
  salt: Uint8Array;
  hash: Uint8Array;
  /** Byte length of the PIN: `00 24` splits old ‖ new by it (docs/card-reference.md §3.2). */
  length: number;
  retries: number;
  maxRetries: number;
};

/** What every key object carries besides its key material (docs/card-reference.md §7.1). */
type KeyPolicy = {
  /** `91` allowed algorithm ids; absent = every signature algorithm of the key's type. */
  algorithms?: Uint8Array;
  /** `90` key use counter: remaining signatures; absent = unlimited. */
  useCounter?: number;
};

/** A generated EC key object `CC<id>` (docs/card-reference.md §2.2, §7.1). */
export type EcKeyRecord = KeyPolicy & {
  curve: CurveName;
  privateKey: Uint8Array;
  publicKey: Uint8Array;
  rsa?: undefined;
};

/** RSA key material of a key object; modulus and exponent are derived from the private key. */
export type RsaKeyMaterial = {
  /** The private key as PKCS#8 DER (node:crypto does the arithmetic). */
  pkcs8: Uint8Array;
  /** Big-endian modulus n, exactly bits/8 bytes. */
  modulus: Uint8Array;
  /** Big-endian public exponent e, minimal. */
  exponent: Uint8Array;
  bits: number;
};

/** A generated RSA key object `CC<id>` (docs/card-reference.md §7.1, §8.3). */
export type RsaKeyRecord = KeyPolicy & { rsa: RsaKeyMaterial; curve?: undefined };

/** A key object: EC or RSA. */
export type KeyRecord = EcKeyRecord | RsaKeyRecord;

/** One registered PKA public key (docs/card-reference.md §6.4). */
export type PkaSlot = {
  /** CHR (`5F20`) of the inner request: the key reference used in MSE SET AT `A4`. */
  chr: Uint8Array;
  /** The value of the `67` authenticated request as registered. */
  request: Uint8Array;
  curve: CurveName;
  /** The registered public point `04‖x‖y`. */
  point: Uint8Array;
};

/** PKA configuration from INITIALIZE `93 02 m n` (docs/card-reference.md §3.4, §6.3). */
export type PkaConfig = { m: number; n: number; slots: PkaSlot[] };

/** DKEK state (docs/card-reference.md §3.6); the emulator does not wrap keys, it only reports status. */
export type DkekState = { shares: number; outstanding: number; value: Uint8Array };

/** The device identity: PrK.DevAut (`CC00`) and EF 2F02 (docs/card-reference.md §5.1). Kept across INITIALIZE. */
export type DeviceIdentity = {
  curve: CurveName;
  privateKey: Uint8Array;
  /** Raw CHR of the device certificate: the device id in PKA (docs/card-reference.md §6.6 step 3). */
  chr: Uint8Array;
  /** EF 2F02: device CVC ‖ DICA CVC. */
  certificates: Uint8Array;
};

/** Everything the card keeps across power cycles. */
export type DeviceState = {
  serial: string;
  identity: DeviceIdentity;
  /** Encoded self-signed root CVCs the card trusts for PSO VERIFY CERTIFICATE (docs/card-reference.md §6.5). */
  trustedRoots: Uint8Array[];
  firmware: { major: number; minor: number };
  initialized: boolean;
  /** Option mask from INITIALIZE tag 80 (docs/card-reference.md §3.5). */
  options: number;
  /** Absent on PKA-only devices initialized without tag 81 (docs/card-reference.md §3.4). */
  userPin?: PinRecord;
  /** True until the transport PIN is changed (option 0002, docs/card-reference.md §3.2). */
  transportPin: boolean;
  soPin?: PinRecord;
  pka?: PkaConfig;
  dkek?: DkekState;
  /** Number of key-domain slots from tag 97 (status only). */
  keyDomains: number;
  /** Key objects by id 1..255 (id 0 is the device key in {@link DeviceIdentity}). */
  keys: Map<number, KeyRecord>;
  /** Elementary files by FID (everything except 2F02 and key objects). */
  files: Map<number, Uint8Array>;
};

/** Total object memory the emulator pretends to have (Nitrokey HSM 2 class device). */
export const MEMORY_CAPACITY = 76 * 1024;

/** Rough bytes a key object occupies (for the free-memory figure and `6A84`). */
const KEY_COST = 256;

/** Bytes in use by files and keys. */
export function memoryUsed(state: DeviceState): number {
  let used = state.keys.size * KEY_COST;
  for (const f of state.files.values()) used += f.length;
  return used;
}

/** Bytes still free. */
export function memoryFree(state: DeviceState): number {
  return Math.max(0, MEMORY_CAPACITY - memoryUsed(state));
}
