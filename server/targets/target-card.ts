/**
 * The target HSM as the server drives it: the APDU sequences of reference §5.2 (device
 * chain), §3.4 (initialize), §6.4–§6.6 (PKA) and §8.1 (SIGN, objects) over one ApduChannel.
 * It keeps NO state of its own besides the channel: the card's PKA authentication lives in the
 * applet selection, so the caller (target-service) must never re-select while a ceremony runs.
 * @module
 */
import type { ApduChannel } from '../../core/card/apdu-channel';
import { CardStatusError, SW } from '../../shared/card/status-words';
import type { CommandApdu, ResponseApdu } from '../../shared/codec/apdu';
import { parseCvcAt, type Cvc } from '../../shared/cvc/cvc';
import { FID, PREFIX, ALGO } from '../../shared/sc-hsm/constants';
import {
  enumerateObjectsCommand,
  objectFid,
  parseObjectList,
  readBinaryCommand,
} from '../../shared/sc-hsm/files';
import { initializeCommand, type InitializeOptions } from '../../shared/sc-hsm/initialize';
import {
  externalAuthenticateCommand,
  getChallengeCommand,
  mseSetCommand,
  parsePkaStatus,
  pkaStatusCommand,
  psoVerifyCertificateCommand,
  registerPkaKeyCommand,
  type PkaStatus,
} from '../../shared/sc-hsm/pka';
import { parseSelectResponse, selectApplet, type AppletInfo } from '../../shared/sc-hsm/select';
import { signCommand } from '../../shared/sc-hsm/sign';
import { asciiBytes } from '../../shared/codec/bytes';

/** Why a target operation failed (card answers keep their SW). */
export class TargetError extends Error {
  override readonly name = 'TargetError';
  constructor(
    readonly code:
      | 'card'
      | 'malformed'
      | 'not-pka'
      | 'invalid'
      | 'busy'
      | 'locked'
      | 'unavailable'
      | 'unknown-target',
    message: string,
    readonly sw?: number,
  ) {
    super(message);
  }
}

/** The device certificate chain read from EF 2F02 (reference §5.2). */
export type DeviceChain = {
  /** Raw EF content (device CVC ‖ DICA CVC), as sent to custodians. */
  readonly raw: Uint8Array;
  readonly device: Cvc;
  readonly dica: Cvc;
  /** CHR of the device certificate: the target's device id in PKA (reference §6.6 step 3). */
  readonly deviceId: string;
};

/** A SmartCard-HSM target over an APDU channel. */
export class TargetCard {
  constructor(readonly channel: ApduChannel) {}

  private async run(cmd: CommandApdu, what: string, accept: readonly number[] = [SW.OK]) {
    const r: ResponseApdu = await this.channel.send(cmd);
    if (!accept.includes(r.sw)) throw new CardStatusError(r.sw, what);
    return r;
  }

  /** SELECT the applet (clears PIN/PKA authentication, reference §1.3, §6.7). */
  async select(): Promise<AppletInfo> {
    const r = await this.run(selectApplet('fcp'), 'SELECT SmartCard-HSM');
    const info = parseSelectResponse(r.data);
    if (!info.ok) throw new TargetError('malformed', info.error.message);
    return info.value;
  }

  /** Reads EF 2F02 and splits it into device and DICA certificates (reference §5.2). */
  async readDeviceChain(): Promise<DeviceChain> {
    const r = await this.run(readBinaryCommand(FID.DEVICE_CERTIFICATES), 'READ BINARY 2F02', [
      SW.OK,
      SW.END_OF_FILE,
    ]);
    const first = parseCvcAt(r.data, 0);
    if (!first.ok) throw new TargetError('malformed', `EF 2F02: ${first.error.message}`);
    const second = parseCvcAt(r.data, first.value.end);
    if (!second.ok) throw new TargetError('malformed', `EF 2F02 DICA: ${second.error.message}`);
    const device = first.value.cvc;
    return {
      raw: r.data.slice(0, second.value.end),
      device,
      dica: second.value.cvc,
      deviceId: device.body.chr,
    };
  }

  /** PKA status `80 54` (reference §6.4); undefined when the device is not set up for PKA. */
  async pkaStatus(): Promise<PkaStatus | undefined> {
    const r = await this.channel.send(pkaStatusCommand());
    // OpenSC reads 6D00 as "not initialized for PKA"; Pico answers 6A86 (reference §6.4).
    if (r.sw === SW.INS_NOT_SUPPORTED || r.sw === SW.INCORRECT_P1P2) return undefined;
    if (r.sw !== SW.OK) throw new CardStatusError(r.sw, 'PKA STATUS');
    const s = parsePkaStatus(r.data);
    if (!s.ok) throw new TargetError('malformed', s.error.message);
    return s.value;
  }

