import { describe, expect, it } from 'vitest';
import { approvalFailure, cardFailure } from '../../../../core/desktop-backend/errors';
import { CardTransportError } from '../../../../core/card/transport';
import { CardStatusError } from '../../../../shared/card/status-words';
import { ipcErrorSchema } from '../../../../shared/ipc/contract';

describe('engine outcomes in words', () => {
  it('maps every approval stop to the code the renderer explains', () => {
    expect(approvalFailure({ kind: 'pin-wrong', retries: 2 })).toMatchObject({
      code: 'pin-wrong',
      retriesLeft: 2,
    });
    expect(approvalFailure({ kind: 'pin-blocked' }).code).toBe('pin-blocked');
    // The blocked error carries the retry count, so every view can say "blocked" (0 tries).
    expect(approvalFailure({ kind: 'pin-blocked' }).retriesLeft).toBe(0);
    expect(approvalFailure({ kind: 'needs-last-try-confirmation', retries: 1 }).code).toBe(
      'pin-last-try',
    );
    expect(
      approvalFailure({ kind: 'pin-cancelled', message: 'the PIN must be 6 to 16 characters' })
        .code,
    ).toBe('pin-format');
    expect(approvalFailure({ kind: 'pin-cancelled', message: 'PIN pad: timeout' }).code).toBe(
      'pin-timeout',
    );
    expect(approvalFailure({ kind: 'pin-cancelled', message: 'PIN entry cancelled' }).code).toBe(
      'pin-cancelled',
    );
    expect(approvalFailure({ kind: 'key-mismatch', message: 'key 1 is X' }).code).toBe('no-key');
  });

  it('a card error takes its code from the transport failure seen during the approval', () => {
    const r = { kind: 'card-error', message: 'gone' } as const;
    expect(approvalFailure(r).code).toBe('internal');
    expect(
      approvalFailure({ ...r, cause: new CardTransportError('card-removed', 'removed') }).code,
    ).toBe('card-removed');
    expect(
      approvalFailure({ ...r, cause: new CardTransportError('sharing-violation', 'busy') }).code,
    ).toBe('card-busy');
  });

  it('"card removed" only for a removal PC/SC saw; other transport failures say the card stopped answering', () => {
    for (const code of ['closed', 'protocol', 'io'] as const) {
      expect(cardFailure(new CardTransportError(code, 'x'), 'inspect').code).toBe('card-no-answer');
      expect(
        approvalFailure({
          kind: 'card-error',
          message: 'x',
          cause: new CardTransportError(code, 'x'),
        }).code,
      ).toBe('card-no-answer');
    }
    expect(cardFailure(new CardTransportError('card-removed', 'x'), 'inspect').code).toBe(
      'card-removed',
    );
  });

  it('a refusal before the card takes its code from why the engine dropped the offer', () => {
    const r = { kind: 'refused', message: 'x' } as const;
    expect(approvalFailure({ ...r, reason: 'expired' }).code).toBe('ceremony-expired');
    expect(approvalFailure({ ...r, reason: 'untrusted-anchor' }).code).toBe('chain-invalid');
    expect(approvalFailure({ ...r, reason: 'quorum-met' }).code).toBe('ceremony-closed');
    expect(
      approvalFailure({ kind: 'refused', message: 'no pending offer for ceremony c1' }).code,
    ).toBe('ceremony-closed');
    // Not dropped and not "no pending offer": the audit log could not be written.
    expect(
      approvalFailure({ kind: 'refused', message: 'the audit log cannot be written' }).code,
    ).toBe('internal');
  });

  it('card failures: transport codes, PIN blocked, other status words, anything else', () => {
    expect(cardFailure(new CardTransportError('no-service', 'pcscd'), 'x').code).toBe('no-reader');
    expect(cardFailure(new CardTransportError('not-sc-hsm', 'other'), 'x').code).toBe('not-sc-hsm');
    expect(cardFailure(new CardStatusError(0x6983, 'VERIFY'), 'x').code).toBe('pin-blocked');
    expect(cardFailure(new CardStatusError(0x6983, 'VERIFY'), 'x').retriesLeft).toBe(0);
    const other = cardFailure(new CardStatusError(0x6a82, 'SELECT'), 'read');
    expect(other.code).toBe('internal');
    expect(other.message).toContain('6A82');
    expect(cardFailure(new Error('boom'), 'read').message).toBe('read: boom');
    expect(cardFailure('weird', 'read').code).toBe('internal');
  });

  it('every mapped error passes the IPC schema, even with a huge message', () => {
    const long = 'x'.repeat(10_000);
    for (const e of [
      cardFailure(new Error(long), 'op'),
      approvalFailure({ kind: 'card-error', message: long }),
      approvalFailure({ kind: 'refused', message: long, reason: 'expired' }),
    ]) {
      expect(ipcErrorSchema.safeParse(e).success).toBe(true);
    }
  });
});
