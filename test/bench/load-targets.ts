/**
 * The load stage's target HSMs in a process of their own (test/bench/load.ts): like USB devices,
 * the emulated cards compute elsewhere, so the server process's CPU and event-loop figures are
 * the server's. The parent reaches them through {@link remoteCardTransport}, one IPC round trip
 * per APDU; this file is also the child's entry point.
 * @module
 */
import type { ChildProcess } from 'node:child_process';
import { CardTransportError, type CardTransport } from '../../core/card/transport';
import type { TestCa } from '../../emulator/ca/test-ca';
import { EmulatedSmartCardHsm } from '../../emulator/card/sc-hsm-card';
import { createDeviceState } from '../../emulator/card/state-file';

type Op = 'open' | 'transmit' | 'reset' | 'close';

/** Card time per command class (the fields of a stage-types.ts card model). */
export type CardDelays = {
  readonly simpleMs: number;
  readonly verifyPinMs: number;
  readonly signMs: number;
  readonly externalAuthenticateMs: number;
  readonly resetMs: number;
};

/** How long the modelled card takes for `op` (APDU class by INS, docs/card-reference.md). */
export function delayOf(d: CardDelays, op: Op, apdu?: Uint8Array): number {
  if (op === 'reset' || op === 'close') return d.resetMs;
  if (op !== 'transmit' || !apdu) return 0;
  const ins = apdu[1];
  if (ins === 0x20) return d.verifyPinMs;
  if (ins === 0x68) return d.signMs;
  if (ins === 0x82) return d.externalAuthenticateMs;
  return d.simpleMs;
}

/** Parent → card process. */
export type ToTargets =
  | { readonly type: 'init'; readonly ca: TestCa; readonly serials: readonly number[] }
  | { readonly type: 'latency'; readonly delays: CardDelays }
  | {
      readonly type: 'op';
      readonly id: number;
      readonly card: number;
      readonly op: Op;
      readonly apdu?: Uint8Array;
    };

/** Card process → parent. */
export type FromTargets =
  | { readonly type: 'ready' }
  | { readonly type: 'latency-set' }
  | { readonly type: 'answer'; readonly id: number; readonly data: Uint8Array }
  | { readonly type: 'refused'; readonly id: number; readonly message: string };

/** The parent's end: one request at a time per id. */
export type CardLink = {
  call(card: number, op: Op, apdu?: Uint8Array): Promise<Uint8Array>;
  /** Sets the card model of every card (resolves once the card process applies it). */
  setDelays(delays: CardDelays): Promise<void>;
};

/** Wraps the card process's IPC channel. */
export function cardLink(proc: ChildProcess): CardLink {
  let next = 1;
  const waiting = new Map<number, { ok: (d: Uint8Array) => void; fail: (e: Error) => void }>();
  let delaysSet: (() => void) | undefined;
  proc.on('message', (raw) => {
    const m = raw as FromTargets;
    if (m.type === 'latency-set') delaysSet?.();
    if (m.type === 'ready' || m.type === 'latency-set') return;
    const w = waiting.get(m.id);
    waiting.delete(m.id);
    if (m.type === 'answer') w?.ok(m.data);
    else w?.fail(new CardTransportError('io', m.message));
  });
  proc.on('exit', () => {
    for (const w of waiting.values())
      w.fail(new CardTransportError('card-removed', 'card process ended'));
    waiting.clear();
  });
  return {
    setDelays(delays) {
      return new Promise((ok) => {
        delaysSet = ok;
        proc.send({ type: 'latency', delays } satisfies ToTargets);
      });
    },
    call(card, op, apdu) {
      const id = next++;
      return new Promise((ok, fail) => {
        waiting.set(id, { ok, fail });
        const m: ToTargets = { type: 'op', id, card, op, ...(apdu ? { apdu } : {}) };
        proc.send(m);
      });
    },
  };
}

/** A card transport to card `card` of the card process (powers it on). */
export async function remoteCardTransport(link: CardLink, card: number): Promise<CardTransport> {
  const atr = await link.call(card, 'open');
  let closed = false;
  let queue: Promise<unknown> = Promise.resolve();
  const live = (): void => {
    if (closed) throw new CardTransportError('closed', 'the card connection is closed');
  };
  return {
    atr,
    async transmit(apdu) {
      live();
      if (apdu.length < 4)
        throw new CardTransportError('protocol', 'a command APDU has at least 4 bytes');
      return link.call(card, 'transmit', apdu.slice());
    },
    async reset() {
      live();
      return link.call(card, 'reset');
    },
    async close() {
      if (closed) return;
      closed = true;
      await link.call(card, 'close');
    },
    transaction(fn) {
      const run = queue.then(() => {
        live();
        return fn();
      });
      queue = run.catch(() => undefined);
      return run;
    },
  };
}

// ---- the card process ----

if (process.send && process.argv.includes('--load-targets')) {
  const cards: EmulatedSmartCardHsm[] = [];
  let delays: CardDelays = {
    simpleMs: 0,
    verifyPinMs: 0,
    signMs: 0,
    externalAuthenticateMs: 0,
    resetMs: 0,
  };
  const answer = (m: Extract<ToTargets, { type: 'op' }>) => {
    const c = cards[m.card];
    let reply: FromTargets;
    try {
      if (!c) throw new Error(`no card ${m.card}`);
      let data: Uint8Array;
      if (m.op === 'open') {
        c.powerOn();
        data = c.atr();
      } else if (m.op === 'transmit') data = c.process(m.apdu!);
      else if (m.op === 'reset') {
        c.reset();
        data = c.atr();
      } else {
        c.reset();
        data = new Uint8Array(0);
      }
      reply = { type: 'answer', id: m.id, data };
    } catch (e) {
      reply = { type: 'refused', id: m.id, message: e instanceof Error ? e.message : String(e) };
    }
    process.send!(reply);
  };
  process.on('message', (raw) => {
    const m = raw as ToTargets;
    if (m.type === 'init') {
      for (const serial of m.serials) {
        cards.push(new EmulatedSmartCardHsm(createDeviceState(m.ca, { serial })));
      }
      process.send!({ type: 'ready' } satisfies FromTargets);
    } else if (m.type === 'latency') {
      delays = m.delays;
      process.send!({ type: 'latency-set' } satisfies FromTargets);
    } else {
      // The card is busy for its modelled time, then answers (each card on its own).
      const ms = delayOf(delays, m.op, m.apdu);
      if (ms > 0) setTimeout(() => answer(m), ms);
      else answer(m);
    }
  });
  process.on('disconnect', () => process.exit(0));
}
