/**
 * Enrollment, the use case both front ends share (`custodian enroll`, the desktop app's "add a
 * server"): one connection without reconnect that exchanges the one-time enrollment token and
 * the custodian's `.pka` for a session credential, then the audit entry that records it. The
 * PKA key never authenticates the transport (docs/protocol.md "Authentication"). Where the
 * `.pka` comes from and where the credential and config are kept is the front end's part.
 * @module
 */
import { toHex } from '../../shared/codec/bytes';
import { PROTOCOL_VERSION } from '../../shared/protocol/index';
import { err, ok, type Result } from '../../shared/result';
import { createServerClient } from '../net/ws-client';
import type { WsConnector } from '../net/ws-transport';
import type { AuditAppender } from './engine-types';

/** What enrollment needs. */
export type EnrollRequest = {
  /** The custodian WebSocket URL. */
  readonly url: string;
  /** Connects with the server's TLS pin. */
  readonly connector: WsConnector;
  /** The one-time enrollment token (form checked by the caller, everything else by the server). */
  readonly token: string;
  /** The custodian key's registration data (docs/card-reference.md §6.2). */
  readonly pka: Uint8Array;
  readonly keyId: number;
  /** How long the server may take to answer. */
  readonly timeoutMs: number;
  readonly client: { readonly name: string; readonly version: string };
  /** Hears every `error` frame the server sends on the way (the CLI prints them). */
  readonly onServerError?: (code: string, message: string) => void;
  /** Hears every frame that failed the protocol contract (the CLI prints them). */
  readonly onInvalidFrame?: (message: string) => void;
};

/** The session the server issued, and the server's own display name (`welcome.serverName`). */
export type Enrolled = {
  readonly custodianId: string;
  readonly credential: string;
  readonly serverName?: string;
};

/**
 * Why enrollment failed. `refused`: the server said why (an `error` frame, else an invalid
 * frame) before the connection ended; `disconnected`: it ended without a word (TLS pin,
 * network); `reason` is the connection's own account in both.
 */
export type EnrollFailure =
  | { readonly kind: 'timeout'; readonly message: string }
  | { readonly kind: 'no-credential'; readonly message: string }
  | { readonly kind: 'refused'; readonly message: string; readonly reason: string }
  | { readonly kind: 'disconnected'; readonly message: string; readonly reason: string };

/** Enrolls once (no reconnect). Never rejects. */
export function enrollOnce(r: EnrollRequest): Promise<Result<Enrolled, EnrollFailure>> {
  return new Promise((resolve) => {
    let serverSaid: string | undefined;
    let done = false;
    const finish = (v: Result<Enrolled, EnrollFailure>) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      client.stop('enrollment finished');
      resolve(v);
    };
    const timer = setTimeout(
      () => finish(err({ kind: 'timeout', message: `no answer within ${r.timeoutMs / 1000} s` })),
      r.timeoutMs,
    );
    const client = createServerClient({
      url: r.url,
      connector: r.connector,
      reconnect: false,
      hello: () => ({
        v: PROTOCOL_VERSION,
        type: 'hello',
        client: r.client,
        auth: { kind: 'enroll', token: r.token, pka: toHex(r.pka), keyId: r.keyId },
      }),
      onMessage: (m) => {
        if (m.type === 'welcome') {
          finish(
            m.credential === undefined
              ? err({ kind: 'no-credential', message: 'the server did not issue a credential' })
              : ok({
                  custodianId: m.custodianId,
                  credential: m.credential,
                  ...(m.serverName === undefined ? {} : { serverName: m.serverName }),
                }),
          );
        } else if (m.type === 'error') {
          serverSaid = m.message;
          r.onServerError?.(m.code, m.message);
        }
      },
      onState: (s) => {
        if (s.kind !== 'stopped' || done) return;
        finish(
          err(
            serverSaid !== undefined
              ? { kind: 'refused', message: serverSaid, reason: s.reason }
              : { kind: 'disconnected', message: s.reason, reason: s.reason },
          ),
        );
      },
      onInvalidFrame: (f) => {
        serverSaid ??= `invalid frame: ${f.error.message}`;
        r.onInvalidFrame?.(f.error.message);
      },
    });
    client.start();
  });
}

/** The audit entry of an enrollment (what both front ends record). */
export type EnrollmentRecord = {
  readonly server: string;
  readonly custodianId: string;
  readonly keyId: number;
  readonly keyChr?: string;
};

/** Appends the enrollment to the audit log (throws like the log does). */
export function auditEnrollment(audit: AuditAppender, record: EnrollmentRecord): void {
  audit.append('enrollment', {
    server: record.server,
    custodianId: record.custodianId,
    keyId: record.keyId,
    ...(record.keyChr !== undefined ? { keyChr: record.keyChr } : {}),
  });
}
