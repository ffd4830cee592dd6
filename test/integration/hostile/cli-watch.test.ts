/**
 * The hostile server against the REAL command line: `custodian enroll` and
 * `custodian watch --pin-fd 3` run as processes (bin/custodian.mjs) with an emulated card state
 * file. One legitimate approval, then attacks: denied commands, a SIGN over other data, a second
 * SIGN, a chain for another target, a replayed challenge, the approved offer re-sent, an expired
 * offer, and finally malformed frames. Every attack is declined (or ignored) as documented,
 * audited (`custodian audit verify` passes, run as a process), the card file is byte-identical
 * after the legitimate approval, and no PIN appears in any frame, file or output.
 */
import { closeSync, mkdtempSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { saveState } from '../../../emulator/card/state-file';
import { toHex } from '../../../shared/codec/bytes';
import type { DecisionMessage, OfferMessage } from '../../../shared/protocol/index';
import { BIN, runNode, spawnNode, stopAll, type Child } from '../e2e/processes';
import {
  isoSeconds,
  pinLeaks,
  startHostileServer,
  type HostileServer,
} from '../helpers/hostile-server';
import {
  auditLines,
  newCustodianCard,
  offerFor,
  PIN,
  signApdu,
  targetIdentity,
  testCa,
} from './world';

let server: HostileServer | undefined;
let watch: Child | undefined;
afterAll(async () => {
  await stopAll();
  await server?.close();
});

describe('hostile server vs. the custodian CLI', () => {
  it('declines every attack, audits it, never touches the card, never sends the PIN', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hostile-cli-'));
    const home = join(dir, 'home');
    const env = { CUSTODIAN_HOME: home };
    const cust = await newCustodianCard(7301);
    const cardFile = join(dir, 'card.json');
    saveState(cardFile, cust.card.state);
    const root = join(dir, 'root.cvc');
    writeFileSync(root, testCa().root.cvc);
    const key = { keyId: cust.keyId, chr: cust.chr };
    const target = targetIdentity(7302);
    server = await startHostileServer();
    const s = server;

    const enrolled = await runNode(
      'custodian enroll',
      BIN.custodian,
      [
        'enroll',
        '--server',
        s.url,
        '--token',
        'tok_' + 'A1'.repeat(15),
        '--emulator',
        cardFile,
        '--key-id',
        String(key.keyId),
        '--trust-anchor',
        root,
      ],
      { env },
    );
    expect(enrolled.err).toBe('');
    expect(enrolled.code).toBe(0);

    const pinFile = join(dir, 'pin');
    writeFileSync(pinFile, `${PIN}\n`.repeat(4), { mode: 0o600 });
    const fd = openSync(pinFile, 'r');
    try {
      watch = spawnNode('custodian watch', BIN.custodian, ['watch', '--pin-fd', '3'], {
        env,
        stdio: ['pipe', 'pipe', 'pipe', fd],
      });
    } finally {
      closeSync(fd);
    }
    const w = watch;
    await s.waitFor(
      (m) => m.type === 'hello' && m.auth.kind === 'session',
      'session hello',
      20_000,
    );

    // The legitimate approval: the PIN is read from fd 3 and used on the card.
    const legit = offerFor(target, key);
    s.send(legit);
    await w.waitFor(/Approve this ceremony\?/, 'prompt');
    w.proc.stdin!.write('a\n');
    const approved = (await s.waitFor(
      (m) => m.type === 'decision' && m.offerId === legit.offerId,
      'approval',
    )) as DecisionMessage;
    expect(approved.decision.kind).toBe('approve');
    await w.waitFor(/approved: 1 command\(s\) ran on your card/, 'approved line');
    const baseline = readFileSync(cardFile, 'utf8');

    // The attacks, each answered (or ignored) by the real CLI process.
    const other = targetIdentity(7303);
    const attacks: { offer: OfferMessage; reason: string | undefined; code: string }[] = [
      {
        offer: offerFor(target, key, (ch) => ({
          script: {
            apdus: [
              `0020008108${toHex(new TextEncoder().encode('12345678'))}`,
              signApdu(key.keyId, target.chr, ch),
            ],
          },
        })),
        reason: 'script-refused',
        code: 'script-refused',
      },
      {
        offer: offerFor(target, key, (ch) => ({
          script: { apdus: ['8050000000', signApdu(key.keyId, target.chr, ch)] },
        })),
        reason: 'script-refused',
        code: 'script-refused',
      },
      {
        offer: offerFor(target, key, (ch) => ({
          script: { apdus: [signApdu(key.keyId, other.chr, ch)] },
        })),
        reason: 'script-refused',
        code: 'script-refused',
      },
      {
        offer: offerFor(target, key, (ch) => {
          const sign = signApdu(key.keyId, target.chr, ch);
          return { script: { apdus: [sign, sign] } };
        }),
        reason: 'script-refused',
        code: 'script-refused',
      },
      {
        offer: offerFor(target, key, () => ({
          target: { label: 'x', deviceId: legit.target.deviceId, chain: toHex(other.chain) },
        })),
        reason: 'offer-invalid',
        code: 'device-mismatch',
      },
      {
        offer: { ...legit, ceremonyId: 'hcer-cli-replay', offerId: 'hoff-cli-replay' },
        reason: 'offer-invalid',
        code: 'replayed',
      },
      {
        offer: offerFor(target, key, () => ({
          expiresAt: isoSeconds(new Date(Date.now() - 3600_000)),
        })),
        reason: 'expired',
        code: 'expired',
      },
    ];
    for (const a of attacks) {
      const from = s.messages.length;
      s.send(a.offer);
      const d = (await s.waitFor(
        (m) => m.type === 'decision' && m.offerId === a.offer.offerId,
        `decline of ${a.offer.offerId}`,
        10_000,
        from,
      )) as DecisionMessage;
      expect(d.decision).toMatchObject({ kind: 'decline', reason: a.reason });
    }
    // The approved offer re-sent: the stored frame comes back unchanged, nobody is asked.
    const from = s.messages.length;
    s.send(legit);
    const again = await s.waitFor(
      (m) => m.type === 'decision' && m.offerId === legit.offerId,
      'repeated decision',
      10_000,
      from,
    );
    expect(again).toEqual(approved);
    expect(w.all().match(/Approve this ceremony\?/g)).toHaveLength(1);

    // Malformed frames: three and the session ends as a protocol violation (exit 2, no retry).
    s.sendRaw('{"v":1,"type":');
    s.sendRaw(Uint8Array.of(1, 2, 3));
    s.send({ ...offerFor(target, key), extra: 1 });
    expect(await w.exited).toBe(2);
    expect(w.err()).toMatch(/the server ended the session/);
    expect(s.sockets).toHaveLength(2);

    // Card: byte-identical since the legitimate approval (PIN retries, keys, files).
    const after = readFileSync(cardFile, 'utf8');
    expect(after).toBe(baseline);
    expect((JSON.parse(after) as { userPin: { retries: number } }).userPin.retries).toBe(3);

    // Audit: every attack recorded; the chain verifies with the real CLI.
    const audit = auditLines(join(home, 'audit.jsonl'));
    const rejected = audit.filter((l) => l.kind === 'offer-rejected');
    expect(rejected.map((l) => l.data['code'])).toEqual(attacks.map((a) => a.code));
    expect(audit.filter((l) => l.kind === 'apdu-blocked').map((l) => l.data['rule'])).toEqual([
      'verify-with-data',
      'initialize',
      'sign-other-data',
      'sign-budget-spent',
      // The lying chain: the firewall is built from the chain's CHR, so the SIGN is foreign too.
      'sign-other-data',
    ]);
    expect(audit.filter((l) => l.kind === 'approval')).toHaveLength(1);
    expect(audit.filter((l) => l.kind === 'pin-verified')).toHaveLength(1);
    expect(
      audit.filter((l) => l.kind === 'error' && l.data['what'] === 'invalid-frame'),
    ).toHaveLength(3);
    const verified = await runNode('custodian audit verify', BIN.custodian, ['audit', 'verify'], {
      env,
    });
    expect(verified.err).toBe('');
    expect(verified.code).toBe(0);
    expect(verified.out).toMatch(new RegExp(`${audit.length} entries, chain intact`));

    // The PIN: in no frame, no file of the custodian home, no output.
    expect(pinLeaks(s.received, PIN)).toEqual([]);
    for (const f of ['audit.jsonl', 'decisions.jsonl', 'config.json', 'credential']) {
      expect(readFileSync(join(home, f), 'utf8')).not.toContain(PIN);
    }
    expect(w.all()).not.toContain(PIN);
  }, 120_000);
});
