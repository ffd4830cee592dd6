/**
 * End to end over the real PC/SC stack (pcscd + vpcd): a 3-of-5 remote PKA ceremony.
 *
 * - target: a factory-fresh device served by `sc-hsm-emulator serve` in vpcd reader 0, owned
 *   exclusively by the server process (`custodian-server serve`, self-signed TLS, custodians pin
 *   its fingerprint); the admin CLI initializes it for 3-of-5 PKA (`target init`);
 * - custodian #1: the real CLI (`custodian key create` / `enroll` / `watch --pin-fd 3`), its card
 *   served by another emulator process in vpcd reader 1;
 * - custodians #2–#5: the real engine in-process, each with an in-process emulated card.
 *
 * All five enroll with key attestation (docs/card-reference.md §6.5), a ceremony is requested with the admin
 * CLI, three approve (including the CLI), the quorum is read from the target card's own status
 * (`80 54`, docs/card-reference.md §6.4). Inside that unlock window `custodian-server target keygen` creates
 * the release key on the target (the quorum is the user authentication the card needs,
 * docs/card-reference.md §6.7), `custodian-server sign` signs files with it and openssl verifies them. No
 * PIN appears in any recorded frame, server file, custodian file or output.
 */
import { execFileSync } from 'node:child_process';
import {
  closeSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openPcsc, type Pcsc } from '../../../core/pcsc/pcsc-adapter';
import { generateTestCa, type TestCa } from '../../../emulator/ca/test-ca';
import { createDeviceState, saveState } from '../../../emulator/card/state-file';
import { createInProcessTransport } from '../../../emulator/transport/in-process';
import { describePcsc, pcscAvailability } from '../helpers/pcscd';
import { BIN, freePort, runNode, spawnNode, stopAll, type Child } from './processes';
import {
  addPkaKey,
  custodianCard,
  serveInSlot,
  SIGNER_LABEL,
  startCustodian,
  typed,
  type Custodian,
  type SlotCard,
} from './world';

const availability = await pcscAvailability();

const NAMES = ['alice', 'bob', 'carol', 'dave', 'erin'] as const;
/** Each custodian's own PIN (eight digits: a leak scan cannot hit one by chance). */
const PINS = ['48291375', '73610584', '15937206', '60481739', '92735841'] as const;

