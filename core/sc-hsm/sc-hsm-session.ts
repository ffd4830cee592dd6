/**
 * A session with one SmartCard-HSM: the operations the custodian client and the management
 * server need, over an APDU channel. Authentication state lives on the card and is lost on
 * re-select or reset (docs/card-reference.md §1.3, §6.7), so one session = one selection.
 * @module
 */
import { wipe } from '../../shared/codec/bytes';
import { CardStatusError, SW, describeSw } from '../../shared/card/status-words';
import { initializeCommand, type InitializeOptions } from '../../shared/sc-hsm/initialize';
import {
  pinStatusCommand,
  pinStatusFromSw,
  soPinStatusCommand,
  verifyPinCommand,
  type PinStatus,
} from '../../shared/sc-hsm/pin';
import type { PkaStatus } from '../../shared/sc-hsm/pka';
import { parseSelectResponse, selectApplet, type AppletInfo } from '../../shared/sc-hsm/select';
import { CardTransportError } from '../card/transport';
import { transmit, type CommandSender } from './card-io';
import { loadDeviceChain, readDeviceChain, type DeviceCertificates } from './device-chain';
import { exportPka } from './export-pka';
import { generateCustodianKey, listKeys, signPkaChallenge, type CustodianKeyOptions } from './keys';
import {
  externalAuthenticate,
  getChallenge,
  pkaStatus,
  registerPublicKey,
  selectPkaKey,
  type PkaRegistration,
} from './pka-target';
import {
  generateSigningKey,
  readKeyObject,
  signHash,
  type SigningKeyOptions,
} from './signing-keys';
import {
  generateRsaSigningKey,
  signRsaDigest,
  signRsaPkcs1,
  type RsaSigningKeyOptions,
} from './rsa-keys';
import type { CardInfo, GeneratedKey, KeyInfo } from './types';
import type { HashName } from '../../shared/crypto/ecdsa';
import type { RsaScheme } from '../../shared/sc-hsm/rsa';

/**
 * Produces a custodian's plain r‖s over `CHR(target) ‖ challenge` for
 * {@link SmartCardHsm.authenticatePka}, e.g. another session's `signPkaChallenge` or a remote custodian.
 */
export type PkaSigner = (targetChr: Uint8Array, challenge: Uint8Array) => Promise<Uint8Array>;

/** The SmartCard-HSM command set as async methods. Methods throw {@link CardStatusError} on refusals. */
export class SmartCardHsm {
  private applet: AppletInfo | undefined;

  constructor(
    /**
     * The channel this session talks over, for commands the session does not wrap. Anything
     * sent here shares the session's applet selection and with it its authentication (§6.7).
     */
    readonly channel: CommandSender,
  ) {}

  /**
   * Selects the applet (and so logs out, docs/card-reference.md §1.3) and returns its version/options.
   * @throws CardTransportError `not-sc-hsm` when the card has no SmartCard-HSM applet
   */
  async select(): Promise<AppletInfo> {
    const resp = await this.channel.send(selectApplet());
    if (resp.sw !== SW.OK) {
      throw new CardTransportError(
        'not-sc-hsm',
        `not a SmartCard-HSM: SELECT of the applet answered ${describeSw(resp.sw)}`,
      );
    }
    const info = parseSelectResponse(resp.data);
    if (!info.ok)
      throw new CardTransportError('not-sc-hsm', `not a SmartCard-HSM: ${info.error.message}`);
    this.applet = info.value;
    return info.value;
  }

  /** Re-selects the applet: PIN and PKA authentication are cleared (docs/card-reference.md §1.3, §6.7). */
  async logout(): Promise<void> {
    await this.select();
  }

