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
import { createServerClient } from '../../core/net/ws-client';
import { createWsConnector } from '../../core/net/ws-transport';
import { SmartCardHsm } from '../../core/sc-hsm/sc-hsm-session';
import { PROTOCOL_VERSION, secretSchema } from '../../shared/protocol/index';
import { toHex } from '../../shared/codec/bytes';
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

  const outcome = await new Promise<{ custodianId: string; credential: string }>(
    (resolveP, reject) => {
      const timer = setTimeout(() => {
        client.stop('timeout');
        reject(new Error(`no answer from ${url} within ${timeoutMs / 1000} s`));
      }, timeoutMs);
      const client = createServerClient({
        url,
        connector: deps.connector ?? createWsConnector(pin ? { pin } : {}),
        reconnect: false,
        hello: () => ({
          v: PROTOCOL_VERSION,
          type: 'hello',
          client: { name: 'custodian-cli', version: '0.1.0' },
          auth: { kind: 'enroll', token: opts.token, pka: toHex(pka), keyId },
        }),
        onMessage: (m) => {
          if (m.type === 'welcome') {
            clearTimeout(timer);
            client.stop('enrolled');
            if (m.credential === undefined)
              reject(new Error('the server did not issue a credential'));
            else resolveP({ custodianId: m.custodianId, credential: m.credential });
          } else if (m.type === 'error') {
            deps.io.err(`custodian: server: ${m.code}: ${m.message}\n`);
          }
        },
        onState: (s) => {
          if (s.kind === 'stopped' && s.reason !== 'enrolled') {
            clearTimeout(timer);
            reject(new Error(`enrollment failed: ${s.reason}`));
          }
        },
        onInvalidFrame: (f) =>
          deps.io.err(`custodian: invalid frame from the server: ${f.error.message}\n`),
      });
      client.start();
    },
  );

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
    audit.append('enrollment', { server: url, custodianId: outcome.custodianId, keyId });
  } finally {
    audit.close();
  }
  deps.io.out(`enrolled as ${outcome.custodianId} at ${url}; credential stored in ${home}\n`);
}