  /** INITIALIZE DEVICE (wipes the device, reference §3.4). */
  async initialize(options: InitializeOptions): Promise<void> {
    const cmd = initializeCommand(options);
    if (!cmd.ok) throw new TargetError('invalid', cmd.error.message);
    await this.run(cmd.value, 'INITIALIZE DEVICE');
  }

  /** Imports a CA or device certificate unless the card already knows it (reference §6.5 steps 1–3). */
  async importCertificate(cvc: Cvc): Promise<'known' | 'imported'> {
    const known = await this.channel.send(mseSetCommand('B6', cvc.body.chrBytes));
    if (known.sw === SW.OK) return 'known';
    if (known.sw !== SW.REFERENCED_DATA_NOT_FOUND) {
      throw new CardStatusError(known.sw, `MSE SET B6 ${cvc.body.chr}`);
    }
    if (cvc.body.car === undefined) throw new TargetError('invalid', `${cvc.body.chr} has no CAR`);
    await this.run(mseSetCommand('B6', asciiBytes(cvc.body.car)), `MSE SET B6 ${cvc.body.car}`);
    const pso = psoVerifyCertificateCommand(cvc.encoded);
    if (!pso.ok) throw new TargetError('invalid', pso.error.message);
    await this.run(pso.value, `PSO VERIFY CERTIFICATE ${cvc.body.chr}`);
    return 'imported';
  }

  /**
   * Registers a custodian key: DICA, then device certificate, then the authenticated request
   * against the device key (reference §6.5). Returns the new PKA status.
   */
  async registerKey(
    dica: Cvc,
    device: Cvc,
    request: Uint8Array,
    outerCar: string,
  ): Promise<PkaStatus> {
    await this.importCertificate(dica);
    await this.importCertificate(device);
    await this.run(mseSetCommand('B6', asciiBytes(outerCar)), `MSE SET B6 ${outerCar}`);
    const cmd = registerPkaKeyCommand(request);
    if (!cmd.ok) throw new TargetError('invalid', cmd.error.message);
    const r = await this.run(cmd.value, 'REGISTER PUBLIC KEY');
    const s = parsePkaStatus(r.data);
    if (!s.ok) throw new TargetError('malformed', s.error.message);
    return s.value;
  }

  /** GET CHALLENGE (8 bytes, reference §6.6 step 2). */
  async getChallenge(): Promise<Uint8Array> {
    const r = await this.run(getChallengeCommand(8), 'GET CHALLENGE');
    if (r.data.length !== 8)
      throw new TargetError('malformed', `challenge of ${r.data.length} bytes`);
    return r.data;
  }

  /**
   * MSE SET AT `A4` with the key CHR, then EXTERNAL AUTHENTICATE with plain r‖s (reference §6.6
   * steps 1 and 6). Resolves with the SW of the failing step or 9000; never throws on card SWs.
   */
  async authenticate(keyChr: string, plainSignature: Uint8Array): Promise<number> {
    const mse = await this.channel.send(mseSetCommand('A4', asciiBytes(keyChr)));
    if (mse.sw !== SW.OK) return mse.sw;
    const ext = externalAuthenticateCommand(plainSignature);
    if (!ext.ok) throw new TargetError('invalid', ext.error.message);
    return (await this.channel.send(ext.value)).sw;
  }

  /** SIGN a SHA-256 hash with key `keyId` (`80 68 <kid> 70`, reference §8.1); returns DER. */
  async signHash(keyId: number, hash: Uint8Array): Promise<Uint8Array> {
    const cmd = signCommand(keyId, ALGO.ECDSA_PREHASHED, hash);
    if (!cmd.ok) throw new TargetError('invalid', cmd.error.message);
    return (await this.run(cmd.value, `SIGN with key ${keyId}`)).data;
  }

  /** Ids of the private keys on the card (CCxx objects except the device key CC00, reference §2.2). */
  async listKeyIds(): Promise<number[]> {
    const r = await this.run(enumerateObjectsCommand(), 'ENUMERATE OBJECTS');
    const fids = parseObjectList(r.data);
    if (!fids.ok) throw new TargetError('malformed', fids.error.message);
    return fids.value
      .filter((f) => f >> 8 === PREFIX.KEY && (f & 0xff) !== 0)
      .map((f) => f & 0xff)
      .sort((a, b) => a - b);
  }

  /** Reads a public object (PRKD `C4xx`, certificate `CExx`); undefined when absent. */
  async readObject(prefix: number, id: number): Promise<Uint8Array | undefined> {
    const r = await this.channel.send(readBinaryCommand(objectFid(prefix, id)));
    if (r.sw === SW.FILE_NOT_FOUND) return undefined;
    if (r.sw !== SW.OK && r.sw !== SW.END_OF_FILE) throw new CardStatusError(r.sw, 'READ BINARY');
    return r.data;
  }
}