describePcsc(
  'e2e: 3-of-5 over pcscd + vpcd, server and CLI as processes',
  availability,
  (slots) => {
    let pcsc: Pcsc;
    let ca: TestCa;
    let dir: string;
    let config: string;
    let fingerprint: string;
    let wsUrl: string;
    let server: Child | undefined;
    let watch: Child | undefined;
    const cards: SlotCard[] = [];
    const engines: Custodian[] = [];

    const admin = async (...args: string[]) => {
      const r = await runNode('custodian-server', BIN.server, [...args, '--config', config], {
        ms: 60_000,
      });
      if (r.code !== 0) throw new Error(`custodian-server ${args.join(' ')} → ${r.code}: ${r.err}`);
      return r.out;
    };

    beforeAll(async () => {
      pcsc = await openPcsc();
      ca = generateTestCa();
      dir = mkdtempSync(join(tmpdir(), 'e2e-3of5-'));
      writeFileSync(join(dir, 'root.cvc'), ca.root.cvc);
      // Factory-fresh: initialized and given its signing key through the server below.
      saveState(join(dir, 'target.json'), createDeviceState(ca, { serial: 42_001 }));
      saveState(join(dir, 'alice-card.json'), (await custodianCard(ca, 42_101, PINS[0])).state);
      cards.push(await serveInSlot(pcsc, join(dir, 'target.json'), slots[0]!));
      cards.push(await serveInSlot(pcsc, join(dir, 'alice-card.json'), slots[1]!));

      config = join(dir, 'server.json');
      writeFileSync(
        config,
        JSON.stringify({
          listen: { host: '127.0.0.1', port: await freePort() },
          tls: 'self-signed',
          dataDir: './data',
          targets: [
            { name: 'ca', label: 'Issuing CA HSM (vpcd reader 0)', reader: slots[0]!.reader },
          ],
          trustAnchors: ['./root.cvc'],
          unlock: { maxSeconds: 120, maxSignatures: 5 },
          ceremonyDefaults: { expiresInSeconds: 900 },
        }),
      );
      server = spawnNode('custodian-server serve', BIN.server, ['serve', '--config', config]);
      const fp = await server.waitFor(
        /fingerprint \(custodians pin this\): ([0-9A-F:]+)/,
        'fingerprint',
        30_000,
      );
      fingerprint = fp[1]!;
      wsUrl = (await server.waitFor(/custodians: (wss:\/\/\S+)\)/, 'ws url'))[1]!;
    }, 120_000);

    afterAll(async () => {
      for (const e of engines) {
        e.engine.stop();
        e.audit.close();
      }
      // Custodian CLI and server first (they hold the readers), then the cards leave the readers.
      await stopAll().catch(() => undefined);
      for (const c of cards.reverse()) await c.remove().catch(() => undefined);
      await pcsc?.close();
    }, 60_000);

    it('runs the ceremony, creates the signing key and signs files that openssl verifies', async () => {
      // The administrator initializes the target for 3-of-5 PKA through the server.
      const init = await admin('target', 'init', '--target', 'ca', '--m', '5', '--n', '3');
      expect(init).toMatch(/initialized for 3-of-5 public key authentication/);
      // Without a quorum the card has no user authentication: key generation is refused.
      const keygen = ['target', 'keygen', '--target', 'ca', '--label', SIGNER_LABEL];
      const early = await runNode('custodian-server', BIN.server, [...keygen, '--config', config]);
      expect(early.code).toBe(2);
      expect(early.err).toMatch(/locked: request a ceremony first/);
      // The target as the server sees it through pcscd: initialized 3-of-5, nobody registered.
      const before = JSON.parse(await admin('target', 'status', '--target', 'ca', '--json')) as {
        connected: boolean;
        deviceId: string;
        pka: { m: number; n: number; missing: number; authenticated: number };
      };
      expect(before.connected).toBe(true);
      expect(before.pka).toEqual({ m: 5, missing: 5, n: 3, authenticated: 0 });

      // Custodian #1 (alice) with the real CLI over PC/SC: key on her card, then enrollment.
      const home = join(dir, 'alice-home');
      const env = { CUSTODIAN_HOME: home };
      const reader = slots[1]!.reader;
      const pinFile = join(dir, 'alice-pin');
      writeFileSync(pinFile, `${PINS[0]}\n`.repeat(3), { mode: 0o600 });
      const pinFd = openSync(pinFile, 'r');
      // key create reads line 1 of the PIN file; watch (same open file) the following ones.
      const created = await runNode(
        'custodian key create',
        BIN.custodian,
        ['key', 'create', '--label', 'alice', '--reader', reader, '--pin-fd', '3'],
        { env, stdio: ['ignore', 'pipe', 'pipe', pinFd] },
      );
      expect(created.err).toBe('');
      expect(created.code).toBe(0);
      const m = /created PKA key (\d+): CHR (\S+), brainpoolP256r1/.exec(created.out);
      expect(m).not.toBeNull();
      const aliceKey = { keyId: Number(m![1]), chr: m![2]! };

      const invite = async (name: string) => {
        const out = await admin('enroll', 'create', '--target', 'ca', '--name', name);
        expect(out).toContain(fingerprint);
        return /enrollment token: (\S+)/.exec(out)![1]!;
      };
      const enrolled = await runNode(
        'custodian enroll',
        BIN.custodian,
        [
          'enroll',
          '--server',
          wsUrl,
          '--fingerprint',
          fingerprint,
          '--token',
          await invite('alice'),
          '--reader',
          reader,
          '--key-id',
          String(aliceKey.keyId),
          '--trust-anchor',
          join(dir, 'root.cvc'),
        ],
        { env },
      );
      expect(enrolled.err).toBe('');
      expect(enrolled.code).toBe(0);

      // Custodians #2–#5: the engine in-process, cards in-process.
      for (let i = 1; i < 5; i++) {
        const card = await custodianCard(ca, 42_101 + i, PINS[i]!);
        const key = await addPkaKey(card, PINS[i]!, NAMES[i]!);
        const c = startCustodian({
          name: NAMES[i]!,
          url: wsUrl,
          fingerprint,
          auth: { kind: 'enroll', token: await invite(NAMES[i]!), pka: key.pka, keyId: key.keyId },
          ca,
          key: { keyId: key.keyId, chr: key.chr },
          openCard: async () => createInProcessTransport(card),
        });
        engines.push(c);
        await c.next((e) => e.type === 'enrolled', 'enrollment', 60_000);
      }
      const registered = JSON.parse(
        await admin('target', 'status', '--target', 'ca', '--json'),
      ) as {
        pka: { missing: number; authenticated: number };
        custodians: { name: string; keyChr: string; enrolled: boolean }[];
      };
      expect(registered.pka).toMatchObject({ missing: 0, authenticated: 0 });
      expect(registered.custodians.map((c) => c.name).sort()).toEqual([...NAMES].sort());
      expect(registered.custodians.every((c) => c.enrolled)).toBe(true);
      expect(registered.custodians.find((c) => c.name === 'alice')?.keyChr).toBe(aliceKey.chr);

      // Alice watches with the real CLI; the PIN comes from fd 3.
      watch = spawnNode('custodian watch', BIN.custodian, ['watch', '--pin-fd', '3'], {
        env,
        stdio: ['pipe', 'pipe', 'pipe', pinFd],
      });
      closeSync(pinFd);
      await watch.waitFor(/connected as /, 'connection', 30_000);

      // The ceremony, requested with the admin CLI.
      const cer = JSON.parse(
        await admin(
          'ceremony',
          'request',
          '--target',
          'ca',
          '--purpose',
          'Quarterly CRL',
          '--requester',
          'ops@example.org',
          '--json',
        ),
      ) as { id: string; quorum: { n: number; m: number } };
      expect(cer.quorum).toEqual({ n: 3, m: 5 });

      await watch.waitFor(/Approve this ceremony\?/, 'offer prompt', 60_000);
      expect(watch.out()).toContain(before.deviceId);
      watch.proc.stdin!.write('a\n');
      await watch.waitFor(/approved: 1 command\(s\) ran on your card/, 'approval', 60_000);

      for (const c of engines.slice(0, 2)) {
        await c.next((e) => e.type === 'offer-added' && e.offer.ceremonyId === cer.id, 'offer');
        const pin = typed(PINS[NAMES.indexOf(c.name as (typeof NAMES)[number])]!);
        expect((await c.engine.approve(cer.id, pin.source)).kind).toBe('approved');
        expect(pin.asked).toBe(1);
        const res = await c.next(
          (e) => e.type === 'result' && e.result.ceremonyId === cer.id,
          'result',
        );
        expect(res.type === 'result' && res.result.outcome).toBe('accepted');
      }
      // dave and erin never answered: their offers were withdrawn at quorum.
      for (const c of engines.slice(2)) {
        await c.next((e) => e.type === 'offer-removed' && e.ceremonyId === cer.id, 'withdrawal');
      }

      // Quorum, as the target card itself reports it.
      const status = JSON.parse(await admin('ceremony', 'status', cer.id, '--json')) as {
        state: string;
        progress: { authenticated: number; approvedBy: string[] };
      };
      expect(status.state).toBe('quorum');
      expect(status.progress.authenticated).toBe(3);
      expect([...status.progress.approvedBy].sort()).toEqual(['alice', 'bob', 'carol']);
      const unlocked = JSON.parse(await admin('target', 'status', '--target', 'ca', '--json')) as {
        pka: { authenticated: number; n: number };
        unlocked: { ceremonyId: string } | undefined;
      };
      expect(unlocked.pka).toMatchObject({ authenticated: 3, n: 3 });
      expect(unlocked.unlocked?.ceremonyId).toBe(cer.id);

      // The release key, generated on the target inside the unlock window (no signature spent).
      const key = JSON.parse(await admin(...keygen, '--curve', 'secp256r1', '--json')) as {
        id: number;
        label: string;
        curve: string;
        ceremonyId: string;
        publicKeyPem: string;
      };
      expect(key).toMatchObject({ label: SIGNER_LABEL, curve: 'secp256r1', ceremonyId: cer.id });
      const window = JSON.parse(await admin('target', 'status', '--target', 'ca', '--json')) as {
        unlocked: { ceremonyId: string; signaturesLeft: number } | undefined;
      };
      expect(window.unlocked).toMatchObject({ ceremonyId: cer.id, signaturesLeft: 5 });

      // Signing through the unlocked target; openssl verifies every detached signature.
      const files = mkdtempSync(join(tmpdir(), 'e2e-files-'));
      const paths = [1, 2, 3].map((i) => {
        const p = join(files, `artefact-${i}.bin`);
        writeFileSync(p, `release artefact ${i}\n`.repeat(500 * i));
        return p;
      });
      const out = join(files, 'signatures');
      const signed = await runNode('custodian-server sign', BIN.server, [
        'sign',
        '--config',
        config,
        '--target',
        'ca',
        '--key',
        SIGNER_LABEL,
        '--out',
        out,
        ...paths,
      ]);
      expect(signed.err).toBe('');
      expect(signed.code).toBe(0);
      expect(readFileSync(join(out, 'key.pem'), 'utf8').trim()).toBe(key.publicKeyPem.trim());
      for (const p of paths) {
        const name = p.split('/').at(-1)!;
        const v = execFileSync(
          'openssl',
          [
            'dgst',
            '-sha256',
            '-verify',
            join(out, 'key.pem'),
            '-signature',
            join(out, `${name}.sig`),
            p,
          ],
          { encoding: 'utf8' },
        );
        expect(v.trim()).toBe('Verified OK');
      }
      // A tampered file does not verify (the check above can fail).
      writeFileSync(paths[0]!, 'tampered');
      expect(() =>
        execFileSync(
          'openssl',
          [
            'dgst',
            '-sha256',
            '-verify',
            join(out, 'key.pem'),
            '-signature',
            join(out, 'artefact-1.bin.sig'),
            paths[0]!,
          ],
          { stdio: 'pipe' },
        ),
      ).toThrow();

      // No PIN anywhere: frames of the in-process custodians, files of server and CLI, outputs.
      for (const c of engines) {
        expect(c.sent.some((f) => f.includes('"hello"'))).toBe(true);
        for (const f of c.sent) for (const pin of PINS) expect(f).not.toContain(pin);
      }
      // The approvers' decisions (with the card's signature) are among the scanned frames.
      for (const c of engines.slice(0, 2)) {
        expect(c.sent.some((f) => f.includes('"approve"') && f.includes(cer.id))).toBe(true);
      }
      const scanned = scanFiles([join(dir, 'data'), home], [...PINS]);
      expect(scanned.files).toBeGreaterThan(3);
      expect(scanned.leaks).toEqual([]);
      for (const pin of PINS) {
        expect(server!.all()).not.toContain(pin);
        expect(watch.all()).not.toContain(pin);
      }
      // The CLI's audit chain verifies.
      const verified = await runNode('custodian audit verify', BIN.custodian, ['audit', 'verify'], {
        env,
      });
      expect(verified.code).toBe(0);
      expect(verified.out).toMatch(/chain intact/);
    }, 300_000);
  },
);

/** Every file under `dirs` searched for each PIN as text and as hex of its ASCII bytes. */
function scanFiles(dirs: string[], pins: string[]): { files: number; leaks: string[] } {
  const leaks: string[] = [];
  let files = 0;
  const walk = (d: string) => {
    for (const f of readdirSync(d)) {
      const p = join(d, f);
      if (statSync(p).isDirectory()) walk(p);
      else {
        files += 1;
        const bytes = readFileSync(p);
        const text = bytes.toString('latin1');
        for (const pin of pins) {
          const pinHex = Buffer.from(pin).toString('hex');
          if (text.includes(pin) || text.toLowerCase().includes(pinHex)) leaks.push(`${p}: ${pin}`);
        }
      }
    }
  };
  for (const d of dirs) walk(d);
  return { files, leaks };
}
