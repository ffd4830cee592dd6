import { describe, expect, it } from 'vitest';
import { runCardApproval } from '../../../../core/custodian/card-session';
import { CardTransportError, type CardTransport } from '../../../../core/card/transport';
import { createApduFirewall } from '../../../../shared/policy/firewall';
import { asciiBytes, concatBytes, fromHex, toHex } from '../../../../shared/codec/bytes';
import { custodianCard, PIN, pkaSign, targetDevice } from '../../../integration/custodian/harness';
import { createInProcessTransport } from '../../../../emulator/transport/in-process';

async function approvalWith(
  openCard: (() => Promise<CardTransport>) | undefined,
  pin: Parameters<typeof runCardApproval>[0]['pin'],
) {
  const card = await custodianCard(777);
  const target = targetDevice(888);
  const challenge = fromHex('1122334455667788');
  const audit: string[] = [];
  const outcome = await runCardApproval({
    openCard: openCard ?? card.openCard,
    pin,
    confirmLastTry: false,
    keyId: card.key.keyId,
    keyChr: card.key.chr,
    script: [fromHex(pkaSign(card.key.keyId, target.chr, challenge))],
    firewall: createApduFirewall({
      ceremonyId: 'c',
      targetDeviceChr: target.chr,
      challenge,
      keyId: card.key.keyId,
    }),
    audit: (k) => void audit.push(k),
    ids: { ceremonyId: 'c', offerId: 'o' },
  });
  return { outcome, audit, card, target, challenge };
}

