/**
 * Errors that cross IPC, and the words a custodian reads for each. Main maps every engine,
 * card and network failure to one of these codes; the renderer never shows a stack trace or a
 * raw status word as the only explanation. Free of zod so the preload bundle stays small.
 * @module
 */
/** Every error code the desktop app reports. */
export const IPC_ERROR_CODES = [
  'invalid-request',
  'forbidden',
  'unavailable',
  'server-unreachable',
  'server-identity',
  'invite-invalid',
  'invite-expired',
  'no-reader',
  'no-card',
  'card-removed',
  'card-no-answer',
  'not-sc-hsm',
  'card-busy',
  'pin-wrong',
  'pin-blocked',
  'pin-cancelled',
  'pin-timeout',
  'pin-format',
  'pin-last-try',
  'chain-invalid',
  'test-anchor-unacknowledged',
  'key-exists',
  'no-key',
  'ceremony-not-found',
  'ceremony-expired',
  'ceremony-closed',
  'offer-changed',
  'apdu-blocked',
  'internal',
] as const;

/** An error code. */
export type IpcErrorCode = (typeof IPC_ERROR_CODES)[number];

/** An error as it crosses IPC (validated by `ipcErrorSchema` in contract.ts). */
export type IpcError = {
  readonly code: IpcErrorCode;
  /** Technical detail for the log and the "details" disclosure; never contains a PIN. */
  readonly message: string;
  /** For `pin-wrong`: tries left on the card (docs/card-reference.md §3.1, `63Cx`). */
  readonly retriesLeft?: number;
};

/** Builds an {@link IpcError}. */
export function ipcError(code: IpcErrorCode, message: string, retriesLeft?: number): IpcError {
  const clipped = message.length > 500 ? `${message.slice(0, 497)}...` : message;
  return retriesLeft === undefined
    ? { code, message: clipped }
    : { code, message: clipped, retriesLeft };
}

/** What the custodian reads: a short title and one or two plain sentences. */
export type ErrorText = { readonly title: string; readonly detail: string };

const TEXT: Readonly<Record<IpcErrorCode, ErrorText>> = {
  'invalid-request': {
    title: 'The app sent a malformed request',
    detail: 'Nothing was done. Please restart the app; if it happens again, report it.',
  },
  forbidden: {
    title: 'Request refused',
    detail: 'This part of the app is not allowed to do that. Nothing was done.',
  },
  unavailable: {
    title: 'The custodian service is not running',
    detail: 'The app could not reach its background service. Restart the app.',
  },
  'server-unreachable': {
    title: 'Cannot reach the management server',
    detail: 'Check your network connection. The app keeps trying in the background.',
  },
  'server-identity': {
    title: 'The server could not prove its identity',
    detail:
      'Its certificate does not match the one from your invitation. Do not continue; tell your administrator.',
  },
  'invite-invalid': {
    title: 'This invitation is not valid',
    detail: 'Check that you copied the whole invitation, or ask your administrator for a new one.',
  },
  'invite-expired': {
    title: 'This invitation has expired',
    detail: 'Ask your administrator for a new invitation.',
  },
  'no-reader': {
    title: 'No card reader found',
    detail: 'Connect your card reader (or your Nitrokey HSM) and try again.',
  },
  'no-card': {
    title: 'No card in the reader',
    detail: 'Insert your custodian card and try again.',
  },
  'card-removed': {
    title: 'The card was removed',
    detail: 'Nothing was signed. Insert your custodian card and try again.',
  },
  'card-no-answer': {
    title: 'The card stopped answering',
    detail:
      'Nothing was signed. If the card is still in the reader, take it out, put it back and try again.',
  },
  'not-sc-hsm': {
    title: 'This is not a SmartCard-HSM',
    detail: 'The card in the reader is not a SmartCard-HSM or Nitrokey HSM.',
  },
  'card-busy': {
    title: 'The card is in use by another program',
    detail: 'Close other smart-card software and try again.',
  },
  'pin-wrong': {
    title: 'Wrong PIN',
    detail: 'The card did not accept the PIN.',
  },
  'pin-blocked': {
    title: 'Your PIN is blocked',
    detail:
      'The card refused too many wrong PINs. It must be unblocked with the SO-PIN; ask your security officer.',
  },
  'pin-cancelled': {
    title: 'PIN entry cancelled',
    detail: 'Nothing was signed.',
  },
  'pin-timeout': {
    title: 'PIN entry timed out',
    detail: 'No PIN was entered on the reader in time. Nothing was signed.',
  },
  'pin-format': {
    title: 'That is not a valid PIN',
    detail: 'A SmartCard-HSM PIN has 6 to 16 characters.',
  },
  'pin-last-try': {
    title: 'Confirm your last PIN try',
    detail:
      'Only one try is left: a wrong PIN blocks the card. Confirm that you want to use it, or cancel and ask your security officer.',
  },
  'chain-invalid': {
    title: 'The target device could not be verified',
    detail:
      'Its certificate chain does not end in a trusted root. Do not approve; tell your administrator.',
  },
  'test-anchor-unacknowledged': {
    title: 'Confirm that this is a TEST target',
    detail:
      'The target chains to a test root configured on this computer, not to the production root. Nothing was signed; tick the confirmation first if this is a test installation.',
  },
  'key-exists': {
    title: 'This card already has a custodian key',
    detail: 'Use the existing key, or ask your administrator before creating another one.',
  },
  'no-key': {
    title: 'This card has no custodian key',
    detail: 'Create a custodian key on the card view first.',
  },
  'ceremony-not-found': {
    title: 'This ceremony no longer exists',
    detail: 'The server does not know it any more. It may have been cancelled.',
  },
  'ceremony-expired': {
    title: 'This ceremony has expired',
    detail: 'It can no longer be approved. Nothing was signed.',
  },
  'ceremony-closed': {
    title: 'This ceremony is already decided',
    detail:
      'It was cancelled, reached its quorum without you, or you already answered it. Nothing was signed.',
  },
  'offer-changed': {
    title: 'The server changed this request',
    detail:
      'What you were shown is no longer the pending request. Nothing was signed. Review the request again before approving; if this repeats, contact your security officer out of band.',
  },
  'apdu-blocked': {
    title: 'The server asked for something you did not approve',
    detail:
      'The app blocked it and stopped. Your card did not run it. The APDU trace shows what was asked.',
  },
  internal: {
    title: 'Something went wrong inside the app',
    detail: 'Nothing was signed. Try again; if it keeps happening, report it with the audit log.',
  },
};

/** The plain-words title and detail for an error (with tries left for a wrong PIN). */
export function describeIpcError(error: IpcError): ErrorText {
  const base = TEXT[error.code];
  if (error.code === 'pin-wrong' && error.retriesLeft !== undefined) {
    const n = error.retriesLeft;
    const tail =
      n === 0
        ? ' The PIN is now blocked.'
        : n === 1
          ? ' Only 1 try is left: one more wrong PIN blocks the card.'
          : ` ${n} tries are left.`;
    return { title: base.title, detail: base.detail + tail };
  }
  return base;
}
