/**
 * The slice of the `pcsclite` npm module (v1.x) this adapter uses, typed structurally so unit
 * tests can inject a fake module and so nothing but ./pcsc-adapter loads the native binding.
 * Callbacks follow the module's Node style: `(err, result)`; errors are `Error`s whose message
 * ends in the PC/SC return code, e.g. `SCardConnect error: No smart card inserted.(0x8010000c)`.
 * @module
 */

/** Listener of an untyped emitter (Node's own EventEmitter typing uses `any[]` here too). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Listener = (...args: any[]) => void;

/** Minimal EventEmitter surface. */
export type Emitter = {
  on(event: string, listener: Listener): unknown;
  removeListener(event: string, listener: Listener): unknown;
};

/** Node-style callback. */
export type Callback<T> = (err: Error | null | undefined, result?: T) => void;

/** A reader as the module exposes it (events: `status`, `end`, `error`). */
export type PcscliteReader = Emitter & {
  readonly name: string;
  readonly connected: boolean;
  readonly SCARD_SHARE_SHARED: number;
  readonly SCARD_SHARE_EXCLUSIVE: number;
  readonly SCARD_PROTOCOL_T0: number;
  readonly SCARD_PROTOCOL_T1: number;
  readonly SCARD_STATE_PRESENT: number;
  readonly SCARD_STATE_MUTE?: number;
  readonly SCARD_LEAVE_CARD: number;
  readonly SCARD_RESET_CARD: number;
  readonly SCARD_UNPOWER_CARD: number;
  SCARD_CTL_CODE?(code: number): number;
  connect(options: { share_mode: number; protocol?: number }, cb: Callback<number>): void;
  disconnect(disposition: number, cb: Callback<void>): void;
  transmit(data: Buffer, resLen: number, protocol: number, cb: Callback<Buffer>): void;
  control(data: Buffer, code: number, resLen: number, cb: Callback<Buffer>): void;
  close(): void;
};

/** The context object returned by the module's factory (events: `reader`, `error`). */
export type PcscliteContext = Emitter & {
  /** Started by the module on the next tick; called with the multi-string of reader names. */
  start?: (cb: (err: Error | null | undefined, names?: Buffer) => void) => void;
  close(): void;
};

/** The module's export: a factory that opens a PC/SC context (throws when pcscd is absent). */
export type PcscliteFactory = () => PcscliteContext;

/** Status as delivered by a reader's `status` event. */
export type PcscliteStatus = { readonly state: number; readonly atr?: Buffer };
