/**
 * Public Key Authentication (docs/card-reference.md §6): MSE SET AT, MANAGE PKA `80 54` (status, register
 * with key attestation, replace, enumerate), GET CHALLENGE and EXTERNAL AUTHENTICATE.
 * @module
 */
import { randomBytes } from '@noble/hashes/utils.js';
import { bytesEqual } from '../../shared/codec/bytes';
import { SW } from '../../shared/card/status-words';
import { curveByName } from '../../shared/crypto/curves';
import { verifyPlainNode } from '../../core/crypto/verify-ecdsa';
import { parseAuthenticatedRequestContent } from '../../shared/cvc/cvc';
import { OPTION } from '../../shared/sc-hsm/constants';
import { buildPkaSignatureInput, PKA_CHALLENGE_BYTES } from '../../shared/sc-hsm/pka-input';
import { attestRequest } from './attest';
import type { CardContext, Handler } from './context';
import { check, reply, SwError } from './reply';
import { isUserAuthenticated } from './session';
import type { PkaConfig, PkaSlot } from './state';
import { keyReference, selectVerificationKey } from './cmd-trust';

/** Largest GET CHALLENGE answer (OpenSC caps random requests at 1024, docs/card-reference.md §8.1). */
const MAX_RANDOM = 1024;

/** `00 22 81 B6|A4 { 83 reference }` (docs/card-reference.md §6.5 steps 1–2, §6.6 step 1). */
export const manageSecurityEnvironment: Handler = (ctx, cmd) => {
  check(cmd.p1 === 0x81 && (cmd.p2 === 0xb6 || cmd.p2 === 0xa4), SW.INCORRECT_P1P2);
  const ref = keyReference(cmd.data);
  if (cmd.p2 === 0xb6) {
    selectVerificationKey(ctx, ref);
    return reply();
  }
  const { state, session } = ctx;
  delete session.pkaKey;
  const index = state.pka?.slots.findIndex((s) => bytesEqual(s.chr, ref)) ?? -1;
  if (index < 0) throw new SwError(SW.REFERENCED_DATA_NOT_FOUND, 'no registered key with this CHR');
  // An already authenticated key cannot authenticate again (docs/card-reference.md §13.6, Pico behaviour).
  check(!session.pkaAuthenticated.has(index), SW.CONDITIONS_NOT_SATISFIED, 'already authenticated');
  session.pkaKey = index;
  return reply();
};

/** `m ‖ missing ‖ n ‖ authenticated` (docs/card-reference.md §6.4). */
function pkaStatus(pka: PkaConfig, authenticated: number): Uint8Array {
  return Uint8Array.of(pka.m, pka.m - pka.slots.length, pka.n, Math.min(authenticated, 255));
}

/** Refuses a key already registered under the same CHR or with the same public point. */
function checkUnique(pka: PkaConfig, slot: PkaSlot, except?: number): void {
  pka.slots.forEach((s, i) => {
    if (i === except) return;
    check(!bytesEqual(s.chr, slot.chr), SW.CONDITIONS_NOT_SATISFIED, 'CHR already registered');
    check(!bytesEqual(s.point, slot.point), SW.CONDITIONS_NOT_SATISFIED, 'key already registered');
  });
}

/**
 * `80 54 00 00` status / register, `80 54 01 i` replace (option 0008 + authenticated user),
 * `80 54 02 i` enumerate (docs/card-reference.md §6.4). `6D00` when PKA is not configured (OpenSC's test).
 * Registration needs no login while keys are missing (docs/card-reference.md §6.4 emulator advice).
 */
