/**
 * One emulator in a vpcd slot, initialized with sc-hsm-tool, driven by pkcs11-tool and checked
 * with openssl: the shared part of the OpenSC PKCS#11 conformance suites (curves, RSA).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { openPcsc, type Pcsc } from '../../../core/pcsc/pcsc-adapter';
import type { VpcdSlot } from '../helpers/pcscd';
import { EmulatorFleet } from './emulator-process';
import { createDevice, expectSuccess, OpenscCard, USER_PIN } from './opensc-card';
import { runTool, type OpenscTools, type ToolResult } from './opensc-tools';

/** A started emulator with its tools and a scratch directory. */
export class Pkcs11Session {
  private constructor(
    readonly dir: string,
    readonly card: OpenscCard,
    private readonly pcsc: Pcsc,
    private readonly fleet: EmulatorFleet,
  ) {}

  /** Creates a device, serves it in `slot` and initializes it (user PIN {@link USER_PIN}). */
  static async start(tools: OpenscTools, slot: VpcdSlot, prefix: string): Promise<Pkcs11Session> {
    const dir = mkdtempSync(join(tmpdir(), prefix));
    const stateFile = join(dir, 'dev.json');
    await createDevice(stateFile, join(dir, 'ca'));
    const pcsc = await openPcsc();
    const fleet = new EmulatorFleet(pcsc);
    const card = new OpenscCard(tools, slot.reader);
    await fleet.serve(stateFile, slot);
    expectSuccess('sc-hsm-tool --initialize', await card.initialize());
    return new Pkcs11Session(dir, card, pcsc, fleet);
  }

  /** Stops the emulator and removes the directory. */
  async close(): Promise<void> {
    await this.fleet.cleanup();
    await this.pcsc.close();
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** A path in the scratch directory. */
  file(name: string): string {
    return join(this.dir, name);
  }

  /** Writes a file in the scratch directory and returns its path. */
  write(name: string, data: string | Uint8Array): string {
    const p = this.file(name);
    writeFileSync(p, data);
    return p;
  }

  /** `openssl …` in the scratch directory. */
  openssl(...args: string[]): Promise<ToolResult> {
    return runTool(this.card.tools.openssl, args, { cwd: this.dir });
  }

  /**
   * `pkcs11-tool --keypairgen --key-type <type> --label <label>`; returns the new key's CKA_ID
   * (hex) and pkcs11-tool's output. pkcs11-tool 0.23 picks signing keys by --id only.
   */
  async keygen(keyType: string, label: string): Promise<{ id: string; stdout: string }> {
    const r = expectSuccess(
      `pkcs11-tool --keypairgen ${keyType}`,
      await this.card.pkcs11Tool(
        '--login',
        '--pin',
        USER_PIN,
        '--keypairgen',
        '--key-type',
        keyType,
        '--label',
        label,
      ),
    );
    expect(r.stdout).toMatch(/Key pair generated/);
    const id = /^\s*ID:\s+([0-9a-f]+)\s*$/m.exec(r.stdout)?.[1];
    if (id === undefined) throw new Error(`no ID in pkcs11-tool output:\n${r.stdout}`);
    return { id, stdout: r.stdout };
  }

  /** Exports the public key with CKA_ID `id` as PEM; returns its path. */
  async exportPublicKey(id: string): Promise<string> {
    const der = this.file(`${id}.pub.der`);
    const pem = this.file(`${id}.pub.pem`);
    expectSuccess(
      'pkcs11-tool --read-object',
      await this.card.pkcs11Tool('--read-object', '--type', 'pubkey', '--id', id, '-o', der),
    );
    expectSuccess(
      'openssl pkey DER → PEM',
      await this.openssl('pkey', '-pubin', '-inform', 'DER', '-in', der, '-out', pem),
    );
    return pem;
  }

  /**
   * The EC public key of a `--keypairgen` listing (EC_PARAMS and the EC_POINT octet string the
   * token reports) as a PEM file, via openssl. pkcs11-tool 0.23's `--read-object` fails with
   * "cannot create EVP_PKEY" for some curves (secp384r1, the 192-bit ones) whatever the token
   * holds, so EC keys are exported from the listing.
   */
  async ecPublicKeyFromListing(stdout: string, name: string): Promise<string> {
    const params = /EC_PARAMS:\s+([0-9a-f]+)/.exec(stdout)?.[1];
    const point = /EC_POINT:\s+([0-9a-f]+)/.exec(stdout)?.[1];
    if (params === undefined || point === undefined) throw new Error(`no EC key in:\n${stdout}`);
    const octets = Buffer.from(point, 'hex');
    // EC_POINT is a DER OCTET STRING: 04 <len> (short or 81/82 long form) <04‖x‖y>.
    const lenByte = octets[1]!;
    const skip = lenByte < 0x80 ? 2 : 2 + (lenByte & 0x7f);
    const der = (tag: number, body: Buffer) => {
      const n = body.length;
      const len = n < 0x80 ? [n] : n < 0x100 ? [0x81, n] : [0x82, n >> 8, n & 0xff];
      return Buffer.concat([Buffer.from([tag, ...len]), body]);
    };
    const idEcPublicKey = Buffer.from('06072a8648ce3d0201', 'hex');
    const spki = der(
      0x30,
      Buffer.concat([
        der(0x30, Buffer.concat([idEcPublicKey, Buffer.from(params, 'hex')])),
        der(0x03, Buffer.concat([Buffer.of(0), octets.subarray(skip)])),
      ]),
    );
    const derFile = this.write(`${name}.spki.der`, spki);
    const pem = this.file(`${name}.pub.pem`);
    expectSuccess(
      'openssl pkey DER → PEM',
      await this.openssl('pkey', '-pubin', '-inform', 'DER', '-in', derFile, '-out', pem),
    );
    return pem;
  }

  /** `pkcs11-tool --sign --mechanism <mechanism> --id <id>` over `input`; returns the signature path. */
  async sign(id: string, mechanism: string, input: string, extra: string[] = []): Promise<string> {
    const sig = this.file(`${id}.${mechanism}.${Date.now()}.sig`);
    expectSuccess(
      `pkcs11-tool --sign ${mechanism}`,
      await this.card.pkcs11Tool(
        '--login',
        '--pin',
        USER_PIN,
        '--sign',
        '--mechanism',
        mechanism,
        '--id',
        id,
        ...extra,
        '-i',
        input,
        '-o',
        sig,
      ),
    );
    return sig;
  }
}
