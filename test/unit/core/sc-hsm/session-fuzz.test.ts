import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { CommandApdu, ResponseApdu } from '../../../../shared/codec/apdu';
import { CardStatusError } from '../../../../shared/card/status-words';
import { CardTransportError } from '../../../../core/card/transport';
import type { CommandSender } from '../../../../core/sc-hsm/card-io';
import { DeviceChainError } from '../../../../core/sc-hsm/device-chain';
import { KeyOperationError } from '../../../../core/sc-hsm/keys';
import { PkaError } from '../../../../core/sc-hsm/pka-target';
import { SmartCardHsm } from '../../../../core/sc-hsm/sc-hsm-session';

const TYPED = [CardStatusError, CardTransportError, DeviceChainError, KeyOperationError, PkaError];
const SWS = [0x9000, 0x6282, 0x6a82, 0x6a88, 0x6d00, 0x6b00, 0x63c2, 0x6300, 0x6982, 0x6e00];

/** A card answering every command from a generated list (cycled), counting commands. */
class RandomCard implements CommandSender {
  count = 0;
  constructor(
    private readonly answers: readonly ResponseApdu[],
    readonly extendedLength: boolean,
  ) {}
  async send(_cmd: CommandApdu): Promise<ResponseApdu> {
    const a = this.answers[this.count++ % this.answers.length]!;
    return { data: a.data.slice(), sw: a.sw };
  }
}

const answer = fc.record({
  data: fc.uint8Array({ maxLength: 300 }),
  sw: fc.oneof(fc.constantFrom(...SWS), fc.integer({ min: 0, max: 0xffff })),
});

describe('the session with a card answering garbage', () => {
  it('fails only with typed errors and never loops unbounded', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(answer, { minLength: 1, maxLength: 8 }),
        fc.boolean(),
        async (answers, ext) => {
          const ops: ((h: SmartCardHsm) => Promise<unknown>)[] = [
            (h) => h.select(),
            (h) => h.info(),
            (h) => h.listKeys(),
            (h) => h.pkaStatus(),
            (h) => h.pinStatus(),
            (h) => h.deviceCertificates(),
            (h) => h.getChallenge(),
            (h) => h.signPkaChallenge(1, new TextEncoder().encode('UTCC100001'), new Uint8Array(8)),
          ];
          for (const op of ops) {
            const card = new RandomCard(answers, ext);
            try {
              await op(new SmartCardHsm(card));
            } catch (e) {
              expect(
                TYPED.some((T) => e instanceof T),
                String(e),
              ).toBe(true);
            }
            expect(card.count).toBeLessThan(2000);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
