/**
 * Fault-injection world: the real server in-process with an emulated target (2-of-3 PKA by
 * default), custodians enrolled through the real engine and then running session engines (as
 * `custodian watch` does), custodian cards that can be pulled out mid-approval, and a TCP proxy
 * between engines and server whose connections can be cut, refused or made to swallow the
 * server's answers.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { CardTransport } from '../../../core/card/transport';
import { CardTransportError } from '../../../core/card/transport';
import type { EmulatedSmartCardHsm } from '../../../emulator/card/sc-hsm-card';
import { createInProcessTransport } from '../../../emulator/transport/in-process';
import { toHex } from '../../../shared/codec/bytes';
import type { RunningServer } from '../../../server/app';
import {
  adminApi,
  custodianCard,
  dataDir,
  startTestServer,
  targetCard,
  testCa,
  type TargetHandle,
} from '../server/harness';
import { startCustodian, type Custodian } from '../e2e/world';

export { PIN } from '../server/harness';

/**
 * A custodian card that can be removed: while `present` is false it cannot be opened and every
 * APDU on an open connection fails as `card-removed` (like PC/SC after a removal).
 */
export function removableCard(card: EmulatedSmartCardHsm) {
  const apdus: string[] = [];
  const state = { present: true, opens: 0 };
  /** Called before each APDU reaches the card (tests pull the card from here). */
  let beforeApdu: (hex: string) => void = () => undefined;
  const gone = () => new CardTransportError('card-removed', 'the card was removed');
  const openCard = async (): Promise<CardTransport> => {
    if (!state.present) throw new CardTransportError('no-card', 'no card in the reader');
    state.opens += 1;
    const inner = createInProcessTransport(card);
    return {
      get atr() {
        return inner.atr;
      },
      transmit: async (apdu) => {
        const hex = toHex(apdu);
        beforeApdu(hex);
        if (!state.present) throw gone();
        apdus.push(hex);
        return inner.transmit(apdu);
      },
      transaction: (fn) => inner.transaction(fn),
      reset: async () => {
        if (!state.present) throw gone();
        return inner.reset();
      },
      close: (d) => inner.close(d),
    };
  };
  return {
    card,
    openCard,
    apdus,
    state,
    onApdu(fn: (hex: string) => void) {
      beforeApdu = fn;
    },
    /** PKA SIGN commands (`80 68`) the card actually executed. */
    signs: () => apdus.filter((a) => a.startsWith('8068')).length,
  };
}

/** Server + enrolled custodians (credentials kept for session engines). */
export async function faultWorld(names: readonly string[], m = 3, n = 2) {
  const target: TargetHandle = { card: await targetCard(m, n), opens: 0, fail: false };
  const dir = dataDir();
  const server = await startTestServer(target, dir);
  const custodians: {
    name: string;
    card: ReturnType<typeof removableCard>;
    key: { keyId: number; chr: string };
    custodianId: string;
    credential: string;
  }[] = [];
  for (const name of names) {
    const c = await custodianCard();
    const card = removableCard(c.card);
    const inv = await adminApi<{ token: string }>(server, 'POST', '/api/enrollments', {
      target: 't1',
      name,
    });
    const enrolling = startCustodian({
      name,
      url: server.wsUrl,
      auth: { kind: 'enroll', token: inv.body.token, pka: c.pka, keyId: c.keyId },
      ca: testCa(),
      key: { keyId: c.keyId, chr: c.chr },
      openCard: card.openCard,
    });
    const e = await enrolling.next((x) => x.type === 'enrolled', 'enrollment');
    enrolling.engine.stop();
    enrolling.audit.close();
    if (e.type !== 'enrolled') throw new Error('not enrolled');
    custodians.push({
      name,
      card,
      key: { keyId: c.keyId, chr: c.chr },
      custodianId: e.custodianId,
      credential: e.credential,
    });
  }
  return { server, target, dir, custodians };
}
export type FaultWorld = Awaited<ReturnType<typeof faultWorld>>;

/** A session engine (as `custodian watch` runs it) for custodian `i` of the world. */
export function sessionEngine(
  w: { custodians: FaultWorld['custodians'] },
  i: number,
  url: string,
  backoff = { initialMs: 100, maxMs: 800 },
): Custodian {
  const c = w.custodians[i]!;
  return startCustodian({
    name: c.name,
    url,
    auth: { kind: 'session', custodianId: c.custodianId, credential: c.credential },
    ca: testCa(),
    key: c.key,
    openCard: c.card.openCard,
    backoff,
  });
}

/** Ceremony snapshot from the admin API. */
export async function ceremony(server: RunningServer, id: string) {
  return (
    await adminApi<{
      state: string;
      epoch: number;
      progress: { authenticated: number; approvedBy: string[] };
    }>(server, 'GET', `/api/ceremonies/${id}`)
  ).body;
}

/** Authenticated count as the target card itself reports it (`80 54`, docs/card-reference.md §6.4). */
export async function cardAuthenticated(server: RunningServer): Promise<number> {
  const s = await adminApi<{ pka: { authenticated: number } }>(server, 'GET', '/api/targets/t1');
  return s.body.pka.authenticated;
}

/** Opens a ceremony on t1. */
export async function requestCeremony(server: RunningServer): Promise<string> {
  const r = await adminApi<{ id: string }>(server, 'POST', '/api/ceremonies', {
    target: 't1',
    purpose: 'fault test',
    requester: 'ops',
  });
  if (r.status !== 201 && r.status !== 200) throw new Error(JSON.stringify(r.body));
  return r.body.id;
}

/** A TCP proxy in front of `upstreamPort` whose connections the test controls. */
export async function startProxy(upstreamPort: number) {
  const pairs = new Set<{ client: Socket; upstream: Socket }>();
  const ctl = { refuse: false, swallowDownstream: false, accepted: 0 };
  const server: Server = createServer((client) => {
    if (ctl.refuse) {
      client.destroy();
      return;
    }
    ctl.accepted += 1;
    const upstream = connect(upstreamPort, '127.0.0.1');
    const pair = { client, upstream };
    pairs.add(pair);
    client.on('data', (d) => upstream.write(d));
    upstream.on('data', (d) => {
      // Swallowing: the server's answers are lost on the way (the stream is dropped afterwards).
      if (!ctl.swallowDownstream) client.write(d);
    });
    const end = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('close', end);
    upstream.on('close', end);
    client.on('error', end);
    upstream.on('error', end);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    ctl,
    /** Cuts every connection without a close handshake (cable pulled). */
    dropAll() {
      for (const p of pairs) {
        p.client.destroy();
        p.upstream.destroy();
      }
      pairs.clear();
    },
    close: () =>
      new Promise<void>((r) => {
        for (const p of pairs) {
          p.client.destroy();
          p.upstream.destroy();
        }
        server.close(() => r());
      }),
  };
}
