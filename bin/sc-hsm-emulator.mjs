#!/usr/bin/env node
// Launcher of `sc-hsm-emulator`: runs the prebuilt bundle dist/cli/sc-hsm-emulator.mjs (`npm run build:cli`; the
// composition root is bin/entries/sc-hsm-emulator.mjs). See bin/launch.mjs.
import { launch } from './launch.mjs';

await launch('sc-hsm-emulator');
