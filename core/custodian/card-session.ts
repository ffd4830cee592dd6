/**
 * The custodian card's part of an approval, in one exclusive transaction: select, check the
 * offered key, PIN status (never guessing, never retrying), local PIN verification (typed or on
 * the PIN pad), then the script through the firewall. The caller's decision leaves next, then
 * the card is reset and released whatever happened, so no PIN state is left behind (docs/card-reference.md §1.3, §3.1, §6.7; docs/card-reference.md §14.2 items 5–6).
 * @module
 */
import { wipe } from '../../shared/codec/bytes';
import { CardStatusError, describeSw } from '../../shared/card/status-words';
import type { ApduFirewall } from '../../shared/policy/firewall';
import type { ScriptResult } from '../../shared/protocol/index';
import { validateUserPin, type PinStatus } from '../../shared/sc-hsm/pin';
import { ApduChannel } from '../card/apdu-channel';
import { CardTransportError, type CardTransport } from '../card/transport';
import { verifyPinOnPinpad, type PinpadReader } from '../pinpad/verify-pin-direct';
import { keyChrOf } from '../sc-hsm/keys';
import { SmartCardHsm } from '../sc-hsm/sc-hsm-session';
import { runScript, type AuditSink } from './script-runner';
import { messageOf } from '../../shared/error-message';

/** What the PIN prompt may show: tries left, and whether this is the last one. */
export type PinPrompt = { readonly retries?: number; readonly lastTry: boolean };

/**
 * Where the PIN comes from. `typed`: the engine wipes the returned bytes after use; return
 * undefined to cancel. `pinpad`: the reader's PIN pad (PC/SC part 10), the PIN never reaches the host.
 */
export type PinSource =
  | { readonly kind: 'typed'; read(prompt: PinPrompt): Promise<Uint8Array | undefined> }
  | {
      readonly kind: 'pinpad';
      readonly timeoutSeconds?: number;
      /**
       * The custodian's Cancel: aborts the pending PIN-pad entry where the transport can
       * (`cancelControl`); either way its result is never used and nothing is signed.
       */
      readonly signal?: AbortSignal;
    };

/** Opens the custodian card (PC/SC reader or emulator). */
export type CardOpener = () => Promise<CardTransport>;

/** How the card part ended. Only `approved` produces a decision for the server. */
export type CardOutcome =
  | {
      readonly kind: 'approved';
      readonly results: ScriptResult[];
      readonly forwarded: number;
      readonly blocked: number;
      readonly signatures: number;
    }
  | { readonly kind: 'pin-wrong'; readonly retries: number }
  | { readonly kind: 'pin-blocked' }
  | { readonly kind: 'needs-last-try-confirmation'; readonly retries: 1 }
  | { readonly kind: 'pin-cancelled'; readonly message: string }
  | { readonly kind: 'key-mismatch'; readonly message: string }
  | {
      readonly kind: 'card-error';
      readonly message: string;
      /** The typed transport failure behind it (removed, busy, no reader …), when there was one. */
      readonly cause?: CardTransportError;
    };

/** The transport failure in `e` or its `cause` chain, if any. */
function transportCause(e: unknown): CardTransportError | undefined {
  for (let c: unknown = e, depth = 0; c instanceof Error && depth < 8; depth += 1) {
    if (c instanceof CardTransportError) return c;
    c = c.cause;
  }
  return undefined;
}

/** A card-error outcome for `e`, carrying its transport failure as the cause. */
function cardError(message: string, e: unknown): CardOutcome {
  const cause = transportCause(e);
  return cause ? { kind: 'card-error', message, cause } : { kind: 'card-error', message };
}

