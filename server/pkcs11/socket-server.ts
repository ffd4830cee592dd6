/**
 * The PKCS#11 module's socket (docs/pkcs11.md): a Unix socket in a directory only the server's
 * user may enter (0700), the socket itself 0600. A connection must authenticate with `hello`
 * and a client credential before anything else; requests on one connection run one at a time;
 * every refusal that concerns a client is audited with its name.
 * @module
 */
import { chmodSync, existsSync, lstatSync, mkdirSync, unlinkSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { dirname } from 'node:path';
import type { CeremonyEngine } from '../ceremonies/engine';
import type { Store } from '../store/store';
import type { TargetService } from '../targets/target-service';
import type { Pkcs11Client, Pkcs11ClientStore } from './client-store';
import { CKR, Pkcs11Refusal, refusalOf } from './ckr';
import { keyItem } from './key-objects';
import { login } from './login';
import { requestSchema, type Request } from './requests';
import { KeyCache, signFor } from './signer';
import { FrameReader, item, printable, reply, TAG } from './wire';

/** What the socket server needs. */
export type Pkcs11Deps = {
  readonly store: Store;
  readonly engine: CeremonyEngine;
  readonly targets: ReadonlyMap<string, TargetService>;
  readonly clients: Pkcs11ClientStore;
  readonly log: (line: string) => void;
};

/** A running module socket. */
export type Pkcs11Socket = { readonly path: string; close(): Promise<void> };

/** Prepares the socket's directory (0700, owned by us) and removes a stale socket file. */
function prepare(path: string): void {
  // sockaddr_un.sun_path holds 108 bytes including the terminating NUL.
  if (Buffer.byteLength(path) > 107)
    throw new Error(`socket path too long (max 107 bytes): ${path}`);
  const dir = dirname(path);
  if (!existsSync(dir)) mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = lstatSync(dir);
  if (!st.isDirectory()) throw new Error(`${dir} is not a directory`);
  if (typeof process.getuid === 'function' && st.uid !== process.getuid()) {
    throw new Error(`${dir} belongs to another user; the module socket needs its own directory`);
  }
  if ((st.mode & 0o077) !== 0) chmodSync(dir, 0o700);
  if (existsSync(path)) {
    if (!lstatSync(path).isSocket()) throw new Error(`${path} exists and is not a socket`);
    unlinkSync(path);
  }
}

class Connection {
  private client: Pkcs11Client | undefined;
  private queue: Promise<void> = Promise.resolve();
  private readonly reader = new FrameReader();
  readonly gone: Promise<void>;

  constructor(
    private readonly deps: Pkcs11Deps,
    private readonly keys: KeyCache,
    private readonly socket: Socket,
  ) {
    this.gone = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.on('error', () => socket.destroy());
    socket.on('data', (chunk: Buffer) => {
      let frames: Buffer[];
      try {
        frames = this.reader.push(chunk);
      } catch (e) {
        this.refuse(undefined, CKR.ARGUMENTS_BAD, (e as Error).message);
        socket.end();
        return;
      }
      for (const f of frames) this.queue = this.queue.then(() => this.handle(f));
    });
  }

  private send(frame: Buffer): void {
    if (!this.socket.destroyed) this.socket.write(frame);
  }

  private refuse(req: Request | undefined, rv: number, message: string): void {
    this.deps.store.audit.append('pkcs11-refused', {
      client: this.client?.name ?? null,
      op: req?.op ?? 'unparsed',
      ...(req && 'target' in req ? { target: req.target } : {}),
      ...(req?.op === 'sign' ? { keyId: req.keyRef, mechanism: req.mechanism } : {}),
      rv,
      reason: printable(message),
    });
    this.send(reply(rv, message));
  }

  private target(name: string): TargetService {
    const t = this.deps.targets.get(name);
    if (!t) throw new Pkcs11Refusal(CKR.SLOT_ID_INVALID, `unknown target "${name}"`);
    return t;
  }

  private async handle(frame: Buffer): Promise<void> {
    let req: Request;
    try {
      const parsed = requestSchema.safeParse(JSON.parse(frame.toString('utf8')));
      if (!parsed.success) throw new Error(parsed.error.issues[0]?.message ?? 'invalid');
      req = parsed.data;
    } catch (e) {
      this.refuse(undefined, CKR.ARGUMENTS_BAD, `malformed request: ${(e as Error).message}`);
      this.socket.end();
      return;
    }
    if (req.op === 'hello') {
      const c = this.deps.clients.authenticate(req.credential);
      if (!c) {
        this.refuse(req, CKR.PIN_INCORRECT, 'client credential refused');
        this.socket.end();
        return;
      }
      this.client = c;
      this.send(reply(CKR.OK, undefined, item(TAG.client, c.name)));
      return;
    }
    if (!this.client) {
      this.refuse(req, CKR.USER_NOT_LOGGED_IN, 'hello with a client credential first');
      this.socket.end();
      return;
    }
    try {
      this.send(await this.serve(this.client, req));
    } catch (e) {
      const r = refusalOf(e);
      if (r.rv === CKR.GENERAL_ERROR) this.deps.log(`pkcs11: ${(e as Error).stack ?? String(e)}`);
      this.refuse(req, r.rv, r.message);
    }
  }

  private async serve(client: Pkcs11Client, req: Request): Promise<Buffer> {
    switch (req.op) {
      case 'slots': {
        const slots = [...this.deps.targets.values()].map((t) =>
          item(
            TAG.slot,
            Buffer.concat([
              item(TAG.slotName, t.name),
              item(TAG.slotLabel, printable(t.label, 100)),
              ...(t.deviceId ? [item(TAG.slotDevice, printable(t.deviceId, 32))] : []),
              item(TAG.slotFlags, Uint8Array.of((t.deviceId ? 1 : 0) | (t.unlocked ? 2 : 0))),
            ]),
          ),
        );
        return reply(CKR.OK, undefined, ...slots);
      }
      case 'objects': {
        const keys = await this.keys.all(this.target(req.target), true);
        return reply(CKR.OK, undefined, ...keys.map(keyItem));
      }
      case 'login': {
        const t = this.target(req.target);
        const r = await login(this.deps, t, client, req, this.gone);
        return reply(r.rv, r.message);
      }
      case 'sign': {
        const t = this.target(req.target);
        const sig = await signFor(this.deps.store, t, this.keys, client, req);
        return reply(CKR.OK, undefined, item(TAG.signature, sig));
      }
      case 'hello':
        throw new Pkcs11Refusal(CKR.ARGUMENTS_BAD, 'hello was already sent');
    }
  }
}

/** Starts the module socket at `path`. */
export async function startPkcs11Socket(path: string, deps: Pkcs11Deps): Promise<Pkcs11Socket> {
  prepare(path);
  const keys = new KeyCache(deps.targets);
  const sockets = new Set<Socket>();
  const server: Server = createServer((s) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
    new Connection(deps, keys, s);
  });
  // The socket is created with the process umask; tighten it before anyone can connect.
  const old = process.umask(0o177);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => resolve());
    });
  } finally {
    process.umask(old);
  }
  chmodSync(path, 0o600);
  return {
    path,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
