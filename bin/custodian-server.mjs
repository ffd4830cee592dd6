#!/usr/bin/env node
// Launcher of `custodian-server`: runs the prebuilt bundle dist/cli/custodian-server.mjs (`npm run build:cli`; the
// composition root is bin/entries/custodian-server.mjs). See bin/launch.mjs.
import { launch } from './launch.mjs';

await launch('custodian-server');
