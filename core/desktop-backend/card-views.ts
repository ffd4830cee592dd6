/**
 * The custodian card as the desktop app shows it, and the two card actions outside ceremonies:
 * creating the PKA key (docs/card-reference.md §6.2: brainpoolP256r1, ECDSA-SHA-256 only) and exporting its
 * `.pka`. Everything goes through SmartCardHsm; the chain check is shared/cvc's. A card action
 * never retries a PIN and always ends with a reset (docs/card-reference.md §6.7).
 * @module
 */
import { wipe } from '../../shared/codec/bytes';
import type { TrustAnchor } from '../../shared/cvc/chain';
import { ipcError, type IpcError } from '../../shared/ipc/errors';
import type { CardView, ChainStatus, PkaKeyView } from '../../shared/ipc/model';
import { err, ok, type Result } from '../../shared/result';
import { validateUserPin } from '../../shared/sc-hsm/pin';
import { ApduChannel } from '../card/apdu-channel';
import { verifyPinOnPinpad } from '../pinpad/verify-pin-direct';
import { SmartCardHsm } from '../sc-hsm/sc-hsm-session';
import type { KeyInfo } from '../sc-hsm/types';
import { hasPinPad, type OpenedCard } from './card-access';
import { cardFailure } from './errors';
import { deviceReport } from '../card-report';

/** The chain verdict in the UI's words: a chain to a non-built-in root is a TEST device. */
export function chainStatusOf(
  ef2f02: Uint8Array | undefined,
  anchors: readonly TrustAnchor[],
  now: Date,
): { status: ChainStatus; deviceId: string | undefined } {
  const r = deviceReport(ef2f02, anchors, now);
  if (!r.genuine) {
    return {
      status: { status: r.code === 'unknown-root' ? 'untrusted' : 'invalid', detail: r.reason },
      deviceId: r.deviceId,
    };
  }
  const anchor = r.anchor.cvc.body.chr;
  return {
    status:
      r.anchor.source === 'built-in'
        ? { status: 'genuine', anchor }
        : {
            status: 'test',
            anchor,
            // Only configured roots are not built in (engine-backend.ts): say where it came from.
            detail: `${anchor} is a test root configured on this computer (${r.anchor.label})`,
          },
    deviceId: r.deviceId,
  };
}

/** The PKA key the app uses: the configured key id, else the first key with a request. */
export function pkaKeyOf(keys: readonly KeyInfo[], keyId: number | undefined): PkaKeyView | null {
  const key =
    keyId !== undefined
      ? keys.find((k) => k.id === keyId)
      : keys.find((k) => k.hasRequest && k.chr !== undefined);
  if (!key || key.chr === undefined || !key.hasRequest) return null;
  const curve = key.curve === 'secp256r1' ? 'secp256r1' : 'brainpoolP256r1';
  return { keyId: key.id, label: key.label ?? 'PKA key', chr: key.chr, curve };
}

/** Reads everything the card view shows from a selected session. */
async function describe(
  reader: string,
  card: OpenedCard,
  hsm: SmartCardHsm,
  anchors: readonly TrustAnchor[],
  keyId: number | undefined,
  now: Date,
): Promise<CardView> {
  const pin = await hsm.pinStatus();
  const chain = chainStatusOf(await hsm.readDeviceCertificates(), anchors, now);
  const initialized = pin.state !== 'not-initialized';
  const keys = initialized ? await hsm.listKeys() : [];
  return {
    reader,
    deviceId: chain.deviceId ?? 'unknown',
    chain: chain.status,
    pin:
      pin.retries === undefined ? { state: pin.state } : { state: pin.state, retries: pin.retries },
    pkaKey: pkaKeyOf(keys, keyId),
    pinPad: await hasPinPad(card),
  };
}

/** Runs `fn` on the opened card inside one transaction; always resets and releases it. */
export async function withCard<T>(
  open: () => Promise<OpenedCard>,
  what: string,
  fn: (card: OpenedCard, hsm: SmartCardHsm) => Promise<Result<T, IpcError>>,
): Promise<Result<T, IpcError>> {
  let card: OpenedCard;
  try {
    card = await open();
  } catch (e) {
    return err(cardFailure(e, what));
  }
  try {
    return await card.transaction(async () => {
      const hsm = new SmartCardHsm(new ApduChannel(card));
      await hsm.select();
      return fn(card, hsm);
    });
  } catch (e) {
    return err(cardFailure(e, what));
  } finally {
    // docs/card-reference.md §6.7: the reset clears PIN state; nothing stays authenticated.
    await card.close('reset').catch(() => undefined);
  }
}

