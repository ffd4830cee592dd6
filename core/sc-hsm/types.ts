/**
 * What the SmartCard-HSM session reports.
 * @module
 */
import type { CurveName } from '../../shared/crypto/curves';
import type { PinStatus } from '../../shared/sc-hsm/pin';
import type { PkaStatus } from '../../shared/sc-hsm/pka';

/** Overview of a card for `card info` (docs/card-reference.md §1.3, §3.1, §6.4, §5.2). */
export type CardInfo = {
  readonly version: { readonly major: number; readonly minor: number };
  /** Option mask echoed by SELECT (docs/card-reference.md §3.5), when the card reports it. */
  readonly options?: number;
  /** False when the SO-PIN (or, on old firmware, the user PIN) is reported as never set. */
  readonly initialized: boolean;
  readonly pin: PinStatus;
  /** SO-PIN status; absent when the card does not answer the query (firmware < 2.0). */
  readonly soPin?: PinStatus;
  /** PKA status when the device is initialized for public key authentication. */
  readonly pka?: PkaStatus;
  /** EF 2F02: device CVC ‖ DICA CVC (docs/card-reference.md §5.1), when present. */
  readonly deviceChain?: Uint8Array;
};

/** A key object on the card as listed by {@link SmartCardHsm.listKeys}. */
export type KeyInfo = {
  /** Key id 1–255 (`CC<id>`). */
  readonly id: number;
  /** Label from the PRKD `C4<id>`. */
  readonly label?: string;
  /** CHR of the key's request or certificate in `CE<id>`, as text. */
  readonly chr?: string;
  /** The CHR's raw bytes (the key reference for MSE SET AT, docs/card-reference.md §6.6). */
  readonly chrBytes?: Uint8Array;
  /** Key type, when the request/certificate in `CE<id>` shows it. */
  readonly type?: 'ec' | 'rsa';
  /** Curve, when the request/certificate carries known domain parameters. */
  readonly curve?: CurveName;
  /** Key size in bits (RSA: from the modulus; EC: PRKD or curve). */
  readonly size?: number;
  /** True when `CE<id>` holds an authenticated request (a key that can be exported for PKA). */
  readonly hasRequest: boolean;
};

/** A freshly generated custodian key. */
export type GeneratedKey = {
  readonly keyId: number;
  readonly chr: string;
  /** The authenticated request `67` as returned and stored in `CE<id>` (docs/card-reference.md §7.2). */
  readonly request: Uint8Array;
};
