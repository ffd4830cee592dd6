/**
 * `custodian enroll`: exchanges the one-time enrollment token (and the custodian's `.pka`
 * registration data) for a session credential. The credential goes to a 0600 file, the
 * server address and its pin to the config. The PKA key is never used to authenticate the
 * transport (docs/protocol.md "Authentication").
 * @module
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describeAuditRecovery, openAuditLog } from '../../core/audit/audit-log';
import { ApduChannel } from '../../core/card/apdu-channel';
import {
  auditFilePath,
  custodianHome,
  ensureHome,
  loadCustodianConfig,
  saveCredential,
  saveCustodianConfig,
  type CustodianConfig,
} from '../../core/config/custodian-config';
import { auditEnrollment, enrollOnce, type EnrollFailure } from '../../core/custodian/enroll';
import { createWsConnector } from '../../core/net/ws-transport';
import { SmartCardHsm } from '../../core/sc-hsm/sc-hsm-session';
import { secretSchema } from '../../shared/protocol/index';
import { parsePkaFile } from '../../shared/pka/pka-file';
import { UsageError } from '../errors';
import { cardOpener, type CardChoice, type CustodianCommandDeps } from './deps';
import { parseKeyId } from './key-commands';
import { serverPin, type ServerOptions } from './server-pin';
import { messageOf } from '../../shared/error-message';

/** Options of `enroll`. */
export type EnrollOptions = ServerOptions &
  CardChoice & {
    readonly token: string;
    readonly pka?: string;
    readonly keyId?: string;
    readonly trustAnchor: readonly string[];
    readonly timeoutSeconds?: string;
  };

async function pkaBytes(
  opts: EnrollOptions,
  keyId: number,
  deps: CustodianCommandDeps,
): Promise<Uint8Array> {
  if (opts.pka !== undefined) {
    try {
      return new Uint8Array(readFileSync(opts.pka));
    } catch (e) {
      throw new UsageError(`cannot read ${opts.pka}: ${messageOf(e)}`);
    }
  }
  const transport = await cardOpener(opts, deps)();
  try {
    const hsm = new SmartCardHsm(new ApduChannel(transport));
    await hsm.select();
    return await hsm.exportPka(keyId);
  } finally {
    await transport.close('reset');
  }
}

/** CHR of the key in a `.pka` file (docs/card-reference.md §6.2), if it parses. */
function keyChrOf(pka: Uint8Array): string | undefined {
  const parsed = parsePkaFile(pka);
  return parsed.ok ? parsed.value.request.inner.body.chr : undefined;
}

/** The CLI's words for a failed enrollment. */
function enrollFailureText(f: EnrollFailure, url: string, timeoutMs: number): string {
  switch (f.kind) {
    case 'timeout':
      return `no answer from ${url} within ${timeoutMs / 1000} s`;
    case 'no-credential':
      return f.message;
    case 'refused':
    case 'disconnected':
      return `enrollment failed: ${f.reason}`;
  }
}

/** Runs `enroll`. */
export async function enroll(opts: EnrollOptions, deps: CustodianCommandDeps): Promise<void> {
  if (!secretSchema.safeParse(opts.token).success) {
    throw new UsageError('the enrollment token must be 22–256 characters of A–Z a–z 0–9 _ -');
  }
  const home = custodianHome(deps.env ?? process.env);
  const existing = loadCustodianConfig(home);
  if (!existing.ok && existing.error.code !== 'not-found')
    throw new UsageError(existing.error.message);
  const base: CustodianConfig = existing.ok ? existing.value : { version: 1, trustAnchors: [] };
  const keyIdText = opts.keyId ?? (base.keyId !== undefined ? String(base.keyId) : undefined);
  if (keyIdText === undefined)
    throw new UsageError('which key? pass --key-id N (see `custodian key create`)');
  const keyId = parseKeyId(keyIdText);
  const { url, pin } = serverPin(opts);
  const pka = await pkaBytes(opts, keyId, deps);
  const timeoutMs = 1000 * Number(opts.timeoutSeconds ?? '30');
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0)
    throw new UsageError('--timeout must be a positive number of seconds');

  const enrolled = await enrollOnce({
    url,
    connector: deps.connector ?? createWsConnector(pin ? { pin } : {}),
    token: opts.token,
    pka,
    keyId,
    timeoutMs,
    client: { name: 'custodian-cli', version: '0.1.0' },
    onServerError: (code, message) => deps.io.err(`custodian: server: ${code}: ${message}\n`),
    onInvalidFrame: (message) =>
      deps.io.err(`custodian: invalid frame from the server: ${message}\n`),
  });
  if (!enrolled.ok) throw new Error(enrollFailureText(enrolled.error, url, timeoutMs));
  const outcome = enrolled.value;

  ensureHome(home);
  saveCredential(home, outcome.credential);
  const server: NonNullable<CustodianConfig['server']> =
    pin?.kind === 'fingerprint'
      ? { url, fingerprint: pin.sha256 }
      : pin?.kind === 'ca' && opts.ca !== undefined
        ? { url, caFile: resolve(opts.ca) }
        : { url };
  const anchors = [...new Set([...base.trustAnchors, ...opts.trustAnchor.map((f) => resolve(f))])];
  const config: CustodianConfig = {
    ...base,
    server,
    custodianId: outcome.custodianId,
    keyId,
    ...(keyChrOf(pka) !== undefined ? { keyChr: keyChrOf(pka)! } : {}),
    trustAnchors: anchors,
    ...(opts.reader !== undefined ? { reader: opts.reader } : {}),
    ...(opts.emulator !== undefined ? { emulator: resolve(opts.emulator) } : {}),
  };
  const saved = saveCustodianConfig(home, config);
  if (!saved.ok) throw new UsageError(saved.error.message);
  const audit = openAuditLog(auditFilePath(home, config));
  if (audit.recovered) deps.io.err(`${describeAuditRecovery(audit.recovered)}\n`);
  try {
    auditEnrollment(audit, { server: url, custodianId: outcome.custodianId, keyId });
  } finally {
    audit.close();
  }
  deps.io.out(`enrolled as ${outcome.custodianId} at ${url}; credential stored in ${home}\n`);
}