  /** Version, initialization, PIN/SO-PIN/PKA status and EF 2F02 in one call (selects if needed). */
  async info(): Promise<CardInfo> {
    const applet = this.applet ?? (await this.select());
    const pin = await this.pinStatus();
    const so = await this.channel.send(soPinStatusCommand());
    // PKA does not apply to the SO-PIN: an unexpected word means the query is unsupported (< 2.0).
    const soResult = pinStatusFromSw(so.sw);
    const soPin = soResult.ok && soResult.value.state !== 'pka-active' ? soResult.value : undefined;
    const initialized = soPin ? soPin.state !== 'not-initialized' : pin.state !== 'not-initialized';
    const pka = initialized ? await this.pkaStatus() : undefined;
    const chain = await readDeviceChain(this.channel);
    return {
      version: applet.version,
      ...(applet.options !== undefined ? { options: applet.options } : {}),
      initialized,
      pin,
      ...(soPin ? { soPin } : {}),
      ...(pka ? { pka } : {}),
      ...(chain && chain.length > 0 ? { deviceChain: chain } : {}),
    };
  }

  /** User PIN status from `00 20 00 81` without data (docs/card-reference.md §3.1). */
  async pinStatus(): Promise<PinStatus> {
    const resp = await this.channel.send(pinStatusCommand());
    const status = pinStatusFromSw(resp.sw);
    if (!status.ok) throw new CardStatusError(resp.sw, 'VERIFY (PIN status)');
    return status.value;
  }

  /**
   * Presents the user PIN once (never retries) and wipes `pin` afterwards, also on failure.
   * Returns the resulting status: `verified`, or `not-verified`/`blocked` with tries left.
   * @throws CardStatusError when the card refuses for another reason (e.g. `6A80` length)
   */
  async verifyPin(pin: Uint8Array): Promise<PinStatus> {
    try {
      const cmd = verifyPinCommand(pin);
      if (!cmd.ok) throw new RangeError(cmd.error.message);
      try {
        const resp = await this.channel.send(cmd.value);
        const status = pinStatusFromSw(resp.sw);
        const expected =
          status.ok && ['verified', 'not-verified', 'blocked'].includes(status.value.state);
        if (!status.ok || !expected) throw new CardStatusError(resp.sw, 'VERIFY PIN');
        return status.value;
      } finally {
        wipe(cmd.value.data);
      }
    } finally {
      wipe(pin);
    }
  }

  /** EF 2F02 (device CVC ‖ DICA CVC), or undefined when absent (docs/card-reference.md §5.2). */
  readDeviceCertificates(): Promise<Uint8Array | undefined> {
    return readDeviceChain(this.channel);
  }

  /** EF 2F02 parsed into device and DICA certificates. */
  deviceCertificates(): Promise<DeviceCertificates> {
    return loadDeviceChain(this.channel);
  }

  /** Raw CHR of the device certificate: this device's id in PKA (docs/card-reference.md §6.6 step 3). */
  async deviceChr(): Promise<Uint8Array> {
    return (await loadDeviceChain(this.channel)).device.body.chrBytes;
  }

  /** Key objects with labels, CHRs and curves (docs/card-reference.md §2). */
  listKeys(): Promise<KeyInfo[]> {
    return listKeys(this.channel);
  }

  /** Generates the PKA custodian key (brainpoolP256r1, ECDSA-SHA-256 only, unique CHR). */
  generateCustodianKey(options: CustodianKeyOptions): Promise<GeneratedKey> {
    return generateCustodianKey(this.channel, options);
  }

  /** Generates a key that may only sign hashes (`70`) on a 256-bit curve, with a PRKD label (docs/card-reference.md §7). */
  generateSigningKey(options: SigningKeyOptions): Promise<GeneratedKey> {
    return generateSigningKey(this.channel, options);
  }

  /** ECDSA over a caller-computed hash with key `keyId` (`80 68 <kid> 70`); returns DER (docs/card-reference.md §8.1). */
  signHash(keyId: number, hash: Uint8Array): Promise<Uint8Array> {
    return signHash(this.channel, keyId, hash);
  }

  /** Generates an RSA signing key (2048/3072/4096, PKCS#1 v1.5 and PSS over a supplied hash only, docs/card-reference.md §15.6). */
  generateRsaSigningKey(options: RsaSigningKeyOptions): Promise<GeneratedKey> {
    return generateRsaSigningKey(this.channel, options);
  }

