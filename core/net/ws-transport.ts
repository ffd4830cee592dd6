/**
 * The WebSocket port of the custodian client and its `ws` implementation. TLS is pinned: by CA
 * (only that CA may have issued the server certificate, hostname checked as usual) or by the
 * SHA-256 fingerprint of the server certificate, checked right after the TLS handshake and
 * before the HTTP upgrade request is written (docs/card-reference.md §14.2 item 4).
 * @module
 */
import type { Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions, type TLSSocket } from 'node:tls';
import WebSocket from 'ws';
import { LIMITS, PROTOCOL_NAME } from '../../shared/protocol/limits';
import { normalizeFingerprint, type ServerPin } from './url-policy';

/** What a connection reports. Exactly one `onClose` ends every connection (also after errors). */
export type WsEvents = {
  onOpen(): void;
  /** A text frame. */
  onText(text: string): void;
  /** A frame that is not text (binary frames are not part of the protocol). */
  onBadFrame(reason: string): void;
  onError(error: Error): void;
  onClose(code: number, reason: string): void;
};

/** One connection. */
export type WsConnection = {
  send(text: string): void;
  /** Closes with a code (RFC 6455 §7.4) and a short reason. */
  close(code: number, reason: string): void;
  /** Drops the connection without a closing handshake (dead peer). */
  terminate(): void;
};

/** Opens a connection to `url`. Must not throw: failures are reported through the events. */
export type WsConnector = (url: string, events: WsEvents) => WsConnection;

/** Options of the `ws` connector. */
export type WsConnectorOptions = {
  /** TLS pin for wss:// (required for wss:// by the URL policy). */
  readonly pin?: ServerPin;
  /** Opening handshake timeout (default 10 s). */
  readonly handshakeTimeoutMs?: number;
};

type CreateConnection = (
  options: ConnectionOptions,
  callback: (error: Error | null, socket?: Socket) => void,
) => undefined;

/**
 * A TLS connect that only hands the socket to the HTTP layer once the peer certificate's
 * SHA-256 matches `pinned` (chain validation is replaced by the pin, so self-signed server
 * certificates work). Node's ClientRequest accepts this asynchronous callback form.
 */
function pinnedFingerprintConnect(pinned: string): CreateConnection {
  return (options, callback) => {
    const host = options.host ?? 'localhost';
    const servername = options.servername ?? (/^[\d.:]+$/.test(host) ? '' : host);
    const socket: TLSSocket = tlsConnect({ ...options, servername, rejectUnauthorized: false });
    let done = false;
    const finish = (error: Error | null): void => {
      if (done) return;
      done = true;
      if (error) {
        socket.destroy();
        callback(error);
      } else callback(null, socket);
    };
    socket.once('secureConnect', () => {
      const cert = socket.getPeerCertificate();
      const seen =
        cert && cert.fingerprint256 ? normalizeFingerprint(cert.fingerprint256) : undefined;
      if (seen !== pinned) {
        finish(
          new Error(
            `server certificate fingerprint ${seen ?? '(none)'} does not match the pinned ${pinned}`,
          ),
        );
      } else finish(null);
    });
    socket.once('error', (e) => finish(e));
    return undefined;
  };
}

/** The `ws` connector: subprotocol `custodian.v1`, no compression, frames capped at 64 KiB. */
export function createWsConnector(options: WsConnectorOptions = {}): WsConnector {
  return (url, events) => {
    const wsOptions: WebSocket.ClientOptions = {
      handshakeTimeout: options.handshakeTimeoutMs ?? 10_000,
      maxPayload: LIMITS.frameBytes,
      perMessageDeflate: false,
      followRedirects: false,
    };
    const pin = options.pin;
    if (pin?.kind === 'ca') {
      wsOptions.ca = pin.pem;
      wsOptions.rejectUnauthorized = true;
    } else if (pin?.kind === 'fingerprint') {
      const fp = normalizeFingerprint(pin.sha256);
      if (fp === undefined) throw new Error('invalid pinned fingerprint');
      wsOptions.createConnection = pinnedFingerprintConnect(
        fp,
      ) as unknown as WebSocket.ClientOptions['createConnection'];
    }
    let closed = false;
    const closeOnce = (code: number, reason: string): void => {
      if (closed) return;
      closed = true;
      events.onClose(code, reason);
    };
    let ws: WebSocket;
    try {
      ws = new WebSocket(url, PROTOCOL_NAME, wsOptions);
    } catch (e) {
      queueMicrotask(() => {
        events.onError(e as Error);
        closeOnce(1006, 'connect failed');
      });
      return { send() {}, close() {}, terminate() {} };
    }
    ws.on('open', () => {
      if (ws.protocol !== PROTOCOL_NAME) {
        events.onError(new Error(`server did not agree to subprotocol ${PROTOCOL_NAME}`));
        ws.close(1002, 'subprotocol');
        return;
      }
      events.onOpen();
    });
    ws.on('message', (data, isBinary) => {
      if (isBinary) {
        events.onBadFrame('binary frame');
        return;
      }
      const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
      events.onText(buf.toString('utf8'));
    });
    // docs/protocol.md §2: a frame over the limit is refused unparsed; `ws` then closes with 1009
    // but reports 1006 locally. Report it as a bad frame and as 1009, which is not retried (§10).
    let tooBig = false;
    ws.on('error', (e) => {
      if ((e as { code?: unknown }).code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH' && !tooBig) {
        tooBig = true;
        events.onBadFrame(`frame larger than ${LIMITS.frameBytes} bytes`);
      }
      events.onError(e);
    });
    ws.on('close', (code, reason) =>
      tooBig
        ? closeOnce(1009, 'frame too big')
        : closeOnce(code, reason.toString('utf8').slice(0, 123)),
    );
    return {
      send(text) {
        if (ws.readyState === WebSocket.OPEN) ws.send(text);
      },
      close(code, reason) {
        if (ws.readyState === WebSocket.CONNECTING) ws.terminate();
        else ws.close(code, reason);
      },
      terminate() {
        ws.terminate();
      },
    };
  };
}
