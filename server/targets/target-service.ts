/**
 * One owner per target HSM. It holds the only connection (PC/SC exclusive, or an emulator),
 * selects the applet once and keeps that selection from the first PKA authentication through
 * signing, because the authenticated state lives in the selection (docs/card-reference.md §6.7). Every card
 * operation goes through one FIFO queue. After quorum the target stays unlocked for at most
 * `maxSeconds` or `maxSignatures`, whichever ends first; then the card is reset, which drops
 * the authentication (docs/card-reference.md §6.7, "reset / deselect").
 * @module
 */
import { CardTransportError, type CardTransport } from '../../core/card/transport';
import { ApduChannel } from '../../core/card/apdu-channel';
import { DeviceChainError, type DeviceCertificates } from '../../core/sc-hsm/device-chain';
import { SmartCardHsm } from '../../core/sc-hsm/sc-hsm-session';
import type { PkaStatus } from '../../shared/sc-hsm/pka';
import { Mutex } from './mutex';
import { TargetError } from './target-error';
import { UnlockState, type UnlockLimits, type UnlockWindow } from './unlock-window';
import { messageOf } from '../../shared/error-message';

/** Opens a fresh connection to the target's card. */
export type TransportOpener = () => Promise<CardTransport>;

/** The target's EF 2F02 (docs/card-reference.md §5.2) with its device id: the device CHR (§6.6 step 3). */
export type DeviceChain = DeviceCertificates & { readonly deviceId: string };

/** Why the card's volatile state (PKA authentications, challenge) was lost. */
export type ResetReason = 'time-limit' | 'signature-limit' | 'connection-lost' | 'admin' | 'closed';

/** Target status as reported to admins. */
export type TargetStatus = {
  readonly name: string;
  readonly label: string;
  readonly connected: boolean;
  readonly deviceId: string | undefined;
  readonly pka: PkaStatus | undefined;
  readonly unlocked: UnlockWindow | undefined;
};

/** The single owner of one target HSM. */
export class TargetService {
  private readonly mutex = new Mutex();
  private transport: CardTransport | undefined;
  private card: SmartCardHsm | undefined;
  private cachedChain: DeviceChain | undefined;
  private readonly window: UnlockState;
  private readonly listeners: Array<(reason: ResetReason) => void> = [];

  constructor(
    readonly name: string,
    readonly label: string,
    private readonly opener: TransportOpener,
    limits: UnlockLimits,
    clock: () => number = Date.now,
    /** Monotonic milliseconds: the one time source for ending the window (issue 11 item 4). */
    monotonic: () => number = () => performance.now(),
  ) {
    this.window = new UnlockState(limits, clock, monotonic);
  }

  /** Registers a callback for every loss of the card's volatile state. */
  onReset(listener: (reason: ResetReason) => void): void {
    this.listeners.push(listener);
  }

  /** The device id (CHR of the device certificate) once the card has been read. */
  get deviceId(): string | undefined {
    return this.cachedChain?.deviceId;
  }

  /** The device chain (EF 2F02) once the card has been read. */
  get chain(): DeviceChain | undefined {
    return this.cachedChain;
  }

  /** The unlock window, if the target is unlocked. */
  get unlocked(): UnlockWindow | undefined {
    return this.window.view;
  }

  /**
   * Runs `fn` with exclusive use of the card, opening it first if needed. A transport failure
   * closes the connection: the card's PKA state is then gone and listeners are told.
   */
  run<T>(fn: (card: SmartCardHsm, chain: DeviceChain) => Promise<T>): Promise<T> {
    return this.mutex.run(async () => {
      const { card, chain } = await this.ensureOpen();
      try {
        return await fn(card, chain);
      } catch (e) {
        if (e instanceof CardTransportError) await this.drop('connection-lost');
        throw e;
      }
    });
  }

  /**
   * Like {@link run}, but `fn` starts from a fresh card state: once `check` passed (it may
   * read the card and refuse), a warm reset and SELECT drop whatever earlier operations left in
   * the card's volatile memory (PKA authentications, certificates imported for attestation: a
   * shared session ran out of import slots with `6A84` at the 16th registration, issue 11 item
   * 5). Listeners learn of the reset as after {@link lock}.
   */
  runFresh<T>(
    check: (card: SmartCardHsm, chain: DeviceChain) => Promise<void>,
    fn: (card: SmartCardHsm, chain: DeviceChain) => Promise<T>,
  ): Promise<T> {
    return this.run(async (card, chain) => {
      await check(card, chain);
      await this.transport!.reset();
      await card.select();
      this.endUnlock('admin');
      return fn(card, chain);
    });
  }

