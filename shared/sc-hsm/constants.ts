/**
 * SmartCard-HSM identifiers: AID, instructions, file ids, algorithm ids, option bits.
 * Section numbers refer to docs/card-reference.md.
 * @module
 */

/** Applet AID `E8 2B 06 01 04 01 81 C3 1F 02 01` (docs/card-reference.md §1.1). */
export const SC_HSM_AID = Uint8Array.of(
  0xe8,
  0x2b,
  0x06,
  0x01,
  0x04,
  0x01,
  0x81,
  0xc3,
  0x1f,
  0x02,
  0x01,
);

/** Class bytes (docs/card-reference.md §8.1): ISO commands use `00`, proprietary ones `80`. */
export const CLA = { ISO: 0x00, PROPRIETARY: 0x80 } as const;

/** Instruction bytes (docs/card-reference.md §8.1). */
export const INS = {
  SELECT: 0xa4,
  VERIFY: 0x20,
  CHANGE_REFERENCE_DATA: 0x24,
  RESET_RETRY_COUNTER: 0x2c,
  INITIALIZE: 0x50,
  KEY_DOMAIN: 0x52,
  MANAGE_PKA: 0x54,
  ENUMERATE_OBJECTS: 0x58,
  SESSION_PIN: 0x5a,
  READ_BINARY: 0xb0,
  READ_BINARY_ODD: 0xb1,
  UPDATE_BINARY_ODD: 0xd7,
  DELETE_FILE: 0xe4,
  GENERATE_KEY_PAIR: 0x46,
  GENERATE_SYMMETRIC_KEY: 0x48,
  SIGN: 0x68,
  DECIPHER: 0x62,
  WRAP_KEY: 0x72,
  UNWRAP_KEY: 0x74,
  DERIVE_EC_KEY: 0x76,
  CIPHER_SYMMETRIC: 0x78,
  GET_CHALLENGE: 0x84,
  MANAGE_SE: 0x22,
  GENERAL_AUTHENTICATE: 0x86,
  PSO: 0x2a,
  EXTERNAL_AUTHENTICATE: 0x82,
  GET_RESPONSE: 0xc0,
} as const;

/** PIN references in P2 of VERIFY / CHANGE / RESET RETRY COUNTER (docs/card-reference.md §3.1). */
export const PIN_REF = { USER: 0x81, SO: 0x88 } as const;

/** Fixed elementary files (docs/card-reference.md §2.1). */
export const FID = {
  DEVICE_CERTIFICATES: 0x2f02,
  TOKEN_INFO: 0x2f03,
  UNWRAP_SCRATCH: 0x2f10,
} as const;

/** High byte of object FIDs; the low byte is the key id (docs/card-reference.md §2.2). */
export const PREFIX = {
  KEY: 0xcc,
  PRKD: 0xc4,
  CD: 0xc8,
  DCOD: 0xc9,
  CA_CERT: 0xca,
  KEY_META: 0xcb,
  PROTECTED_DATA: 0xcd,
  EE_CERT: 0xce,
  DATA: 0xcf,
} as const;

/** Algorithm ids for SIGN/DECIPHER P2 and the `91` allowed-algorithm list (docs/card-reference.md §8.3). */
export const ALGO = {
  RSA_RAW: 0x20,
  RSA_DECRYPT_RAW: 0x21,
  /** RSA PKCS#1 v1.5 over a DigestInfo the caller supplies (docs/card-reference.md §15.6). */
  RSA_PKCS1: 0x30,
  RSA_PKCS1_SHA256: 0x33,
  /** RSA-PSS over a hash the caller supplies; its length names the hash (§15.6). */
  RSA_PSS: 0x40,
  ECDSA_PREHASHED: 0x70,
  ECDSA_SHA1: 0x71,
  ECDSA_SHA224: 0x72,
  ECDSA_SHA256: 0x73,
  ECDSA_SHA384: 0x74,
  ECDSA_SHA512: 0x75,
  ECDH: 0x80,
  ECDH_AUTPUK: 0x83,
  WRAP: 0x92,
  UNWRAP: 0x93,
  REPLACE: 0x94,
  DERIVE_EC: 0x98,
} as const;

/** Initialization option mask bits (docs/card-reference.md §3.5). */
export const OPTION = {
  RESET_RETRY_COUNTER: 0x0001,
  TRANSPORT_PIN: 0x0002,
  SESSION_PIN: 0x0004,
  REPLACE_PKA: 0x0008,
  PKA_AND_PIN: 0x0010,
  RRC_RESET_ONLY: 0x0020,
} as const;

/** Tags of the INITIALIZE DEVICE data (docs/card-reference.md §3.4). */
export const INIT_TAG = {
  OPTIONS: 0x80,
  USER_PIN: 0x81,
  INIT_CODE: 0x82,
  PIN_RETRIES: 0x91,
  DKEK_SHARES: 0x92,
  PKA: 0x93,
  KEY_DOMAINS: 0x97,
} as const;

/** The standard contact ATR of a SmartCard-HSM (docs/card-reference.md §1.2). */
export const SC_HSM_ATR = Uint8Array.of(
  0x3b,
  0xfe,
  0x18,
  0x00,
  0x00,
  0x81,
  0x31,
  0xfe,
  0x45,
  0x80,
  0x31,
  0x81,
  0x54,
  0x48,
  0x53,
  0x4d,
  0x31,
  0x73,
  0x80,
  0x21,
  0x40,
  0x81,
  0x07,
  0xfa,
);