/** Options shared by the card actions. */
export type CardActionContext = {
  readonly reader: string;
  readonly open: () => Promise<OpenedCard>;
  readonly anchors: readonly TrustAnchor[];
  readonly keyId: number | undefined;
  readonly now: Date;
};

/** Inspects the card in a reader. */
export function inspectCard(c: CardActionContext): Promise<Result<CardView, IpcError>> {
  return withCard(c.open, 'inspect card', async (card, hsm) =>
    ok(await describe(c.reader, card, hsm, c.anchors, c.keyId, c.now)),
  );
}

/**
 * Verifies the user PIN once (typed: a copy is presented and wiped; absent: the reader's PIN
 * pad). Refuses a blocked PIN and the last try (the contract has no confirmation for key
 * creation), like the CLI's `key create`.
 */
async function verifyOnce(
  card: OpenedCard,
  hsm: SmartCardHsm,
  pin: Uint8Array | undefined,
): Promise<IpcError | undefined> {
  const status = await hsm.pinStatus();
  if (status.state === 'verified') return undefined;
  if (status.state === 'blocked') return ipcError('pin-blocked', 'the card PIN is blocked');
  if (status.state !== 'not-verified')
    return ipcError('internal', `the card PIN cannot be used (${status.state})`);
  if (status.retries === 1)
    return ipcError('pin-last-try', 'one PIN try left; not used for key creation');
  let after;
  if (pin !== undefined) {
    // A PIN of the wrong length never costs a try (docs/card-reference.md §3.1).
    if (!validateUserPin(pin).ok)
      return ipcError('pin-format', 'the PIN must be 6 to 16 characters');
    after = await hsm.verifyPin(pin.slice()); // wipes its copy
  } else {
    if (!card.control) return ipcError('pin-cancelled', 'this reader has no PIN pad');
    const control = card.control.bind(card);
    const pad = await verifyPinOnPinpad({
      control,
      ...(card.features ? { features: () => card.features!() } : {}),
    });
    if (!pad.ok) return ipcError('pin-cancelled', pad.error.message);
    const o = pad.value;
    if (o.kind === 'verified') return undefined;
    if (o.kind === 'timeout') return ipcError('pin-timeout', 'PIN pad: timeout');
    if (o.kind === 'cancelled' || o.kind === 'bad-length')
      return ipcError('pin-cancelled', `PIN pad: ${o.kind}`);
    if (o.kind === 'blocked') return ipcError('pin-blocked', 'the card PIN is now blocked');
    if (o.kind === 'card-error') return ipcError('internal', `PIN pad: SW ${o.sw.toString(16)}`);
    return ipcError('pin-wrong', 'the card did not accept the PIN', o.retries);
  }
  if (after.state === 'verified') return undefined;
  if (after.state === 'blocked' || after.retries === 0)
    return ipcError('pin-blocked', 'the card PIN is now blocked', 0);
  return ipcError('pin-wrong', 'the card did not accept the PIN', after.retries ?? 0);
}

/** Creates the custodian key; resolves with the card view and the new key. */
export function createKey(
  c: CardActionContext & { readonly label: string; readonly pin?: Uint8Array },
): Promise<Result<{ card: CardView; key: PkaKeyView }, IpcError>> {
  const pin = c.pin?.slice();
  return withCard(c.open, 'create key', async (card, hsm) => {
    try {
      if (pkaKeyOf(await hsm.listKeys(), undefined) !== null)
        return err(
          ipcError('key-exists', 'the card already has a key with an authenticated request'),
        );
      const refused = await verifyOnce(card, hsm, pin);
      if (refused) return err(refused);
      const created = await hsm.generateCustodianKey({ label: c.label });
      // Log out before reading the status back: the card is reset right after anyway (§1.3).
      await hsm.logout();
      const view = await describe(c.reader, card, hsm, c.anchors, created.keyId, c.now);
      if (view.pkaKey === null) return err(ipcError('internal', 'the new key cannot be read back'));
      return ok({ card: view, key: view.pkaKey });
    } finally {
      if (pin) wipe(pin);
    }
  });
}

/** The `.pka` file of the card's PKA key (docs/card-reference.md §6.2; public data, no PIN). */
export function exportPka(
  c: CardActionContext,
): Promise<Result<{ fileName: string; bytes: Uint8Array; key: PkaKeyView }, IpcError>> {
  return withCard(c.open, 'export .pka', async (_card, hsm) => {
    const key = pkaKeyOf(await hsm.listKeys(), c.keyId);
    if (key === null) return err(ipcError('no-key', 'the card has no PKA key to export'));
    const bytes = await hsm.exportPka(key.keyId);
    return ok({ fileName: `${key.chr.replace(/[^A-Za-z0-9_-]/g, '_')}.pka`, bytes, key });
  });
}