export const managePka: Handler = (ctx, cmd) => {
  const { state, session } = ctx;
  const pka = state.initialized ? state.pka : undefined;
  if (!pka) throw new SwError(SW.INS_NOT_SUPPORTED, 'PKA not configured');
  if (cmd.p1 === 0x02) {
    check(cmd.data.length === 0, SW.WRONG_LENGTH);
    check(cmd.p2 < pka.m, SW.INCORRECT_P1P2, 'slot beyond m');
    const slot = pka.slots[cmd.p2];
    if (!slot) throw new SwError(SW.REFERENCED_DATA_NOT_FOUND, 'empty slot');
    const authenticated = session.pkaAuthenticated.has(cmd.p2);
    return reply(slot.chr, authenticated ? SW.PKA_KEY_AUTHENTICATED : SW.OK);
  }
  if (cmd.p1 === 0x00) {
    check(cmd.p2 === 0x00, SW.INCORRECT_P1P2);
    if (cmd.data.length > 0) {
      check(pka.slots.length < pka.m, SW.NOT_ENOUGH_MEMORY, 'PKA table full');
      const slot = registrationSlot(ctx, cmd.data);
      checkUnique(pka, slot);
      pka.slots.push(slot);
      ctx.persist();
    }
    return reply(pkaStatus(pka, session.pkaAuthenticated.size));
  }
  check(cmd.p1 === 0x01, SW.INCORRECT_P1P2);
  check((state.options & OPTION.REPLACE_PKA) !== 0, SW.COMMAND_NOT_ALLOWED, 'replace disabled');
  check(isUserAuthenticated(state, session), SW.SECURITY_STATUS_NOT_SATISFIED, 'log in first');
  check(cmd.p2 < pka.slots.length, SW.INCORRECT_P1P2, 'no such slot');
  check(cmd.data.length > 0, SW.WRONG_LENGTH);
  const slot = registrationSlot(ctx, cmd.data);
  checkUnique(pka, slot, cmd.p2);
  pka.slots[cmd.p2] = slot;
  session.pkaAuthenticated.delete(cmd.p2);
  ctx.persist();
  return reply(pkaStatus(pka, session.pkaAuthenticated.size));
};

/** Parses and attests a registration request (value of `67`). */
function registrationSlot(ctx: CardContext, content: Uint8Array): PkaSlot {
  const req = parseAuthenticatedRequestContent(content);
  if (!req.ok) throw new SwError(SW.WRONG_DATA, `request: ${req.error.message}`);
  const key = attestRequest(ctx, req.value);
  return {
    chr: req.value.inner.body.chrBytes,
    request: req.value.content.slice(),
    curve: key.curve.name,
    point: key.point,
  };
}

/**
 * `00 84 00 00 Le`: random bytes. Only an 8-byte answer becomes the PKA challenge (docs/card-reference.md
 * §6.6 step 2, §13.4; shared/sc-hsm/pka-input.ts says why no other length is signed); any
 * other length clears it, so EXTERNAL AUTHENTICATE then answers `6985`.
 */
export const getChallenge: Handler = (ctx, cmd) => {
  check(cmd.p1 === 0 && cmd.p2 === 0, SW.INCORRECT_P1P2);
  check(cmd.data.length === 0, SW.WRONG_LENGTH);
  const ne = cmd.ne;
  check(ne !== undefined && ne <= MAX_RANDOM, SW.WRONG_LENGTH, 'Le 1–1024 required');
  const bytes = randomBytes(ne);
  // A new challenge replaces the old one but keeps earlier successes (docs/card-reference.md §6.6, §13.5).
  if (ne === PKA_CHALLENGE_BYTES) ctx.session.challenge = { bytes, usedBy: new Set() };
  else delete ctx.session.challenge;
  return reply(bytes);
};

/**
 * `00 82 00 00 <r‖s>`: verifies ECDSA-SHA-256 over CHR(device) ‖ challenge with the key selected
 * by MSE `81 A4` (docs/card-reference.md §6.6). The challenge is single-use per key, even on failure.
 * `6A88` no key selected, `6700` no data, `6985` no/used challenge or bad signature.
 */
export const externalAuthenticate: Handler = (ctx, cmd) => {
  const { state, session } = ctx;
  check(cmd.p1 === 0 && cmd.p2 === 0, SW.INCORRECT_P1P2);
  const index = session.pkaKey;
  const slot = index === undefined ? undefined : state.pka?.slots[index];
  if (index === undefined || !slot) throw new SwError(SW.REFERENCED_DATA_NOT_FOUND, 'no key');
  check(cmd.data.length > 0, SW.WRONG_LENGTH, 'signature missing');
  const challenge = session.challenge;
  if (!challenge || challenge.usedBy.has(index)) {
    throw new SwError(SW.CONDITIONS_NOT_SATISFIED, 'no fresh challenge');
  }
  challenge.usedBy.add(index);
  delete session.pkaKey;
  const message = buildPkaSignatureInput(state.identity.chr, challenge.bytes);
  // OpenSSL, as a card computes in its own hardware: JavaScript ECDSA here held up every other
  // emulated card of the process (the benchmark's load stage). Same contract as verifyPlain.
  const valid = verifyPlainNode(curveByName(slot.curve), slot.point, message, cmd.data, 'sha256');
  check(valid, SW.CONDITIONS_NOT_SATISFIED, 'bad signature');
  session.pkaAuthenticated.add(index);
  return reply();
};
