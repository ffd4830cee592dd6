/**
 * What every command handler receives: the persistent state, the current session and a way to
 * report persistent changes (the card then calls its `onChange` callback once per command).
 * @module
 */
import type { DecodedCommandApdu } from '../../shared/codec/apdu';
import type { Reply } from './reply';
import type { Session } from './session';
import type { DeviceState } from './state';

/** Handler environment. */
export type CardContext = {
  readonly state: DeviceState;
  readonly session: Session;
  /** Records that persistent state changed during this command. */
  persist(): void;
};

/** A command handler: returns a reply or throws `SwError`. */
export type Handler = (ctx: CardContext, cmd: DecodedCommandApdu) => Reply;
