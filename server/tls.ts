/**
 * TLS material: a configured cert/key pair, or a self-signed pair generated with the `openssl`
 * CLI into the data directory on first start. Custodians pin the certificate's SHA-256
 * fingerprint (printed at start and in every invite), so no CA is involved.
 * @module
 */
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { chmodSync, existsSync, readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import type { ServerConfig } from './config';
import { messageOf } from '../shared/error-message';

/** Loaded TLS material. */
export type TlsMaterial = {
  readonly cert: string;
  readonly key: string;
  /** SHA-256 of the DER certificate, colon-separated upper-case hex (what custodians pin). */
  readonly fingerprint: string;
};

/** SHA-256 fingerprint of a PEM certificate. */
export function certificateFingerprint(pem: string): string {
  return new X509Certificate(pem).fingerprint256;
}

/** Subject alternative names for the self-signed certificate. */
function altNames(host: string): string {
  const names = new Set(['DNS:localhost', 'IP:127.0.0.1', 'IP:::1']);
  if (host !== '0.0.0.0' && host !== '::') names.add(isIP(host) ? `IP:${host}` : `DNS:${host}`);
  return [...names].join(',');
}

/**
 * Generates a P-256 key and a self-signed certificate (825 days) with the openssl CLI unless
 * both files already exist in `dir`. The key file is 0600.
 */
export function ensureSelfSigned(dir: string, host: string): { cert: string; key: string } {
  const cert = join(dir, 'tls-cert.pem');
  const key = join(dir, 'tls-key.pem');
  if (existsSync(cert) && existsSync(key)) return { cert, key };
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-keyout',
        key,
        '-out',
        cert,
        '-days',
        '825',
        '-subj',
        '/CN=custodian-server',
        '-addext',
        `subjectAltName=${altNames(host)}`,
      ],
      { stdio: 'pipe' },
    );
  } catch (e) {
    const stderr = (e as { stderr?: Uint8Array }).stderr;
    const detail = stderr ? new TextDecoder().decode(stderr).trim() : messageOf(e);
    throw new Error(`could not generate a self-signed certificate with openssl: ${detail}`);
  }
  chmodSync(key, 0o600);
  return { cert, key };
}

/** Loads the TLS material the config asks for, or undefined for plain ws (loopback only). */
export function loadTls(config: ServerConfig): TlsMaterial | undefined {
  if (config.tls === undefined) return undefined;
  const files =
    config.tls === 'self-signed'
      ? ensureSelfSigned(config.dataDir, config.listen.host)
      : config.tls;
  const cert = readFileSync(files.cert, 'utf8');
  const key = readFileSync(files.key, 'utf8');
  return { cert, key, fingerprint: certificateFingerprint(cert) };
}
