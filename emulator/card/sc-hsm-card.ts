/**
 * The emulated SmartCard-HSM: decodes C-APDUs (short and extended), dispatches to the command
 * handlers, shapes the answer to Ne (GET RESPONSE chaining when it does not fit) and persists
 * through `onChange`. `process` never throws (docs/card-reference.md §10).
 * @module
 */
import {
  decodeCommandApdu,
  encodeResponseApdu,
  type DecodedCommandApdu,
} from '../../shared/codec/apdu';
import { SW } from '../../shared/card/status-words';
import { INS, SC_HSM_ATR } from '../../shared/sc-hsm/constants';
import type { VirtualCard } from '../virtual-card';
import { changeReferenceData, resetRetryCounter, verify } from './cmd-pin';
import { initialize, keyDomain } from './cmd-init';
import {
  deleteFile,
  enumerateObjects,
  readBinary,
  readBinaryOdd,
  select,
  updateBinaryOdd,
} from './cmd-files';
import { generateKeyPairCmd } from './cmd-keys';
import { sign } from './cmd-sign';
import {
  externalAuthenticate,
  getChallenge,
  managePka,
  manageSecurityEnvironment,
} from './cmd-pka';
import { verifyCertificate } from './cmd-trust';
import type { CardContext, Handler } from './context';
import { SwError, type Reply } from './reply';
import { newSession, type Session } from './session';
import type { DeviceState } from './state';

/** ISO commands (CLA 00) and proprietary ones (CLA 80), docs/card-reference.md §8.1. */
const ISO_COMMANDS: ReadonlyMap<number, Handler> = new Map([
  [INS.VERIFY, verify],
  [INS.CHANGE_REFERENCE_DATA, changeReferenceData],
  [INS.RESET_RETRY_COUNTER, resetRetryCounter],
  [INS.READ_BINARY, readBinary],
  [INS.READ_BINARY_ODD, readBinaryOdd],
  [INS.UPDATE_BINARY_ODD, updateBinaryOdd],
  [INS.DELETE_FILE, deleteFile],
  [INS.GENERATE_KEY_PAIR, generateKeyPairCmd],
  [INS.GET_CHALLENGE, getChallenge],
  [INS.MANAGE_SE, manageSecurityEnvironment],
  [INS.PSO, verifyCertificate],
  [INS.EXTERNAL_AUTHENTICATE, externalAuthenticate],
]);
const PROPRIETARY_COMMANDS: ReadonlyMap<number, Handler> = new Map([
  [INS.INITIALIZE, initialize],
  [INS.KEY_DOMAIN, keyDomain],
  [INS.MANAGE_PKA, managePka],
  [INS.ENUMERATE_OBJECTS, enumerateObjects],
  [INS.SIGN, sign],
]);

/** Options of the emulated card. */
export type EmulatedCardOptions = {
  /** Called after every command that changed persistent state (e.g. to save it). */
  onChange?: (state: DeviceState) => void;
  /** ATR to present (default: the standard SmartCard-HSM ATR, docs/card-reference.md §1.2). */
  atr?: Uint8Array;
};

const SW_SM_NOT_SUPPORTED = 0x6882;

/** A SmartCard-HSM in software, implementing {@link VirtualCard}. */
export class EmulatedSmartCardHsm implements VirtualCard {
  readonly #state: DeviceState;
  readonly #onChange: ((state: DeviceState) => void) | undefined;
  readonly #atr: Uint8Array;
  #session: Session = newSession(false);

  constructor(state: DeviceState, options: EmulatedCardOptions = {}) {
    this.#state = state;
    this.#onChange = options.onChange;
    this.#atr = (options.atr ?? SC_HSM_ATR).slice();
  }

  /** The live persistent state (tests and the CLI `info` read it; do not mutate). */
  get state(): DeviceState {
    return this.#state;
  }

  /** The ATR. */
  atr(): Uint8Array {
    return this.#atr.slice();
  }

  /** Cold reset: volatile state cleared, applet not selected (docs/card-reference.md §1.1). */
  powerOn(): void {
    this.#session = newSession(false);
  }

