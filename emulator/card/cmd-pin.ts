/**
 * VERIFY, CHANGE REFERENCE DATA and RESET RETRY COUNTER (docs/card-reference.md §3.1–§3.3).
 * @module
 */
import { SW } from '../../shared/card/status-words';
import { OPTION, PIN_REF } from '../../shared/sc-hsm/constants';
import type { Handler } from './context';
import {
  createPin,
  pinStatusSw,
  presentPin,
  SO_PIN_LENGTH,
  USER_PIN_MAX,
  USER_PIN_MIN,
} from './pin';
import { check, reply, SwError } from './reply';
import { isUserAuthenticated, pkaQuorumReached } from './session';

/**
 * SW of the status query on a device whose user PIN cannot (yet) unlock it: PKA-only before
 * quorum, or PIN verified but quorum missing with option 0010. Genuine value unknown
 * (docs/card-reference.md §13.1); `6300` is one OpenSC maps to "command failed" → "Public key
 * authentication active", and it cannot be mistaken for a PIN retry count (`63Cx`).
 */
export const SW_PKA_ACTIVE = 0x6300;

const validUserPinLength = (n: number): boolean => n >= USER_PIN_MIN && n <= USER_PIN_MAX;

/** `00 20 00 81|88` with or without data (docs/card-reference.md §3.1). */
export const verify: Handler = (ctx, cmd) => {
  const { state, session } = ctx;
  check(cmd.p1 === 0x00, SW.INCORRECT_P1P2, 'VERIFY P1 must be 00');
  if (cmd.p2 === PIN_REF.SO) {
    // The SO-PIN is no login role (docs/card-reference.md §3.1); status and check only, grants nothing.
    if (!state.initialized || !state.soPin) throw new SwError(SW.REFERENCED_DATA_NOT_FOUND);
    if (cmd.data.length === 0) throw new SwError(pinStatusSw(state.soPin));
    check(cmd.data.length === SO_PIN_LENGTH, SW.WRONG_DATA, 'SO-PIN must be 8 bytes');
    presentPin(state.soPin, cmd.data, ctx.persist);
    return reply();
  }
  check(cmd.p2 === PIN_REF.USER, SW.REFERENCED_DATA_NOT_FOUND, 'unknown PIN reference');
  if (!state.initialized) throw new SwError(SW.REFERENCED_DATA_NOT_FOUND, 'not initialized');
  const pin = state.userPin;
  if (cmd.data.length === 0) {
    if (isUserAuthenticated(state, session)) return reply();
    if (!pin) throw new SwError(SW_PKA_ACTIVE, 'PKA-only device, quorum not reached');
    if (state.transportPin) throw new SwError(SW.DATA_INVALID, 'transport PIN');
    if (session.pinVerified && !pkaQuorumReached(state, session)) {
      throw new SwError(SW_PKA_ACTIVE, 'PIN verified, PKA quorum missing');
    }
    throw new SwError(pinStatusSw(pin));
  }
  if (!pin) throw new SwError(SW.REFERENCED_DATA_NOT_FOUND, 'no user PIN on this device');
  check(validUserPinLength(cmd.data.length), SW.WRONG_DATA, 'PIN length');
  if (pin.retries === 0) throw new SwError(SW.AUTH_METHOD_BLOCKED);
  if (state.transportPin) throw new SwError(SW.DATA_INVALID, 'change the transport PIN first');
  session.pinVerified = false;
  presentPin(pin, cmd.data, ctx.persist);
  session.pinVerified = true;
  return reply();
};

/** `00 24 00 81|88` old ‖ new (docs/card-reference.md §3.2). */
export const changeReferenceData: Handler = (ctx, cmd) => {
  const { state, session } = ctx;
  check(cmd.p1 === 0x00, SW.INCORRECT_P1P2, 'P1 must be 00');
  check(state.initialized, SW.REFERENCED_DATA_NOT_FOUND, 'not initialized');
  if (cmd.p2 === PIN_REF.SO) {
    const so = state.soPin;
    check(so !== undefined, SW.REFERENCED_DATA_NOT_FOUND);
    check(cmd.data.length === 2 * SO_PIN_LENGTH, SW.WRONG_DATA, 'old SO-PIN ‖ new SO-PIN');
    presentPin(so, cmd.data.subarray(0, SO_PIN_LENGTH), ctx.persist);
    state.soPin = createPin(cmd.data.slice(SO_PIN_LENGTH), so.maxRetries);
    ctx.persist();
    return reply();
  }
  check(cmd.p2 === PIN_REF.USER, SW.REFERENCED_DATA_NOT_FOUND, 'unknown PIN reference');
  const pin = state.userPin;
  check(pin !== undefined, SW.REFERENCED_DATA_NOT_FOUND, 'no user PIN on this device');
  const newLength = cmd.data.length - pin.length;
  check(validUserPinLength(newLength), SW.WRONG_DATA, 'old PIN ‖ new PIN length');
  presentPin(pin, cmd.data.subarray(0, pin.length), ctx.persist);
  state.userPin = createPin(cmd.data.slice(pin.length), pin.maxRetries);
  state.transportPin = false;
  session.pinVerified = false;
  ctx.persist();
  return reply();
};

/**
 * `00 2C 00 81` SO-PIN ‖ new PIN, `00 2C 01 81` SO-PIN (docs/card-reference.md §3.3). Needs option 0001;
 * option 0020 forbids setting a new PIN (P1 00). P1 01 is allowed whenever RRC is enabled:
 * unblocking without a new PIN is the weaker operation.
 */
export const resetRetryCounter: Handler = (ctx, cmd) => {
  const { state, session } = ctx;
  check(cmd.p2 === PIN_REF.USER, SW.REFERENCED_DATA_NOT_FOUND, 'only the user PIN');
  check(cmd.p1 === 0x00 || cmd.p1 === 0x01, SW.INCORRECT_P1P2);
  check(state.initialized, SW.REFERENCED_DATA_NOT_FOUND, 'not initialized');
  check((state.options & OPTION.RESET_RETRY_COUNTER) !== 0, SW.COMMAND_NOT_ALLOWED, 'RRC off');
  const pin = state.userPin;
  const so = state.soPin;
  check(pin !== undefined && so !== undefined, SW.REFERENCED_DATA_NOT_FOUND, 'no user PIN');
  if (cmd.p1 === 0x00) {
    check((state.options & OPTION.RRC_RESET_ONLY) === 0, SW.COMMAND_NOT_ALLOWED, 'reset only');
    check(
      validUserPinLength(cmd.data.length - SO_PIN_LENGTH),
      SW.WRONG_DATA,
      'SO-PIN ‖ new PIN length',
    );
  } else {
    check(cmd.data.length === SO_PIN_LENGTH, SW.WRONG_DATA, 'SO-PIN only');
  }
  presentPin(so, cmd.data.subarray(0, SO_PIN_LENGTH), ctx.persist);
  if (cmd.p1 === 0x00) {
    state.userPin = createPin(cmd.data.slice(SO_PIN_LENGTH), pin.maxRetries);
    state.transportPin = false;
  } else {
    pin.retries = pin.maxRetries;
  }
  session.pinVerified = false;
  ctx.persist();
  return reply();
};
