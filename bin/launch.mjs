// Shared by the three launchers in bin/: runs the prebuilt JavaScript bundle of a command
// (dist/cli/<name>.mjs, written by `npm run build:cli` from bin/entries/<name>.mjs), so no
// TypeScript is compiled at run time. A missing bundle is a setup error (exit 2), never a silent
// switch to the sources. For development only, CUSTODIAN_FROM_SOURCE=1 runs the entry's
// TypeScript sources through tsx (a devDependency) instead of the bundle.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * Runs command `name` (custodian, custodian-server or sc-hsm-emulator).
 * @param {string} name
 * @returns {Promise<void>}
 */
export async function launch(name) {
  if (process.env.CUSTODIAN_FROM_SOURCE === '1') {
    const { register } = await import('tsx/esm/api');
    register();
    await import(new URL(`./entries/${name}.mjs`, import.meta.url).href);
    return;
  }
  const bundle = new URL(`../dist/cli/${name}.mjs`, import.meta.url);
  if (!existsSync(fileURLToPath(bundle))) {
    process.stderr.write(
      `${name}: the prebuilt command ${fileURLToPath(bundle)} is missing; ` +
        `build it with \`npm run build:cli\` in ${fileURLToPath(new URL('..', import.meta.url))}\n`,
    );
    process.exitCode = 2;
    return;
  }
  await import(bundle.href);
}
