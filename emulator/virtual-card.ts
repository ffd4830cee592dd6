/**
 * What a front-end (in-process transport, vpcd client) needs from an emulated card.
 * Implementations never throw from these methods: a malformed APDU gets a status word.
 * @module
 */

/** A card in software, as seen by a reader. */
export type VirtualCard = {
  /** The ATR presented on power-on / reset. */
  atr(): Uint8Array;
  /** Power on (cold reset): volatile state cleared. */
  powerOn(): void;
  /** Power off: volatile state cleared. */
  powerOff(): void;
  /** Warm reset: volatile state cleared. */
  reset(): void;
  /** Processes one C-APDU and returns the R-APDU (data ‖ SW). Never throws. */
  process(apdu: Uint8Array): Uint8Array;
};
