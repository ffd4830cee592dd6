/**
 * Volatile state of one applet selection (docs/card-reference.md §10 "Volatile"): cleared on SELECT of the
 * AID, on reset and on power loss (docs/card-reference.md §6.7).
 * @module
 */
import type { Curve } from '../../shared/crypto/curves';
import type { HashName } from '../../shared/crypto/ecdsa';
import { OPTION } from '../../shared/sc-hsm/constants';
import type { DeviceState } from './state';

/** A public key the card may verify certificates with (MSE SET AT `81 B6`, docs/card-reference.md §6.5). */
export type KnownKey = {
  chr: Uint8Array;
  curve: Curve;
  point: Uint8Array;
  hash: HashName;
  /** 0 = trusted root, 1 = certificate issued by a root (DICA), 2 = device certificate. */
  depth: number;
};

/** A pending PKA challenge (docs/card-reference.md §6.6 step 2). */
export type PkaChallenge = {
  bytes: Uint8Array;
  /** Slots that already used this challenge: single use per key (docs/card-reference.md §6.6 "emulator"). */
  usedBy: Set<number>;
};

/** Everything that a re-select forgets. */
export type Session = {
  /** Whether the SmartCard-HSM applet is selected (docs/card-reference.md §1.1: not by default). */
  selected: boolean;
  pinVerified: boolean;
  /** Indexes of PKA slots authenticated in this session. */
  pkaAuthenticated: Set<number>;
  challenge?: PkaChallenge;
  /** Slot selected with MSE SET AT `81 A4`. */
  pkaKey?: number;
  /** Key selected with MSE SET AT `81 B6`. */
  verifier?: KnownKey;
  /** Certificates imported with PSO VERIFY CERTIFICATE (volatile: docs/card-reference.md §13.13 choice). */
  imported: KnownKey[];
  /** EF selected by FID for plain READ BINARY `B0`. */
  currentEf?: number;
  /** Rest of a response longer than Ne, fetched with GET RESPONSE. */
  pending?: { data: Uint8Array; sw: number };
};

/** A fresh, unauthenticated session. */
export function newSession(selected: boolean): Session {
  return { selected, pinVerified: false, pkaAuthenticated: new Set(), imported: [] };
}

/**
 * Resets `session` in place to a fresh one (handlers hold a reference to it). Every property
 * is removed first, so no optional field (challenge, selected keys, imports) survives.
 */
export function clearSession(session: Session, selected: boolean): void {
  for (const key of Object.keys(session))
    delete (session as Partial<Session>)[key as keyof Session];
  Object.assign(session, newSession(selected));
}

/** True when enough PKA keys authenticated in this session (docs/card-reference.md §6.7). */
export function pkaQuorumReached(state: DeviceState, session: Session): boolean {
  return state.pka !== undefined && session.pkaAuthenticated.size >= state.pka.n;
}

/**
 * The "user authenticated" state that unlocks keys (docs/card-reference.md §10 "Quorum", §6.7): PIN only
 * without PKA; PIN or PKA quorum by default; PIN and quorum with option 0010.
 */
export function isUserAuthenticated(state: DeviceState, session: Session): boolean {
  if (!state.initialized) return false;
  if (state.pka === undefined) return session.pinVerified;
  const quorum = pkaQuorumReached(state, session);
  if ((state.options & OPTION.PKA_AND_PIN) !== 0 && state.userPin !== undefined) {
    return quorum && session.pinVerified;
  }
  return quorum || session.pinVerified;
}
