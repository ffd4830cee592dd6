import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { runScript } from '../../../../core/custodian/script-runner';
import {
  transition,
  type CeremonyEvent,
  type CeremonyPhase,
} from '../../../../core/custodian/ceremony-state';
import { encodeCommandApdu, type CommandApdu } from '../../../../shared/codec/apdu';
import { asciiBytes, concatBytes, fromHex } from '../../../../shared/codec/bytes';
import { createApduFirewall } from '../../../../shared/policy/firewall';
import { unwrap } from '../../../../shared/result';
import { signCommand } from '../../../../shared/sc-hsm/sign';

const chr = asciiBytes('UTEMU0000100001');
const challenge = fromHex('0102030405060708');
const firewall = () =>
  createApduFirewall({ ceremonyId: 'c1', targetDeviceChr: chr, challenge, keyId: 3 });
const sign = (keyId: number, data: Uint8Array) =>
  unwrap(encodeCommandApdu(unwrap(signCommand(keyId, 0x73, data))));

/** A fake card that records what reaches it. */
function fakeCard() {
  const sent: CommandApdu[] = [];
  return {
    sent,
    send: async (cmd: CommandApdu) => {
      sent.push(cmd);
      return { data: Uint8Array.of(0x30, 0x00), sw: 0x9000 };
    },
  };
}

describe('script runner (runtime firewall)', () => {
  it('forwards allowed commands, answers a refused one with the firewall SW and stops there', async () => {
    const card = fakeCard();
    const audit: [string, Record<string, unknown>][] = [];
    const script = [
      Uint8Array.of(0x00, 0x84, 0x00, 0x00, 0x08),
      sign(3, concatBytes(chr, challenge)),
      Uint8Array.of(0x00, 0x20, 0x00, 0x81, 0x06, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36),
      sign(4, concatBytes(chr, challenge)),
    ];
    const run = await runScript(script, firewall(), card, (k, d) => void audit.push([k, d]), {
      ceremonyId: 'c1',
      offerId: 'o1',
    });
    expect(run.forwarded).toBe(2);
    expect(run.blocked).toBe(1);
    expect(run.signatures).toBe(1);
    expect(card.sent.map((c) => c.ins)).toEqual([0x84, 0x68]);
    expect(run.results).toHaveLength(3); // stopped after the refused VERIFY
    expect(run.results[1]).toEqual({ rapdu: '30009000' });
    expect(run.results[2]).toMatchObject({ blocked: { sw: 0x6986, rule: 'verify-with-data' } });
    expect(audit.map(([k]) => k)).toEqual(['apdu-forwarded', 'apdu-forwarded', 'apdu-blocked']);
    // Only headers, Lc and SW are audited, never data (the VERIFY data was "123456").
    const text = JSON.stringify(audit);
    expect(text).not.toContain('313233343536');
    expect(audit[1]![1]).toMatchObject({ header: '80 68 03 73', lc: 23, sw: '9000' });
  });

  it('refuses a second signature and another key', async () => {
    for (const [second, rule] of [
      [sign(3, concatBytes(chr, challenge)), 'sign-budget-spent'],
      [sign(4, concatBytes(chr, challenge)), 'sign-other-key'],
    ] as const) {
      const card = fakeCard();
      const run = await runScript(
        [sign(3, concatBytes(chr, challenge)), second],
        firewall(),
        card,
        () => undefined,
        {
          ceremonyId: 'c1',
          offerId: 'o1',
        },
      );
      expect(card.sent).toHaveLength(1);
      expect(run.results[1]).toMatchObject({ blocked: { sw: 0x6986, rule } });
    }
  });

  it('never sends anything the firewall refuses, whatever the bytes', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.uint8Array({ maxLength: 40 }), { maxLength: 8 }),
        async (script) => {
          const card = fakeCard();
          const fw = firewall();
          const shadow = firewall();
          let expected = 0;
          for (const a of script) {
            if (!shadow.inspect(a).allow) break;
            expected += 1;
          }
          const run = await runScript(script, fw, card, () => undefined, {
            ceremonyId: 'c1',
            offerId: 'o1',
          });
          expect(card.sent.length).toBe(expected);
          expect(run.results.length).toBe(Math.min(script.length, expected + 1));
          for (const c of card.sent) expect([0x20, 0xb1, 0x58, 0x84, 0x68]).toContain(c.ins);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('ceremony state machine', () => {
  const phases: CeremonyPhase[] = [
    'pending',
    'approving',
    'approved',
    'declined',
    'rejected',
    'expired',
    'ended',
  ];
  const events: CeremonyEvent[] = [
    'approve',
    'approval-aborted',
    'approval-done',
    'decline',
    'reject',
    'expire',
    'end',
  ];

  it('only pending offers can be approved, and an approval only once', () => {
    for (const p of phases) expect(transition(p, 'approve').ok).toBe(p === 'pending');
    expect(unwrap(transition('approving', 'approval-done'))).toBe('approved');
    expect(unwrap(transition('approving', 'approval-aborted'))).toBe('pending');
    expect(transition('approved', 'approve').ok).toBe(false);
  });

  it('final phases accept nothing', () => {
    for (const p of ['rejected', 'expired', 'ended'] as const) {
      for (const e of events) expect(transition(p, e).ok).toBe(false);
    }
  });
});
