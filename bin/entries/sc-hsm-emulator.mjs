// Entry of `sc-hsm-emulator`, bundled by build/bundle-cli.mjs into dist/cli/sc-hsm-emulator.mjs
// (run by bin/sc-hsm-emulator.mjs).
import '../../emulator/cli/main.ts';