/** Inputs of {@link runCardApproval}. */
export type CardApproval = {
  readonly openCard: CardOpener;
  readonly pin: PinSource;
  readonly confirmLastTry: boolean;
  readonly keyId: number;
  /** CHR the offer names for the key; the card's key must carry it. */
  readonly keyChr: string;
  readonly script: readonly Uint8Array[];
  readonly firewall: ApduFirewall;
  readonly audit: AuditSink;
  readonly ids: { readonly ceremonyId: string; readonly offerId: string };
  /**
   * Called with the outcome while the card is still connected; the reset follows. The
   * engine sends its decision here, so the reset is not on the critical path (issue 12 §2).
   */
  readonly afterCard?: (outcome: CardOutcome) => void | Promise<void>;
  /**
   * Called after the PIN was verified, right before the script (with its SIGN) reaches the
   * card: makes the signing intent durable. Throwing stops the approval; the card is not used.
   */
  readonly beforeScript?: () => void;
};

type Early = Exclude<CardOutcome, { kind: 'approved' }>;

/** Checks the PIN status; returns an outcome when the approval must stop here. */
function statusGate(status: PinStatus, confirmLastTry: boolean): Early | undefined {
  switch (status.state) {
    case 'blocked':
      return { kind: 'pin-blocked' };
    case 'not-verified':
      if (status.retries === 1 && !confirmLastTry)
        return { kind: 'needs-last-try-confirmation', retries: 1 };
      return undefined;
    case 'verified':
      return undefined;
    case 'transport-pin':
      return {
        kind: 'card-error',
        message: 'the card still has its transport PIN; change it first',
      };
    case 'not-initialized':
      return { kind: 'card-error', message: 'the custodian card is not initialized' };
    case 'pka-active':
      return {
        kind: 'card-error',
        message: 'the custodian card is itself protected by PKA; not supported',
      };
  }
}

/**
 * Runs the card part of an approval (see module doc) and then `afterCard` with the outcome while
 * the card is still held; the reset follows it. Never throws unless `afterCard` does (then after
 * the reset).
 */
export async function runCardApproval(a: CardApproval): Promise<CardOutcome> {
  let transport: CardTransport;
  try {
    transport = await a.openCard();
  } catch (e) {
    const outcome = cardError(`cannot open the custodian card: ${messageOf(e)}`, e);
    await a.afterCard?.(outcome);
    return outcome;
  }
  try {
    let outcome: CardOutcome;
    try {
      outcome = await transport.transaction(() => approveOnCard(transport, a));
    } catch (e) {
      const message =
        e instanceof CardStatusError ? `${e.operation}: ${describeSw(e.sw)}` : messageOf(e);
      outcome = cardError(message, e);
    }
    // The decision leaves before the reset (issue 12 §2): the reset costs card time the
    // server would otherwise wait for, and nothing of the decision depends on it.
    await a.afterCard?.(outcome);
    return outcome;
  } finally {
    // docs/card-reference.md §6.7: a reset clears PIN and all volatile state; the connection is released.
    await transport.close('reset').catch(() => undefined);
  }
}

/**
 * One exclusive transaction: SELECT, the offered key's CHR (one READ BINARY of `CE<id>`), the
 * PIN status (for the prompt and the last-try gate), the PIN, then the script. Nothing else
 * reaches the card, and nothing can come between the status and the VERIFY: the card is not
 * released while the PIN is entered (openers connect exclusively, and `transaction` holds the
 * card exclusively without SCardBeginTransaction, so no idle-reset timer runs meanwhile).
 */
