import type { TimerHandle, Timers } from '../../../../core/net/timers';
import type { WsConnection, WsConnector, WsEvents } from '../../../../core/net/ws-transport';

/** A manual clock: timers fire only when the test advances time. */
export function manualTimers() {
  let now = 0;
  let nextId = 1;
  const pending = new Map<number, { at: number; fn: () => void }>();
  const timers: Timers = {
    setTimeout(fn, ms) {
      const id = nextId++;
      pending.set(id, { at: now + ms, fn });
      return id;
    },
    clearTimeout(handle: TimerHandle) {
      pending.delete(handle as number);
    },
    now: () => now,
  };
  return {
    timers,
    get pendingCount() {
      return pending.size;
    },
    /** Advances time, firing due timers in order. */
    advance(ms: number) {
      const target = now + ms;
      for (;;) {
        let best: [number, { at: number; fn: () => void }] | undefined;
        for (const e of pending) if (e[1].at <= target && (!best || e[1].at < best[1].at)) best = e;
        if (!best) break;
        pending.delete(best[0]);
        now = best[1].at;
        best[1].fn();
      }
      now = target;
    },
  };
}

/** One fake connection the test drives from the "server" side. */
export type FakeConn = {
  url: string;
  events: WsEvents;
  sent: string[];
  closed?: { code: number; reason: string };
  terminated: boolean;
};

/** A connector whose connections the test opens, feeds and closes by hand. */
export function fakeConnector() {
  const conns: FakeConn[] = [];
  const connector: WsConnector = (url, events) => {
    const c: FakeConn = { url, events, sent: [], terminated: false };
    conns.push(c);
    const conn: WsConnection = {
      send: (t) => void c.sent.push(t),
      close: (code, reason) => {
        c.closed = { code, reason };
        events.onClose(code, reason);
      },
      terminate: () => {
        c.terminated = true;
        events.onClose(1006, '');
      },
    };
    return conn;
  };
  return { connector, conns };
}