  private async ensureOpen(): Promise<{ card: SmartCardHsm; chain: DeviceChain }> {
    if (this.card && this.cachedChain) return { card: this.card, chain: this.cachedChain };
    let transport: CardTransport;
    try {
      transport = await this.opener();
    } catch (e) {
      throw new TargetError('unavailable', `target ${this.name}: ${messageOf(e)}`);
    }
    try {
      const card = new SmartCardHsm(new ApduChannel(transport));
      await card.select();
      const chain = await readChain(card);
      if (this.cachedChain && this.cachedChain.deviceId !== chain.deviceId) {
        // A different card in the reader must never inherit this target's ceremonies.
        throw new TargetError(
          'unavailable',
          `target ${this.name}: device changed from ${this.cachedChain.deviceId} to ${chain.deviceId}`,
        );
      }
      this.transport = transport;
      this.card = card;
      this.cachedChain = chain;
      return { card, chain };
    } catch (e) {
      await transport.close('reset').catch(() => undefined);
      throw e;
    }
  }

  private async drop(reason: ResetReason): Promise<void> {
    const t = this.transport;
    this.transport = undefined;
    this.card = undefined;
    if (t) await t.close('reset').catch(() => undefined);
    this.endUnlock(reason);
  }

  private endUnlock(reason: ResetReason): void {
    this.window.end();
    for (const l of this.listeners) l(reason);
  }

  /** Reads the device chain and PKA status. */
  async status(): Promise<TargetStatus> {
    try {
      const pka = await this.run((card) => card.pkaStatus());
      return this.statusWith(true, pka);
    } catch (e) {
      if (e instanceof TargetError && e.code === 'unavailable')
        return this.statusWith(false, undefined);
      throw e;
    }
  }

  private statusWith(connected: boolean, pka: PkaStatus | undefined): TargetStatus {
    return {
      name: this.name,
      label: this.label,
      connected,
      deviceId: this.cachedChain?.deviceId,
      pka,
      unlocked: this.unlocked,
    };
  }

  /** The window `markUnlocked` would open now (recorded with the quorum before it opens). */
  plannedWindow(ceremonyId: string): UnlockWindow {
    return this.window.planned(ceremonyId);
  }

  /**
   * Opens the unlock window after quorum of `ceremonyId`. Ends at `maxSeconds` with a card reset.
   */
  markUnlocked(ceremonyId: string): UnlockWindow {
    return this.window.start(ceremonyId, () => void this.lock('time-limit').catch(() => undefined));
  }

  /**
   * Resets the card (warm reset, then SELECT), which drops every PKA authentication and the
   * pending challenge (docs/card-reference.md §6.7). Listeners learn why.
   */
  lock(reason: ResetReason): Promise<void> {
    return this.mutex.run(() => this.resetHeld(reason));
  }

  /**
   * `lock` for a caller that already holds the card (inside `run`): used when the card counted
   * something the store could not record, so the card must forget it before anything else
   * runs in the queue (server/README.md "Intent before every card step").
   */
  async resetHeld(reason: ResetReason): Promise<void> {
    const t = this.transport;
    const card = this.card;
    if (t && card) {
      try {
        await t.reset();
        await card.select();
      } catch {
        // A card that cannot be reset is closed instead: closing with reset has the same effect.
        await this.drop(reason);
        return;
      }
    }
    this.endUnlock(reason);
  }

  /**
   * Runs one signing operation `sign` inside the unlock window, counting it as one signature;
   * the last allowed signature ends the window. Refused (without touching the card) when
   * locked. Signing itself lives in server/sign/sign-digests.ts (and, for the PKCS#11 RSA
   * mechanisms, server/pkcs11/rsa-sign.ts).
   */
  spendSignature<T>(sign: (card: SmartCardHsm) => Promise<T>): Promise<T> {
    return this.run(async (card) => {
      const last = this.window.spend(this.name);
      const out = await sign(card);
      if (last) queueMicrotask(() => void this.lock('signature-limit').catch(() => undefined));
      return out;
    });
  }

  /**
   * Runs `fn` inside the unlock window: an operation that needs the user authentication the
   * quorum gave (docs/card-reference.md §6.7), e.g. key generation. It spends no signature. Refused (without
   * touching the card) when locked.
   */
  withinUnlock<T>(fn: (card: SmartCardHsm, window: UnlockWindow) => Promise<T>): Promise<T> {
    return this.run(async (card) => {
      this.window.check(this.name);
      return fn(card, this.unlocked!);
    });
  }

  /** Closes the connection (reset disposition: nothing stays authenticated). */
  async close(): Promise<void> {
    await this.mutex.run(() => this.drop('closed'));
  }
}

/** Reads EF 2F02; a card without a readable device chain cannot be a PKA target (docs/card-reference.md §5.2). */
async function readChain(card: SmartCardHsm): Promise<DeviceChain> {
  try {
    const certs = await card.deviceCertificates();
    return { ...certs, deviceId: certs.device.body.chr };
  } catch (e) {
    if (e instanceof DeviceChainError) throw new TargetError('malformed', e.message);
    throw e;
  }
}
