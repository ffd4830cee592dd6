/**
 * One owner per target HSM. It holds the only connection (PC/SC exclusive, or an emulator),
 * selects the applet once and keeps that selection from the first PKA authentication through
 * signing, because the authenticated state lives in the selection (docs/card-reference.md §6.7). Every card
 * operation goes through one FIFO queue. After quorum the target stays unlocked for at most
 * `maxSeconds` or `maxSignatures`, whichever ends first; then the card is reset, which drops
 * the authentication (docs/card-reference.md §6.7, "reset / deselect").
 * @module
 */
import type { HashName } from '../../shared/crypto/ecdsa';
import type { RsaScheme } from '../../shared/sc-hsm/rsa';
import { CardTransportError, type CardTransport } from '../../core/card/transport';
import { ApduChannel } from '../../core/card/apdu-channel';
import { DeviceChainError, type DeviceCertificates } from '../../core/sc-hsm/device-chain';
import { SmartCardHsm } from '../../core/sc-hsm/sc-hsm-session';
import type { PkaStatus } from '../../shared/sc-hsm/pka';
import { Mutex } from './mutex';
import { TargetError } from './target-error';
import { messageOf } from '../../shared/error-message';

/** Opens a fresh connection to the target's card. */
/** How an RSA key signs a supplied hash: scheme and the hash it is (its length must match). */
export type RsaSignOptions = { readonly scheme: RsaScheme; readonly hash: HashName };

export type TransportOpener = () => Promise<CardTransport>;

/** The target's EF 2F02 (docs/card-reference.md §5.2) with its device id: the device CHR (§6.6 step 3). */
export type DeviceChain = DeviceCertificates & { readonly deviceId: string };

/** Unlock limits after quorum. */
export type UnlockLimits = { readonly maxSeconds: number; readonly maxSignatures: number };

/** Why the card's volatile state (PKA authentications, challenge) was lost. */
export type ResetReason = 'time-limit' | 'signature-limit' | 'connection-lost' | 'admin' | 'closed';

/** The unlock window after quorum. */
export type UnlockWindow = {
  readonly ceremonyId: string;
  readonly until: string;
  readonly signaturesLeft: number;
};

/** Target status as reported to admins. */
export type TargetStatus = {
  readonly name: string;
  readonly label: string;
  readonly connected: boolean;
  readonly deviceId: string | undefined;
  readonly pka: PkaStatus | undefined;
  readonly unlocked: UnlockWindow | undefined;
};

/** `until` (wall clock) is shown; `deadline` (monotonic) decides, like the timer. */
type Unlock = {
  ceremonyId: string;
  until: number;
  deadline: number;
  left: number;
  timer: NodeJS.Timeout;
};

/** The single owner of one target HSM. */
export class TargetService {
  private readonly mutex = new Mutex();
  private transport: CardTransport | undefined;
  private card: SmartCardHsm | undefined;
  private cachedChain: DeviceChain | undefined;
  private unlock: Unlock | undefined;
  private readonly listeners: Array<(reason: ResetReason) => void> = [];

  constructor(
    readonly name: string,
    readonly label: string,
    private readonly opener: TransportOpener,
    private readonly limits: UnlockLimits,
    private readonly clock: () => number = Date.now,
    /** Monotonic milliseconds: the one time source for ending the window (issue 11 item 4). */
    private readonly monotonic: () => number = () => performance.now(),
  ) {}

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
    const u = this.unlock;
    return (
      u && {
        ceremonyId: u.ceremonyId,
        until: new Date(u.until).toISOString(),
        signaturesLeft: u.left,
      }
    );
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
    if (this.unlock) clearTimeout(this.unlock.timer);
    this.unlock = undefined;
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
    return {
      ceremonyId,
      until: new Date(this.clock() + this.limits.maxSeconds * 1000).toISOString(),
      signaturesLeft: this.limits.maxSignatures,
    };
  }

  /**
   * Opens the unlock window after quorum of `ceremonyId`. Ends at `maxSeconds` with a card reset.
   */
  markUnlocked(ceremonyId: string): UnlockWindow {
    if (this.unlock) clearTimeout(this.unlock.timer);
    const timer = setTimeout(
      () => void this.lock('time-limit').catch(() => undefined),
      this.limits.maxSeconds * 1000,
    );
    timer.unref();
    this.unlock = {
      ceremonyId,
      until: this.clock() + this.limits.maxSeconds * 1000,
      deadline: this.monotonic() + this.limits.maxSeconds * 1000,
      left: this.limits.maxSignatures,
      timer,
    };
    return this.unlocked!;
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

  /** The open unlock window, or a `locked` refusal (checked inside the queue, before any APDU). */
  private openWindow(): Unlock {
    const u = this.unlock;
    if (!u || this.monotonic() >= u.deadline || u.left <= 0) {
      throw new TargetError('locked', `target ${this.name} is locked: request a ceremony first`);
    }
    return u;
  }

  /**
   * Signs `hash` with key `keyId` inside the unlock window, counting the signature; the last
   * allowed signature ends the window. Refused (without touching the card) when locked. EC keys
   * answer DER ECDSA; with `rsa` the key is an RSA key and the answer is the RSA signature
   * (PKCS#1 v1.5 over the hash's DigestInfo, or PSS; docs/card-reference.md §15.6).
   */
  signWithinUnlock(keyId: number, hash: Uint8Array, rsa?: RsaSignOptions): Promise<Uint8Array> {
    return this.spendSignature((card) =>
      rsa ? card.signRsaDigest(keyId, rsa.scheme, rsa.hash, hash) : card.signHash(keyId, hash),
    );
  }

  /**
   * Runs one signing operation `sign` inside the unlock window, counting it as one signature
   * (as {@link signWithinUnlock}, for any SIGN the card offers, e.g. CKM_RSA_PKCS for PKCS#11
   * clients, server/pkcs11/rsa-sign.ts).
   */
  spendSignature<T>(sign: (card: SmartCardHsm) => Promise<T>): Promise<T> {
    return this.run(async (card) => {
      const u = this.openWindow();
      u.left--;
      const out = await sign(card);
      if (u.left === 0)
        queueMicrotask(() => void this.lock('signature-limit').catch(() => undefined));
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
      this.openWindow();
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
