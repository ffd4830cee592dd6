/**
 * `npm run demo [-- --pcsc] [-- --keep]`: runs the demo and exits 0 on success, 1 with one
 * clear message on any failure, 2 on a usage error.
 * @module
 */
import { runDemo } from './run-demo';
import { messageOf } from '../shared/error-message';

const USAGE = `usage: npm run demo [-- --pcsc] [-- --keep] [-- --mkimage]
  --pcsc   target in vpcd reader 0 and custodian alice in vpcd reader 1, through pcscd
  --mkimage then sign a U-Boot FIT image with mkimage through the PKCS#11 module and prove it
  --keep   keep the temporary directory (server data, audit logs, files, signatures)
`;

async function main(argv: readonly string[]): Promise<number> {
  const flags = new Set(argv);
  if (flags.has('--help') || flags.has('-h')) {
    process.stdout.write(USAGE);
    return 0;
  }
  const unknown = argv.filter((a) => a !== '--pcsc' && a !== '--keep' && a !== '--mkimage');
  if (unknown.length > 0) {
    process.stderr.write(`demo: unknown argument ${unknown.join(' ')}\n${USAGE}`);
    return 2;
  }
  // A closed pipe (`npm run demo | head`) must not crash the run: stop writing, finish, clean up.
  let piped = true;
  process.stdout.on('error', () => void (piped = false));
  const out = (t: string) => void (piped && process.stdout.write(t));
  try {
    let hardware: Parameters<typeof runDemo>[0]['hardware'];
    if (flags.has('--pcsc')) {
      const { pcscHardware } = await import('./pcsc');
      hardware = pcscHardware;
    }
    await runDemo({
      out,
      color: process.stdout.isTTY === true,
      keep: flags.has('--keep'),
      mkimage: flags.has('--mkimage'),
      ...(hardware ? { hardware } : {}),
    });
    return 0;
  } catch (e) {
    process.stderr.write(`\ndemo FAILED: ${messageOf(e)}\n`);
    return 1;
  }
}

// Exit explicitly: stdout and stderr are synchronous for files and pipes on Linux, and a stray
// handle (a PC/SC context) must not keep a finished demo alive.
process.exit(await main(process.argv.slice(2)));
