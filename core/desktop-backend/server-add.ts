/**
 * The first-run steps of the desktop app: preview an invitation (address, the certificate
 * fingerprint to compare with the letter, the roots this app trusts), then add the server:
 * read the `.pka` of the custodian card, enroll once, and save the server home and the
 * session credential. Also remembers a newly created key in the config, like `custodian key
 * create` does.
 * @module
 */
import type { TrustAnchor } from '../../shared/cvc/chain';
import { ipcError, type IpcError } from '../../shared/ipc/errors';
import type { PkaKeyView, ServerPreview } from '../../shared/ipc/model';
import { err, ok, type Result } from '../../shared/result';
import {
  ensureHome,
  loadCustodianConfig,
  saveCustodianConfig,
  type CustodianConfig,
} from '../config/custodian-config';
import { auditEnrollment, enrollOnce } from '../custodian/enroll';
import type { AuditAppender } from '../custodian/engine-types';
import type { ServerPin } from '../net/url-policy';
import type { WsConnector } from '../net/ws-transport';
import { anchorViews } from './anchors';
import type { CardAccess, OpenedCard } from './card-access';
import { exportPka } from './card-views';
import {
  DEFAULT_SERVER_ID,
  newServerHome,
  removeServerHome,
  saveServerCredential,
  type CredentialPort,
  type ServerHome,
} from './server-homes';
import {
  NO_TLS_FINGERPRINT,
  readInvitation,
  enrollmentError,
  pinOf,
  readTlsFingerprint,
  wsUrlOf,
  type FingerprintReader,
} from './server-setup';
import { messageOf } from '../../shared/error-message';

/** What the setup needs from the backend. */
export type ServerSetupDeps = {
  readonly root: string;
  readonly anchors: readonly TrustAnchor[];
  readonly cards: CardAccess;
  readonly open: (reader: string) => () => Promise<OpenedCard>;
  readonly serial: <T>(fn: () => Promise<T>) => Promise<T>;
  readonly connectorFor: (pin: ServerPin | undefined) => WsConnector;
  readonly client: { readonly name: string; readonly version: string };
  readonly readFingerprint: FingerprintReader | undefined;
  readonly credentials: CredentialPort | undefined;
  readonly timeoutMs: number;
  readonly now: () => Date;
  /** The app's audit log (enrollment is recorded like `custodian enroll` does). */
  readonly audit: AuditAppender;
};

/** The setup service. */
export type ServerSetup = {
  preview(r: { url: string; invite: string }): Promise<Result<ServerPreview, IpcError>>;
  add(r: { url: string; invite: string }): Promise<Result<ServerHome, IpcError>>;
  remove(serverId: string): Promise<void>;
  rememberKey(key: PkaKeyView, reader: string): void;
};

