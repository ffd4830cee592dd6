/**
 * The anchor: a minimal RAMoverHTTP-style relay, the way CardContact's remote card access works —
 * the server sends each APDU of a custodian's authentication as its own round trip (SELECT,
 * VERIFY PIN, SIGN) and the client only relays it to its card; the PIN is entered locally, so the
 * server's VERIFY carries no data and the client puts its PIN in. The server then presents each
 * signature at the target (MSE SET AT + EXTERNAL AUTHENTICATE) as Custodian's server does.
 *
 * Bench-only, and deliberately as lean as possible (no offer, no firewall, no audit, no store):
 * what it measures is the round-trip structure. It drives the same target (through the running
 * server's target queue) and the same custodian cards with the same card-latency model, over the
 * same delay proxy (test/bench/delay-proxy.ts), as the Custodian ceremony it is compared with.
 * @module
 */
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import type { CardTransport } from '../../core/card/transport';
import type { CardOpener } from '../../core/custodian/card-session';
import type { TargetService } from '../../server/targets/target-service';
import { encodeCommandApdu } from '../../shared/codec/apdu';
import { asciiBytes, fromHex, toHex } from '../../shared/codec/bytes';
import { derToPlain } from '../../shared/crypto/ecdsa';
import { unwrap } from '../../shared/result';
import { verifyPinCommand } from '../../shared/sc-hsm/pin';
import { selectApplet } from '../../shared/sc-hsm/select';
import { pkaSignApdu } from './fixtures';

/** A custodian as the relay client knows it. */
export type AnchorSeat = {
  readonly name: string;
  readonly pin: string;
  readonly keyId: number;
  readonly keyChr: string;
  readonly openCard: CardOpener;
};

/** A running relay: server side in this process, clients connected through `url`. */
export type AnchorRelay = {
  /** One ceremony: GET CHALLENGE at the target, then every approver's 3 round trips and its EXTERNAL AUTHENTICATE. Resolves with request → quorum (ms). */
  ceremony(approvers: readonly string[]): Promise<number>;
  close(): Promise<void>;
};

/** VERIFY of the user PIN without data: the client enters the PIN (docs/card-reference.md §3.1). */
const VERIFY_PIN_LOCAL = Uint8Array.of(0x00, 0x20, 0x00, 0x81);
const sw = (r: Uint8Array) => ((r[r.length - 2] ?? 0) << 8) | (r[r.length - 1] ?? 0);
/** Custodian keys are 256-bit (core/sc-hsm/key-generation.ts): r and s of 32 bytes each. */
const ORDER_BYTES = 32;

/**
 * The client: relays each command to its card, one message at a time in arrival order (the
 * first opens the card, `done` resets it); a card failure is answered as `error`.
 */
function relayClient(url: string, seat: AnchorSeat): Promise<WebSocket> {
  const ws = new WebSocket(`${url}?name=${encodeURIComponent(seat.name)}`);
  let card: CardTransport | undefined;
  const handle = async (m: { apdu?: string; done?: true }): Promise<void> => {
    if (m.done) {
      const closing = card;
      card = undefined;
      await closing?.close('reset');
      return;
    }
    card ??= await seat.openCard();
    let apdu = fromHex(m.apdu ?? '');
    if (toHex(apdu) === toHex(VERIFY_PIN_LOCAL))
      apdu = unwrap(encodeCommandApdu(unwrap(verifyPinCommand(asciiBytes(seat.pin)))));
    ws.send(JSON.stringify({ rapdu: toHex(await card.transmit(apdu)) }));
  };
  let queue: Promise<void> = Promise.resolve();
  ws.on('message', (data) => {
    const m = JSON.parse(data.toString()) as { apdu?: string; done?: true };
    queue = queue
      .then(() => handle(m))
      .catch((e: unknown) => ws.send(JSON.stringify({ error: String(e) })));
  });
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

/**
 * Starts the relay's server on 127.0.0.1 and connects a client per seat to it through
 * `viaPort` (a delay proxy's port, or the server's own port for no added latency).
 */
export async function startAnchorRelay(
  target: TargetService,
  targetChr: Uint8Array,
  seats: readonly AnchorSeat[],
  proxyTo: (serverPort: number) => Promise<{ port: number; close(): Promise<void> }>,
): Promise<AnchorRelay> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((r) => wss.once('listening', () => r()));
  const peers = new Map<string, WebSocket>();
  const waiting = new Map<string, { resolve(r: Uint8Array): void; reject(e: Error): void }>();
  wss.on('connection', (ws, req) => {
    const name = new URL(req.url ?? '/', 'http://x').searchParams.get('name') ?? '';
    peers.set(name, ws);
    ws.on('message', (data) => {
      const m = JSON.parse(data.toString()) as { rapdu?: string; error?: string };
      const w = waiting.get(name);
      waiting.delete(name);
      if (m.rapdu !== undefined) w?.resolve(fromHex(m.rapdu));
      else w?.reject(new Error(`anchor: ${name}'s card: ${m.error ?? 'no answer'}`));
    });
  });
  const proxy = await proxyTo((wss.address() as AddressInfo).port);
  const clients = await Promise.all(
    seats.map((s) => relayClient(`ws://127.0.0.1:${proxy.port}/`, s)),
  );
  while (peers.size < seats.length) await new Promise((r) => setTimeout(r, 5));

  /** One round trip: the command out, its response back. */
  const ask = (name: string, apdu: Uint8Array) =>
    new Promise<Uint8Array>((resolve, reject) => {
      waiting.set(name, { resolve, reject });
      peers.get(name)!.send(JSON.stringify({ apdu: toHex(apdu) }));
    });

  async function authenticate(seat: AnchorSeat, challenge: Uint8Array): Promise<void> {
    const steps = [
      unwrap(encodeCommandApdu(selectApplet())),
      VERIFY_PIN_LOCAL,
      pkaSignApdu(seat.keyId, targetChr, challenge),
    ];
    let last: Uint8Array = new Uint8Array();
    for (const apdu of steps) {
      last = await ask(seat.name, apdu);
      if (sw(last) !== 0x9000)
        throw new Error(`anchor: ${seat.name} answered ${sw(last).toString(16)}`);
    }
    peers.get(seat.name)!.send(JSON.stringify({ done: true }));
    const plain = unwrap(derToPlain(last.subarray(0, last.length - 2), ORDER_BYTES));
    await target.run(async (card) => {
      await card.selectPkaKey(asciiBytes(seat.keyChr));
      await card.externalAuthenticate(plain);
    });
  }

  return {
    async ceremony(approvers) {
      const t0 = performance.now();
      const challenge = await target.run((card) => card.getChallenge());
      await Promise.all(
        approvers.map((name) =>
          authenticate(
            seats.find((s) => s.name === name)!,
            challenge,
          ),
        ),
      );
      const dt = performance.now() - t0;
      const status = await target.run((card) => card.pkaStatus());
      if ((status?.authenticated ?? 0) < approvers.length)
        throw new Error(`anchor: the target counted ${status?.authenticated ?? 0} approvals`);
      return dt;
    },
    async close() {
      for (const c of clients) c.close();
      await proxy.close();
      await new Promise<void>((r) => wss.close(() => r()));
    },
  };
}
