/**
 * The `--ca FILE` / `--fingerprint SHA256` options and the config's server entry → a TLS pin
 * and a checked URL (docs/card-reference.md §14.2 item 4).
 * @module
 */
import { readFileSync } from 'node:fs';
import { checkServerUrl, normalizeFingerprint, type ServerPin } from '../../core/net/url-policy';
import { UsageError } from '../errors';
import { messageOf } from '../../shared/error-message';

/** Server address options. */
export type ServerOptions = {
  readonly server: string;
  readonly ca?: string;
  readonly fingerprint?: string;
};

/** Builds the pin and checks the URL; throws UsageError with the reason. */
export function serverPin(opts: ServerOptions): { url: string; pin: ServerPin | undefined } {
  if (opts.ca !== undefined && opts.fingerprint !== undefined) {
    throw new UsageError('use either --ca or --fingerprint, not both');
  }
  let pin: ServerPin | undefined;
  if (opts.fingerprint !== undefined) {
    const fp = normalizeFingerprint(opts.fingerprint);
    if (!fp)
      throw new UsageError(
        '--fingerprint must be a SHA-256 fingerprint (64 hex digits, colons allowed)',
      );
    pin = { kind: 'fingerprint', sha256: fp };
  } else if (opts.ca !== undefined) {
    let pem: string;
    try {
      pem = readFileSync(opts.ca, 'utf8');
    } catch (e) {
      throw new UsageError(`cannot read CA file ${opts.ca}: ${messageOf(e)}`);
    }
    if (!pem.includes('-----BEGIN CERTIFICATE-----'))
      throw new UsageError(`${opts.ca} is not a PEM certificate`);
    pin = { kind: 'ca', pem };
  }
  const checked = checkServerUrl(opts.server, pin);
  if (!checked.ok) throw new UsageError(checked.error.message);
  return { url: checked.value.toString(), pin };
}
