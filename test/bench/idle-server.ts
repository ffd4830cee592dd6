/**
 * Child process of the idle-connection benchmark: the REAL server (admin API, hub, store) with
 * N custodians in its store, each with a session credential. The parent connects the clients
 * from its own process, so this process's memory is the server's alone. Talks over IPC:
 * `setup` → `{ port }`; `measure` → memory after a full GC and the hub's session count.
 * Run with --expose-gc.
 * @module
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmulatedSmartCardHsm } from '../../emulator/card/sc-hsm-card';
import { createDeviceState } from '../../emulator/card/state-file';
import { createInProcessTransport } from '../../emulator/transport/in-process';
import { startServer, type RunningServer } from '../../server/app';
import { parseConfig } from '../../server/config';
import { hashSecret } from '../../server/store/secrets';
import { unwrap } from '../../shared/result';
import { writeFileSync } from 'node:fs';
import { benchPki } from './fixtures';
import { gc } from './stats';

/** Credential of bench custodian `i` (43 base64url characters, like a real one). */
export const benchCredential = (i: number): string => `bench${String(i).padStart(38, '0')}`;
/** Id of bench custodian `i`. */
export const benchCustodianId = (i: number): string => `cus-bench${i}`;

type Request = { cmd: 'setup'; n: number } | { cmd: 'measure' } | { cmd: 'stop' };

let server: RunningServer | undefined;
let dir: string | undefined;

async function setup(n: number): Promise<{ port: number }> {
  dir = mkdtempSync(join(tmpdir(), 'bench-idle-'));
  const { ca } = benchPki();
  const anchor = join(dir, 'root.cvc');
  writeFileSync(anchor, ca.root.cvc);
  const target = new EmulatedSmartCardHsm(createDeviceState(ca, { serial: 7300 }));
  const config = unwrap(
    parseConfig(
      {
        listen: { host: '127.0.0.1', port: 0 },
        dataDir: join(dir, 'data'),
        targets: [{ name: 't1', emulatorState: 'in-process' }],
        trustAnchors: [anchor],
        unlock: { maxSeconds: 60, maxSignatures: 10 },
        ceremonyDefaults: { expiresInSeconds: 600 },
        // The parent connects 200 clients at a time from one loopback address.
        connections: { maxUnauthenticatedPerAddress: 1000, maxUnauthenticated: 1000 },
      },
      dir,
    ),
  );
  server = await startServer(config, {
    openerFor: () => async () => createInProcessTransport(target),
    log: () => undefined,
  });
  const s = server;
  s.store.db.transaction(() => {
    for (let i = 0; i < n; i++) {
      s.store.custodians.insert({
        id: benchCustodianId(i),
        name: `bench ${i}`,
        target: 't1',
        keyChr: `BENCH${String(i).padStart(8, '0')}`,
        keyId: 1,
        pka: Uint8Array.of(0x30, 0x00),
        credentialHash: hashSecret(benchCredential(i)),
        enrolledAt: new Date().toISOString(),
      });
    }
  })();
  return { port: s.port };
}

function measure() {
  gc();
  const m = process.memoryUsage();
  return {
    rss: m.rss,
    heapUsed: m.heapUsed,
    external: m.external,
    sessions: server?.hub.connected().length ?? 0,
  };
}

process.on('message', (raw: unknown) => {
  const req = raw as Request;
  void (async () => {
    try {
      if (req.cmd === 'setup') process.send!({ ok: true, value: await setup(req.n) });
      else if (req.cmd === 'measure') {
        await new Promise((r) => setTimeout(r, 300));
        process.send!({ ok: true, value: measure() });
      } else {
        await server?.stop();
        if (dir) rmSync(dir, { recursive: true, force: true });
        process.send!({ ok: true, value: null }, () => process.exit(0));
      }
    } catch (e) {
      process.send!({ ok: false, error: (e as Error).stack ?? String(e) });
    }
  })();
});
