/**
 * The CardTransport port: the one seam between card logic and a physical or emulated card.
 * PC/SC (core/pcsc), the in-process emulator and test fakes all implement it; the APDU
 * processors (GET RESPONSE, Le correction, chaining) wrap it (yubikit-style stacking).
 * @module
 */

/** How a card connection is released. */
export type Disposition = 'leave' | 'reset' | 'unpower';

/** A connected card. Every method may reject with a {@link CardTransportError}. */
export type CardTransport = {
  /** The answer-to-reset of the card as connected. */
  readonly atr: Uint8Array;
  /** Sends one raw C-APDU and resolves with the raw R-APDU (data ‖ SW1 ‖ SW2). */
  transmit(apdu: Uint8Array): Promise<Uint8Array>;
  /** Warm-resets the card (clears all volatile state, e.g. PIN/PKA authentication); resolves with the ATR. */
  reset(): Promise<Uint8Array>;
  /** Releases the card. `reset` (the default) leaves no authentication state behind. */
  close(disposition?: Disposition): Promise<void>;
  /**
   * Runs `fn` while holding exclusive access (PC/SC SCardBeginTransaction). Transports
   * without concurrent users run it directly.
   */
  transaction<T>(fn: () => Promise<T>): Promise<T>;
  /** Sends a reader control code (PC/SC part 10); absent where the transport has no reader. */
  control?(code: number, data: Uint8Array): Promise<Uint8Array>;
  /**
   * Asks the reader to abort a pending control (a PIN-pad entry), like PC/SC SCardCancel.
   * Absent where the stack cannot: pcsc-lite's SCardCancel does not abort SCardControl, so a
   * PC/SC PIN-pad entry ends at the reader's own Cancel key or its timeout; the custodian's
   * cancel then only makes sure its result is never used (core/custodian/card-session.ts).
   */
  cancelControl?(): void;
};

/** Why a transport operation failed. */
export type CardTransportErrorCode =
  | 'no-service' // pcscd not running / PC/SC unavailable
  | 'no-native-module' // the pcsclite module could not be loaded
  | 'no-reader'
  | 'no-card'
  | 'card-removed'
  | 'not-sc-hsm'
  | 'timeout'
  | 'sharing-violation'
  | 'closed'
  | 'protocol'
  | 'io';

/** A typed transport failure with a message a person can act on. */
export class CardTransportError extends Error {
  override readonly name = 'CardTransportError';
  constructor(
    readonly code: CardTransportErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