  /** RSA over a supplied digest: `pkcs1` (`30` with its DigestInfo) or `pss` (`40`); returns the signature. */
  signRsaDigest(
    keyId: number,
    scheme: RsaScheme,
    hash: HashName,
    digest: Uint8Array,
  ): Promise<Uint8Array> {
    return signRsaDigest(this.channel, keyId, scheme, hash, digest);
  }

  /** RSA PKCS#1 v1.5 over caller data as it is (`30`; CKM_RSA_PKCS); returns the signature. */
  signRsaPkcs1(keyId: number, data: Uint8Array): Promise<Uint8Array> {
    return signRsaPkcs1(this.channel, keyId, data);
  }

  /** `CE<id>`: key `keyId`'s request or certificate, undefined when absent (docs/card-reference.md §2.2, §7.2). */
  readKeyObject(keyId: number): Promise<Uint8Array | undefined> {
    return readKeyObject(this.channel, keyId);
  }

  /** The `.pka` file of key `keyId`: its request plus this device's certificate and DICA (docs/card-reference.md §6.2). */
  exportPka(keyId: number): Promise<Uint8Array> {
    return exportPka(this.channel, keyId);
  }

  /** Signs `CHR(target) ‖ challenge` with key `keyId`; returns plain r‖s (docs/card-reference.md §6.6 steps 3–5). */
  signPkaChallenge(
    keyId: number,
    targetChr: Uint8Array,
    challenge: Uint8Array,
  ): Promise<Uint8Array> {
    return signPkaChallenge(this.channel, keyId, targetChr, challenge);
  }

  /**
   * INITIALIZE DEVICE (wipes keys and files), then re-selects (docs/card-reference.md §3.4).
   * @throws CardStatusError e.g. `6982`/`6985` when the SO-PIN of an initialized device is wrong
   */
  async initialize(options: InitializeOptions): Promise<void> {
    const cmd = initializeCommand(options);
    if (!cmd.ok) throw new RangeError(cmd.error.message);
    try {
      await transmit(this.channel, cmd.value, 'INITIALIZE DEVICE');
    } finally {
      wipe(cmd.value.data);
    }
    await this.select();
  }

  /** PKA status, or undefined when the device is not initialized for PKA (docs/card-reference.md §6.4). */
  pkaStatus(): Promise<PkaStatus | undefined> {
    return pkaStatus(this.channel);
  }

  /** Registers a custodian key with attestation checks on the card (docs/card-reference.md §6.5). */
  registerPublicKey(registration: PkaRegistration): Promise<PkaStatus> {
    return registerPublicKey(this.channel, registration);
  }

  /** MSE SET AT `A4`: select the registered key by its CHR (docs/card-reference.md §6.6 step 1). */
  selectPkaKey(keyChr: Uint8Array): Promise<void> {
    return selectPkaKey(this.channel, keyChr);
  }

  /** GET CHALLENGE (docs/card-reference.md §6.6 step 2). */
  getChallenge(length = 8): Promise<Uint8Array> {
    return getChallenge(this.channel, length);
  }

  /** EXTERNAL AUTHENTICATE with plain r‖s (docs/card-reference.md §6.6 step 6). */
  externalAuthenticate(signature: Uint8Array): Promise<void> {
    return externalAuthenticate(this.channel, signature);
  }

  /**
   * One custodian's full round on this target: select the key, get a challenge, have `sign`
   * sign `CHR(this device) ‖ challenge`, authenticate; returns the PKA status afterwards.
   */
  async authenticatePka(keyChr: Uint8Array, sign: PkaSigner): Promise<PkaStatus | undefined> {
    const deviceChr = await this.deviceChr();
    await this.selectPkaKey(keyChr);
    const challenge = await this.getChallenge();
    const signature = await sign(deviceChr, challenge);
    await this.externalAuthenticate(signature);
    return this.pkaStatus();
  }
}
