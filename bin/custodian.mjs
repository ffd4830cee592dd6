#!/usr/bin/env node
// Launcher of `custodian`: runs the prebuilt bundle dist/cli/custodian.mjs (`npm run build:cli`; the
// composition root is bin/entries/custodian.mjs). See bin/launch.mjs.
import { launch } from './launch.mjs';

await launch('custodian');