/** Creates the setup service. */
export function createServerSetup(d: ServerSetupDeps): ServerSetup {
  const readFp = d.readFingerprint ?? readTlsFingerprint;
  // What each preview showed: `add` pins exactly the certificate the custodian compared.
  const shown = new Map<string, string>();

  const fingerprintOf = async (url: URL): Promise<Result<string, IpcError>> => {
    if (url.protocol === 'ws:') return ok(NO_TLS_FINGERPRINT);
    try {
      return ok((await readFp(url)).toUpperCase());
    } catch (e) {
      return err(ipcError('server-unreachable', `${url.host}: ${messageOf(e)}`));
    }
  };

  /** The custodian card with a PKA key: the only card present that has one. */
  const findCard = async (): Promise<
    Result<{ reader: string; pka: Uint8Array; key: PkaKeyView }, IpcError>
  > => {
    let readers;
    try {
      readers = await d.cards.listReaders();
    } catch (e) {
      return err(ipcError('no-reader', messageOf(e)));
    }
    if (readers.length === 0) return err(ipcError('no-reader', 'no card reader is connected'));
    const withCard = readers.filter((r) => r.cardPresent);
    if (withCard.length === 0) return err(ipcError('no-card', 'no reader holds a card'));
    let last: IpcError = ipcError('no-key', 'no card holds a custodian key');
    for (const r of withCard) {
      const keyId = loadCustodianConfig(d.root);
      const exported = await d.serial(() =>
        exportPka({
          reader: r.name,
          open: d.open(r.name),
          anchors: d.anchors,
          keyId: keyId.ok ? keyId.value.keyId : undefined,
          now: d.now(),
        }),
      );
      if (exported.ok)
        return ok({ reader: r.name, pka: exported.value.bytes, key: exported.value.key });
      last = exported.error;
    }
    return err(last);
  };

  return {
    async preview({ url: address, invite }) {
      const url = wsUrlOf(address);
      if (!url.ok) return url;
      const invitation = readInvitation(invite, url.value);
      if (!invitation.ok) return invitation;
      const fp = await fingerprintOf(url.value);
      if (!fp.ok) return fp;
      shown.set(url.value.toString(), fp.value);
      const { serverName } = invitation.value;
      return ok({
        url: address,
        // As the invitation names it; the address and the certificate are shown beside it.
        name: serverName ?? url.value.host,
        nameSource: serverName === undefined ? 'address' : 'invitation',
        // The server names the custodian only to the admin.
        custodianName: 'as named in your invitation letter',
        tlsFingerprint: fp.value,
        ...(invitation.value.fingerprint === undefined
          ? {}
          : { invitationFingerprint: invitation.value.fingerprint }),
        anchors: anchorViews(d.anchors),
      });
    },
    async add({ url: address, invite }) {
      const url = wsUrlOf(address);
      if (!url.ok) return url;
      const invitation = readInvitation(invite, url.value);
      if (!invitation.ok) return invitation;
      const fp = await fingerprintOf(url.value);
      if (!fp.ok) return fp;
      if (
        invitation.value.fingerprint !== undefined &&
        invitation.value.fingerprint !== fp.value &&
        url.value.protocol === 'wss:'
      )
        return err(
          ipcError('server-identity', 'the server certificate is not the one the invitation names'),
        );
      const previewed = shown.get(url.value.toString());
      if (previewed === undefined)
        return err(ipcError('invalid-request', 'check the invitation before connecting'));
      if (previewed !== fp.value)
        return err(
          ipcError('server-identity', 'the server certificate changed since it was shown'),
        );
      const card = await findCard();
      if (!card.ok) return card;
      const enrolled = await enrollOnce({
        url: url.value.toString(),
        connector: d.connectorFor(pinOf(url.value, fp.value)),
        token: invitation.value.token,
        pka: card.value.pka,
        keyId: card.value.key.keyId,
        timeoutMs: d.timeoutMs,
        client: d.client,
      });
      if (!enrolled.ok) return err(enrollmentError(enrolled.error));
      const root = loadCustodianConfig(d.root);
      const rootHasServer = root.ok && root.value.server !== undefined;
      const target = rootHasServer
        ? newServerHome(d.root)
        : { id: DEFAULT_SERVER_ID, home: d.root };
      const base: CustodianConfig =
        target.id === DEFAULT_SERVER_ID && root.ok ? root.value : { version: 1, trustAnchors: [] };
      // The name the custodian was shown (the invitation's), else the server's own (`welcome`).
      const name = invitation.value.serverName ?? enrolled.value.serverName;
      const config = {
        ...base,
        server: {
          url: url.value.toString(),
          ...(url.value.protocol === 'wss:' ? { fingerprint: fp.value.toLowerCase() } : {}),
          ...(name === undefined ? {} : { name }),
        },
        custodianId: enrolled.value.custodianId,
        keyId: card.value.key.keyId,
        keyChr: card.value.key.chr,
        reader: card.value.reader,
      };
      ensureHome(target.home);
      const stored = await saveServerCredential(target, enrolled.value.credential, d.credentials);
      if (stored !== undefined) return err(ipcError('unavailable', stored));
      const saved = saveCustodianConfig(target.home, config);
      if (!saved.ok) return err(ipcError('internal', saved.error.message));
      shown.delete(url.value.toString());
      try {
        auditEnrollment(d.audit, {
          server: url.value.toString(),
          custodianId: enrolled.value.custodianId,
          keyId: card.value.key.keyId,
          keyChr: card.value.key.chr,
        });
      } catch {
        // Enrolled and saved; the audit problem shows when the log is verified or next written.
      }
      return ok({ ...target, config });
    },
    async remove(serverId) {
      await d.credentials?.remove(serverId).catch(() => undefined);
      if (serverId === DEFAULT_SERVER_ID) {
        // The CLI's home: keep key and anchors, forget the server.
        const c = loadCustodianConfig(d.root);
        if (c.ok) {
          const { server: _server, custodianId: _id, ...rest } = c.value;
          saveCustodianConfig(d.root, rest);
        }
      } else removeServerHome(d.root, serverId);
    },
    rememberKey(key, reader) {
      const c = loadCustodianConfig(d.root);
      if (!c.ok && c.error.code !== 'not-found') return;
      const base: CustodianConfig = c.ok ? c.value : { version: 1, trustAnchors: [] };
      saveCustodianConfig(d.root, { ...base, keyId: key.keyId, keyChr: key.chr, reader });
    },
  };
}