describe('card part of an approval', () => {
  it('reports a card that cannot be opened without throwing', async () => {
    const r = await approvalWith(
      () => Promise.reject(new CardTransportError('no-card', 'no card in the reader')),
      { kind: 'typed', read: async () => asciiBytes(PIN) },
    );
    expect(r.outcome).toMatchObject({ kind: 'card-error' });
  });

  it('verifies the PIN on the PIN pad when the reader has one (fake reader)', async () => {
    const card = await custodianCard(779);
    const target = targetDevice(889);
    const challenge = fromHex('1122334455667799');
    const controls: number[] = [];
    let closedWith: string | undefined;
    const openCard = async (): Promise<CardTransport> => {
      const inner = await card.openCard();
      return {
        ...inner,
        get atr() {
          return inner.atr;
        },
        transmit: (a) => inner.transmit(a),
        transaction: (fn) => inner.transaction(fn),
        reset: () => inner.reset(),
        close: (d) => {
          closedWith = d;
          return inner.close(d);
        },
        // The fake PIN pad "types" the PIN into the VERIFY APDU, as a reader would.
        features: async () => new Map([[0x06, 0x42330006]]),
        control: async (code: number, data: Uint8Array) => {
          controls.push(code);
          const apdu = data.subarray(19);
          const pin = asciiBytes(PIN);
          const full = concatBytes(apdu.subarray(0, 4), Uint8Array.of(pin.length), pin);
          return inner.transmit(full);
        },
      } as CardTransport;
    };
    const audit: string[] = [];
    const outcome = await runCardApproval({
      openCard,
      pin: { kind: 'pinpad' },
      confirmLastTry: false,
      keyId: card.key.keyId,
      keyChr: card.key.chr,
      script: [fromHex(pkaSign(card.key.keyId, target.chr, challenge))],
      firewall: createApduFirewall({
        ceremonyId: 'c',
        targetDeviceChr: target.chr,
        challenge,
        keyId: card.key.keyId,
      }),
      audit: (k) => void audit.push(k),
      ids: { ceremonyId: 'c', offerId: 'o' },
    });
    expect(outcome.kind).toBe('approved');
    expect(controls).toEqual([0x42330006]);
    expect(audit).toContain('pin-verified');
    expect(closedWith).toBe('reset');
  });

  describe("the custodian's Cancel during a PIN-pad entry", () => {
    /** An approval on an emulated PIN-pad reader; `typing` is the person at the keypad. */
    async function onPinPad(typing: () => Promise<Uint8Array | undefined>, signal: AbortSignal) {
      const card = await custodianCard(781);
      const target = targetDevice(891);
      const challenge = fromHex('1122334455667711');
      const sent: Uint8Array[] = [];
      let cancels = 0;
      const openCard = async (): Promise<CardTransport> => {
        const inner = createInProcessTransport(card.card, { pinPad: { enter: typing } });
        return {
          ...inner,
          get atr() {
            return inner.atr;
          },
          transmit: (a) => (sent.push(a.slice()), inner.transmit(a)),
          cancelControl: () => (cancels++, inner.cancelControl!()),
        } as CardTransport;
      };
      const audit: string[] = [];
      const outcome = runCardApproval({
        openCard,
        pin: { kind: 'pinpad', signal },
        confirmLastTry: false,
        keyId: card.key.keyId,
        keyChr: card.key.chr,
        script: [fromHex(pkaSign(card.key.keyId, target.chr, challenge))],
        firewall: createApduFirewall({
          ceremonyId: 'c',
          targetDeviceChr: target.chr,
          challenge,
          keyId: card.key.keyId,
        }),
        audit: (k) => void audit.push(k),
        ids: { ceremonyId: 'c', offerId: 'o' },
      });
      return { outcome, audit, card, sent, cancels: () => cancels };
    }

    it('aborts the pending entry on the reader: cancelled, audited, nothing signed', async () => {
      const ctl = new AbortController();
      let typingStarted!: () => void;
      const started = new Promise<void>((r) => (typingStarted = r));
      // The person never finishes typing: only the app's Cancel can end the entry.
      const r = await onPinPad(() => (typingStarted(), new Promise(() => undefined)), ctl.signal);
      await started;
      ctl.abort();
      const outcome = await r.outcome;
      expect(outcome).toMatchObject({
        kind: 'pin-cancelled',
        message: /cancelled by the custodian/,
      });
      expect(r.cancels()).toBe(1);
      expect(r.audit).toContain('pin-cancelled');
      expect(r.audit).not.toContain('pin-verified');
      expect(r.sent.some((a) => a[1] === 0x68)).toBe(false);
      expect(r.card.card.state.userPin?.retries).toBe(3);
    });

    it('a PIN the reader verified after the Cancel is dropped: nothing signed', async () => {
      const ctl = new AbortController();
      // A reader that cannot abort (pcsc-lite): the person types the PIN after the Cancel.
      const r = await onPinPad(async () => {
        ctl.abort();
        return asciiBytes(PIN);
      }, ctl.signal);
      const outcome = await r.outcome;
      expect(outcome.kind).toBe('pin-cancelled');
      expect(r.audit).toContain('pin-cancelled');
      expect(r.sent.some((a) => a[1] === 0x68)).toBe(false);
    });

    it('a Cancel before the entry starts never reaches the reader', async () => {
      const ctl = new AbortController();
      ctl.abort();
      let asked = 0;
      const r = await onPinPad(async () => (asked++, asciiBytes(PIN)), ctl.signal);
      expect((await r.outcome).kind).toBe('pin-cancelled');
      expect(asked).toBe(0);
    });

    it("the reader's own Cancel key still cancels, without the app's signal", async () => {
      const r = await onPinPad(async () => undefined, new AbortController().signal);
      expect(await r.outcome).toMatchObject({
        kind: 'pin-cancelled',
        message: 'PIN pad: cancelled',
      });
      expect(r.card.card.state.userPin?.retries).toBe(3);
    });
  });

  it('refuses when the card holds another key under the id', async () => {
    const card = await custodianCard(780);
    const target = targetDevice(890);
    const challenge = fromHex('1122334455667700');
    let asked = 0;
    const outcome = await runCardApproval({
      openCard: card.openCard,
      pin: { kind: 'typed', read: async () => (asked++, asciiBytes(PIN)) },
      confirmLastTry: false,
      keyId: card.key.keyId,
      keyChr: 'SOMEONEELSE00001',
      script: [fromHex(pkaSign(card.key.keyId, target.chr, challenge))],
      firewall: createApduFirewall({
        ceremonyId: 'c',
        targetDeviceChr: target.chr,
        challenge,
        keyId: card.key.keyId,
      }),
      audit: () => undefined,
      ids: { ceremonyId: 'c', offerId: 'o' },
    });
    expect(outcome.kind).toBe('key-mismatch');
    expect(asked).toBe(0);
    expect(card.seen.some((a) => a[1] === 0x68)).toBe(false);
  });

  it('passes a PIN-entry cancel through without touching the PIN counter', async () => {
    const r = await approvalWith(undefined, {
      kind: 'typed',
      read: async () => undefined,
    });
    expect(r.outcome.kind).toBe('pin-cancelled');
    expect(r.card.card.state.userPin?.retries).toBe(3);
  });

  it('issue 12: each early stop sends only what it needs, and afterCard runs before the reset', async () => {
    const ins = (seen: Uint8Array[]) => seen.map((a) => toHex(a.subarray(1, 2)));
    // A PIN cancel: SELECT, the offered key's CE, PIN status; no VERIFY with data, no SIGN.
    const cancelled = await approvalWith(undefined, { kind: 'typed', read: async () => undefined });
    expect(ins(cancelled.card.seen)).toEqual(['a4', 'b1', '20']);
    // Another key under the id: SELECT and that key's CE only (no listing, no PIN status).
    const card = await custodianCard(781);
    const target = targetDevice(891);
    const challenge = fromHex('11223344556677aa');
    const order: string[] = [];
    const openCard = async (): Promise<CardTransport> => {
      const inner = await card.openCard();
      return {
        ...inner,
        get atr() {
          return inner.atr;
        },
        transmit: (a) => inner.transmit(a),
        transaction: (fn) => inner.transaction(fn),
        reset: () => inner.reset(),
        close: (d) => (order.push(`close ${d}`), inner.close(d)),
      };
    };
    for (const keyChr of ['SOMEONEELSE00001', card.key.chr]) {
      card.seen.length = 0;
      order.length = 0;
      const outcome = await runCardApproval({
        openCard,
        pin: { kind: 'typed', read: async () => asciiBytes(PIN) },
        confirmLastTry: false,
        keyId: card.key.keyId,
        keyChr,
        script: [fromHex(pkaSign(card.key.keyId, target.chr, challenge))],
        firewall: createApduFirewall({
          ceremonyId: 'c',
          targetDeviceChr: target.chr,
          challenge,
          keyId: card.key.keyId,
        }),
        audit: () => undefined,
        ids: { ceremonyId: 'c', offerId: 'o' },
        afterCard: (o) => void order.push(`after ${o.kind}`),
      });
      if (keyChr === card.key.chr) {
        expect(outcome.kind).toBe('approved');
        expect(ins(card.seen)).toEqual(['a4', 'b1', '20', '20', '68']);
        expect(order).toEqual(['after approved', 'close reset']);
      } else {
        expect(outcome.kind).toBe('key-mismatch');
        expect(ins(card.seen)).toEqual(['a4', 'b1']);
        expect(order).toEqual(['after key-mismatch', 'close reset']);
      }
    }
  });
});
