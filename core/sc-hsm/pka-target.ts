/**
 * Target-side Public Key Authentication: status, registration with attestation (docs/card-reference.md
 * §6.4, §6.5) and the authentication steps (§6.6).
 * @module
 */
import { asciiBytes } from '../../shared/codec/bytes';
import { CardStatusError, SW } from '../../shared/card/status-words';
import {
  parseAuthenticatedRequest,
  parseCvc,
  type AuthenticatedRequest,
  type Cvc,
} from '../../shared/cvc/cvc';
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
import { transmit, type CommandSender } from './card-io';

/** PKA material that cannot be registered as given, or a PKA answer of the wrong shape. */
export class PkaError extends Error {
  override readonly name = 'PkaError';
}

/** One piece of PKA material: encoded bytes, or a parsed object carrying them in `encoded`. */
export type Encoded = Uint8Array | { readonly encoded: Uint8Array };

/** What registration needs: the custodian key's request and its device's chain (a `.pka` file's content). */
export type PkaRegistration = {
  /** Authenticated request `67` of the custodian key. */
  readonly request: Encoded;
  /** The custodian device's certificate (`7F21`). */
  readonly device: Encoded;
  /** The DICA certificate (`7F21`) that issued the device certificate. */
  readonly dica: Encoded;
};

const bytesOf = (e: Encoded): Uint8Array => (e instanceof Uint8Array ? e : e.encoded);

/** Answers meaning "this device is not configured for PKA" (docs/card-reference.md §6.4: OpenSC 6D00, Pico 6A86/6A82). */
const NOT_CONFIGURED: readonly number[] = [
  SW.INS_NOT_SUPPORTED,
  SW.INCORRECT_P1P2,
  SW.FILE_NOT_FOUND,
];

/** `80 54 00 00 04`; undefined when the device is not initialized for PKA. */
export async function pkaStatus(channel: CommandSender): Promise<PkaStatus | undefined> {
  const resp = await channel.send(pkaStatusCommand());
  if (NOT_CONFIGURED.includes(resp.sw)) return undefined;
  if (resp.sw !== SW.OK) throw new CardStatusError(resp.sw, 'MANAGE PKA status');
  const status = parsePkaStatus(resp.data);
  if (!status.ok) throw new PkaError(status.error.message);
  return status.value;
}

function parseMaterial(reg: PkaRegistration): {
  request: AuthenticatedRequest;
  device: Cvc;
  dica: Cvc;
} {
  const request = parseAuthenticatedRequest(bytesOf(reg.request));
  if (!request.ok) throw new PkaError(`custodian key request: ${request.error.message}`);
  const device = parseCvc(bytesOf(reg.device));
  if (!device.ok) throw new PkaError(`device certificate: ${device.error.message}`);
  const dica = parseCvc(bytesOf(reg.dica));
  if (!dica.ok) throw new PkaError(`DICA certificate: ${dica.error.message}`);
  // The links the card will check anyway; refusing early gives a clear message (docs/card-reference.md §6.5).
  if (device.value.body.car !== dica.value.body.chr) {
    throw new PkaError(
      `device certificate ${device.value.body.chr} was issued by ${device.value.body.car ?? '?'}, not by DICA ${dica.value.body.chr}`,
    );
  }
  if (request.value.outerCar !== device.value.body.chr) {
    throw new PkaError(
      `key request is attested by ${request.value.outerCar}, not by device ${device.value.body.chr}`,
    );
  }
  return { request: request.value, device: device.value, dica: dica.value };
}

/**
 * Makes the target know `cert`'s public key: MSE `B6` with its CHR answers `9000` if known,
 * `6A88` if not; then MSE `B6` with its CAR selects the issuer and PSO VERIFY CERTIFICATE
 * imports it (docs/card-reference.md §6.5 steps 1–3). OpenSC's check uses `&&` where `||` is needed
 * (§6.5 note); here anything but `9000`/`6A88` is an error.
 */
async function importCertificate(channel: CommandSender, cert: Cvc, what: string): Promise<void> {
  const known = await channel.send(mseSetCommand('B6', cert.body.chrBytes));
  if (known.sw === SW.OK) return;
  if (known.sw !== SW.REFERENCED_DATA_NOT_FOUND) {
    throw new CardStatusError(known.sw, `MSE SET B6 (is ${what} ${cert.body.chr} known?)`);
  }
  const car = cert.body.car;
  if (car === undefined) throw new PkaError(`${what} ${cert.body.chr} has no CAR`);
  await transmit(
    channel,
    mseSetCommand('B6', asciiBytes(car)),
    `MSE SET B6 (select issuer ${car} of ${what})`,
  );
  const pso = psoVerifyCertificateCommand(cert.encoded);
  if (!pso.ok) throw new PkaError(pso.error.message);
  await transmit(channel, pso.value, `PSO VERIFY CERTIFICATE (${what} ${cert.body.chr})`);
}

/**
 * Registers a custodian key at this (target) device: DICA, then device certificate, then MSE
 * `B6` with the request's outer CAR, then `80 54` with the request (docs/card-reference.md §6.5). Returns
 * the PKA status the card answers.
 */
export async function registerPublicKey(
  channel: CommandSender,
  reg: PkaRegistration,
): Promise<PkaStatus> {
  const { request, device, dica } = parseMaterial(reg);
  await importCertificate(channel, dica, 'DICA');
  await importCertificate(channel, device, 'device certificate');
  await transmit(
    channel,
    mseSetCommand('B6', asciiBytes(request.outerCar)),
    `MSE SET B6 (select attesting device ${request.outerCar})`,
  );
  const cmd = registerPkaKeyCommand(request.encoded);
  if (!cmd.ok) throw new PkaError(cmd.error.message);
  const resp = await transmit(channel, cmd.value, `MANAGE PKA register ${request.inner.body.chr}`);
  const status = parsePkaStatus(resp.data);
  if (!status.ok) throw new PkaError(status.error.message);
  return status.value;
}

/** `00 22 81 A4 83 <CHR>`: select the registered key that will authenticate (docs/card-reference.md §6.6 step 1). */
export async function selectPkaKey(channel: CommandSender, keyChr: Uint8Array): Promise<void> {
  await transmit(channel, mseSetCommand('A4', keyChr), 'MSE SET AT (select PKA key)');
}

/** `00 84 00 00 <len>`: the challenge to be signed (docs/card-reference.md §6.6 step 2). */
export async function getChallenge(channel: CommandSender, length = 8): Promise<Uint8Array> {
  const resp = await transmit(channel, getChallengeCommand(length), 'GET CHALLENGE');
  if (resp.data.length !== length) {
    throw new PkaError(`GET CHALLENGE returned ${resp.data.length} bytes, expected ${length}`);
  }
  return resp.data;
}

/** `00 82 00 00 <r‖s>`: present the custodian's signature (docs/card-reference.md §6.6 step 6). */
export async function externalAuthenticate(
  channel: CommandSender,
  signature: Uint8Array,
): Promise<void> {
  const cmd = externalAuthenticateCommand(signature);
  if (!cmd.ok) throw new PkaError(cmd.error.message);
  await transmit(channel, cmd.value, 'EXTERNAL AUTHENTICATE');
}
