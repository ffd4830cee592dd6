// electron-builder configuration of the desktop app. Build with:
//   npm run build:app && npx electron-builder --config build/electron-builder.mjs
// Invariants (asserted by test/unit/build/electron-builder.test.ts): app id, targets
// AppImage + deb / dmg / nsis, native .node files unpacked from the asar (pcsclite cannot be
// loaded from inside an archive), only the bundled out/ in the package, Electron fuses stated
// explicitly (no ELECTRON_RUN_AS_NODE, no NODE_OPTIONS/--inspect, asar integrity enforced,
// app only from the asar, no extra file:// privileges).

/** @type {import('electron-builder').Configuration} */
const config = {
  appId: 'org.custodian.desktop',
  productName: 'Custodian',
  copyright: 'Copyright © Custodian contributors',
  directories: { output: 'dist/desktop', buildResources: 'build/resources' },
  // The bundles are self-contained except for native modules and electron itself.
  files: [
    'out/main/**',
    'out/preload/**',
    'out/renderer/**',
    'package.json',
    '!out/renderer-dev/**',
    '!**/*.map',
    '!**/*.ts',
  ],
  extraMetadata: { main: 'out/main/main.cjs' },
  asar: true,
  asarUnpack: ['**/*.node'],
  npmRebuild: true,
  electronFuses: {
    runAsNode: false,
    enableCookieEncryption: true,
    enableNodeOptionsEnvironmentVariable: false,
    enableNodeCliInspectArguments: false,
    enableEmbeddedAsarIntegrityValidation: true,
    onlyLoadAppFromAsar: true,
    loadBrowserProcessSpecificV8Snapshot: false,
    grantFileProtocolExtraPrivileges: false,
  },
  linux: {
    target: ['AppImage', 'deb'],
    category: 'Security',
    icon: 'build/icons',
    executableName: 'custodian',
    synopsis: 'Approve SmartCard-HSM key ceremonies with your own card',
  },
  deb: { depends: ['pcscd', 'libpcsclite1'] },
  mac: {
    target: ['dmg'],
    category: 'public.app-category.utilities',
    icon: 'build/icons/icon.png',
    hardenedRuntime: true,
  },
  win: { target: ['nsis'], icon: 'build/icons/icon.png' },
  nsis: { oneClick: false, perMachine: false, allowToChangeInstallationDirectory: true },
  publish: null,
};

export default config;