  /** Power loss: volatile state cleared. */
  powerOff(): void {
    this.#session = newSession(false);
  }

  /** Warm reset: volatile state cleared. */
  reset(): void {
    this.#session = newSession(false);
  }

  /** Processes one C-APDU; never throws (internal failures answer `6F00`). */
  process(apdu: Uint8Array): Uint8Array {
    let dirty = false;
    const ctx: CardContext = {
      state: this.#state,
      session: this.#session,
      persist: () => {
        dirty = true;
      },
    };
    let r: Reply;
    try {
      r = this.#dispatch(ctx, apdu);
    } catch (e) {
      r = { data: new Uint8Array(0), sw: e instanceof SwError ? e.sw : SW.INTERNAL_ERROR };
    }
    if (dirty && this.#onChange) {
      try {
        this.#onChange(this.#state);
      } catch {
        // The change could not be persisted: never report success for it.
        r = { data: new Uint8Array(0), sw: SW.INTERNAL_ERROR };
      }
    }
    return encodeResponseApdu(r);
  }

  #dispatch(ctx: CardContext, bytes: Uint8Array): Reply {
    if (!(bytes instanceof Uint8Array)) throw new SwError(SW.WRONG_LENGTH);
    // A private plain copy: a Node Buffer's slice() is a view, and handlers keep parts of the data.
    const decoded = decodeCommandApdu(new Uint8Array(bytes));
    if (!decoded.ok) throw new SwError(SW.WRONG_LENGTH, decoded.error.message);
    const cmd = decoded.value;
    const session = ctx.session;
    if ((cmd.cla & 0x0c) !== 0) throw new SwError(SW_SM_NOT_SUPPORTED);
    if (cmd.cla !== 0x00 && cmd.cla !== 0x80) throw new SwError(SW.CLA_NOT_SUPPORTED);
    if (cmd.cla === 0x00 && cmd.ins === INS.GET_RESPONSE) return this.#getResponse(cmd);
    delete session.pending;
    if (cmd.cla === 0x00 && cmd.ins === INS.SELECT) return this.#shape(cmd, select(ctx, cmd));
    if (!session.selected) {
      // Nothing selected answers like a card without this applet (docs/card-reference.md §9 6E00/6D00).
      throw new SwError(cmd.cla === 0x80 ? SW.CLA_NOT_SUPPORTED : SW.INS_NOT_SUPPORTED);
    }
    const table = cmd.cla === 0x00 ? ISO_COMMANDS : PROPRIETARY_COMMANDS;
    const other = cmd.cla === 0x00 ? PROPRIETARY_COMMANDS : ISO_COMMANDS;
    const handler = table.get(cmd.ins);
    if (!handler)
      throw new SwError(other.has(cmd.ins) ? SW.CLA_NOT_SUPPORTED : SW.INS_NOT_SUPPORTED);
    return this.#shape(cmd, handler(ctx, cmd));
  }

  /** Returns at most Ne bytes; the rest waits for GET RESPONSE behind `61xx` (ISO 7816-4 §5.3.4). */
  #shape(cmd: DecodedCommandApdu, r: Reply): Reply {
    const ne = cmd.ne;
    if (ne === undefined || r.data.length <= ne) return r;
    const rest = r.data.slice(ne);
    this.#session.pending = { data: rest, sw: r.sw };
    return { data: r.data.slice(0, ne), sw: 0x6100 | (Math.min(rest.length, 256) % 256) };
  }

  #getResponse(cmd: DecodedCommandApdu): Reply {
    const pending = this.#session.pending;
    if (!pending) throw new SwError(SW.CONDITIONS_NOT_SATISFIED, 'no pending response');
    if (cmd.p1 !== 0 || cmd.p2 !== 0) throw new SwError(SW.INCORRECT_P1P2);
    delete this.#session.pending;
    return this.#shape(cmd.ne === undefined ? { ...cmd, ne: 256 } : cmd, pending);
  }
}