async function approveOnCard(transport: CardTransport, a: CardApproval): Promise<CardOutcome> {
  const channel = new ApduChannel(transport);
  const hsm = new SmartCardHsm(channel);
  await hsm.select();
  const chr = await keyChrOf(channel, a.keyId);
  if (chr !== a.keyChr) {
    return {
      kind: 'key-mismatch',
      message: `key ${a.keyId} on this card is ${chr ?? 'absent'}, the offer needs ${a.keyChr}`,
    };
  }
  const now = await hsm.pinStatus();
  const early = statusGate(now, a.confirmLastTry);
  if (early) return early;
  let typed: Uint8Array | undefined;
  if (a.pin.kind === 'typed' && now.state !== 'verified') {
    const retries = now.retries;
    typed = await a.pin.read(
      retries === undefined ? { lastTry: false } : { retries, lastTry: retries === 1 },
    );
    if (typed === undefined) return { kind: 'pin-cancelled', message: 'PIN entry cancelled' };
    // Checked here so a PIN of the wrong length never costs a try (and no length is reported).
    if (!validateUserPin(typed).ok) {
      wipe(typed);
      return { kind: 'pin-cancelled', message: 'the PIN must be 6 to 16 characters' };
    }
  }
  try {
    return await verifyAndRun(transport, channel, hsm, a, now, typed);
  } finally {
    if (typed) wipe(typed);
  }
}

async function verifyAndRun(
  transport: CardTransport,
  channel: ApduChannel,
  hsm: SmartCardHsm,
  a: CardApproval,
  now: PinStatus,
  typed: Uint8Array | undefined,
): Promise<CardOutcome> {
  let result: PinStatus;
  if (now.state === 'verified') {
    result = now;
  } else if (a.pin.kind === 'typed') {
    // verifyPin presents the PIN once and wipes its copy (never retries).
    result = await hsm.verifyPin(typed!.slice());
  } else {
    if (!transport.control) return { kind: 'pin-cancelled', message: 'this reader has no PIN pad' };
    const signal = a.pin.signal;
    const cancelled = (): CardOutcome => {
      a.audit('pin-cancelled', { ...a.ids, by: 'custodian', via: 'pinpad' });
      return { kind: 'pin-cancelled', message: 'PIN pad: cancelled by the custodian' };
    };
    if (signal?.aborted) return cancelled();
    const abort = () => transport.cancelControl?.();
    signal?.addEventListener('abort', abort, { once: true });
    const withFeatures = transport as CardTransport & { features?: PinpadReader['features'] };
    const reader: PinpadReader = {
      control: (code, data) => transport.control!(code, data),
      ...(withFeatures.features ? { features: () => withFeatures.features!() } : {}),
    };
    const pad = await verifyPinOnPinpad(
      reader,
      a.pin.timeoutSeconds === undefined ? {} : { timeoutSeconds: a.pin.timeoutSeconds },
    ).finally(() => signal?.removeEventListener('abort', abort));
    if (signal?.aborted) {
      // Cancelled while the reader waited: whatever it answered is not used. A PIN verified
      // meanwhile is dropped by re-selecting (docs/card-reference.md §1.3): nothing signs.
      if (pad.ok && pad.value.kind === 'verified') await hsm.select();
      return cancelled();
    }
    if (!pad.ok) return { kind: 'pin-cancelled', message: pad.error.message };
    const o = pad.value;
    if (o.kind === 'timeout' || o.kind === 'cancelled' || o.kind === 'bad-length') {
      return { kind: 'pin-cancelled', message: `PIN pad: ${o.kind}` };
    }
    if (o.kind === 'card-error') throw new CardStatusError(o.sw, 'VERIFY PIN (PIN pad)');
    result =
      o.kind === 'verified'
        ? { state: 'verified' }
        : o.kind === 'blocked'
          ? { state: 'blocked', retries: 0 }
          : { state: 'not-verified', retries: o.retries };
  }
  if (result.state !== 'verified') {
    a.audit('pin-failed', { ...a.ids, retriesLeft: result.retries ?? 0 });
    return result.state === 'blocked' || result.retries === 0
      ? { kind: 'pin-blocked' }
      : { kind: 'pin-wrong', retries: result.retries ?? 0 };
  }
  a.audit('pin-verified', { ...a.ids });
  try {
    a.beforeScript?.();
  } catch (e) {
    return {
      kind: 'card-error',
      message: `the signing intent cannot be recorded (${(e as Error).message}); the card did not sign`,
    };
  }
  const run = await runScript(a.script, a.firewall, channel, a.audit, a.ids);
  return { kind: 'approved', ...run };
}
