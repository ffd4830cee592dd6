/**
 * Who may hold an unauthenticated connection, and how failed authentications are throttled
 * (issue 7 items 4, 5 and 10; server/README.md "Connection limits" and "Behind a reverse
 * proxy"):
 *
 * - the client address is the TCP peer, or — only when the peer is a configured trusted proxy —
 *   the nearest untrusted address in `X-Forwarded-For`;
 * - unauthenticated connections are capped per address and in total; an excess connection is
 *   closed with 1013 (try again later), never counted as a failure;
 * - a failed authentication is answered late, after a delay that grows with the recent
 *   failures of its address and of the custodian id it named. A correct secret is never
 *   delayed or refused because of anyone's failures; protocol violations are not failures.
 * @module
 */
import type { IncomingMessage } from 'node:http';
import { BlockList, isIP } from 'node:net';
import { FailureLimiter } from './limiter';

/** Limits on connections that have not authenticated yet. */
export type ConnectionLimits = {
  /** Unauthenticated connections from one client address at a time (default 16). */
  readonly maxUnauthenticatedPerAddress: number;
  /** Unauthenticated connections in total (default 256). */
  readonly maxUnauthenticated: number;
};

/** The defaults documented in server/README.md. */
export const DEFAULT_CONNECTION_LIMITS: ConnectionLimits = {
  maxUnauthenticatedPerAddress: 16,
  maxUnauthenticated: 256,
};

/** How failed authentications are slowed down. */
export type FailureThrottle = {
  /** Failures (per address, per custodian id) within `windowMs` answered without delay. */
  readonly freeFailures: number;
  /** Delay of the first delayed failure; doubles with each further one. */
  readonly baseDelayMs: number;
  /** The longest delay. */
  readonly maxDelayMs: number;
  /** How long a failure counts. */
  readonly windowMs: number;
};

/** Defaults: 3 free failures, then 0.5 s doubling up to 8 s, counted for 10 minutes. */
export const DEFAULT_FAILURE_THROTTLE: FailureThrottle = {
  freeFailures: 3,
  baseDelayMs: 500,
  maxDelayMs: 8000,
  windowMs: 10 * 60_000,
};

/** `::ffff:1.2.3.4` → `1.2.3.4`, so one client has one key whatever the socket family. */
function normalize(address: string): string {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return m ? m[1]! : address;
}

/**
 * Parses `trustedProxies` entries (addresses or CIDR subnets).
 * @throws Error naming the first malformed entry
 */
export function trustedProxyList(entries: readonly string[]): BlockList {
  const list = new BlockList();
  for (const entry of entries) {
    const [addr, bits, extra] = entry.split('/');
    const family = isIP(addr ?? '');
    const prefix = Number(bits);
    const max = family === 4 ? 32 : 128;
    if (family === 0 || extra !== undefined)
      throw new Error(`trusted proxy "${entry}" is not an address`);
    const type = family === 4 ? 'ipv4' : 'ipv6';
    if (bits === undefined) list.addAddress(normalize(addr!), type);
    else if (/^\d+$/.test(bits) && prefix <= max) list.addSubnet(normalize(addr!), prefix, type);
    else throw new Error(`trusted proxy "${entry}" has a bad prefix length`);
  }
  return list;
}

function isTrusted(list: BlockList, address: string): boolean {
  const family = isIP(address);
  return family !== 0 && list.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

/**
 * The client address of an upgrade request. `X-Forwarded-For` is read only when the TCP peer
 * is a trusted proxy, from the right: each trusted hop is skipped, the first other valid
 * address is the client. A malformed entry ends the walk at the last trusted hop, so a client
 * cannot choose its own key by writing garbage into the header.
 */
export function clientAddress(req: IncomingMessage, trusted: BlockList): string {
  let address = normalize(req.socket.remoteAddress ?? '?');
  if (!isTrusted(trusted, address)) return address;
  const header = req.headers['x-forwarded-for'];
  const hops = (Array.isArray(header) ? header.join(',') : (header ?? '')).split(',');
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = normalize(hops[i]!.trim());
    if (isIP(hop) === 0) break;
    address = hop;
    if (!isTrusted(trusted, hop)) break;
  }
  return address;
}

/** Connections per address and in total, under the caps of {@link ConnectionLimits}. */
class Slots {
  private readonly perAddress = new Map<string, number>();
  private total = 0;

  constructor(private readonly limits: ConnectionLimits) {}

  take(address: string): boolean {
    const n = this.perAddress.get(address) ?? 0;
    if (n >= this.limits.maxUnauthenticatedPerAddress) return false;
    if (this.total >= this.limits.maxUnauthenticated) return false;
    this.perAddress.set(address, n + 1);
    this.total++;
    return true;
  }

  give(address: string): void {
    const n = this.perAddress.get(address) ?? 0;
    if (n <= 1) this.perAddress.delete(address);
    else this.perAddress.set(address, n - 1);
    this.total = Math.max(0, this.total - 1);
  }

  get count(): number {
    return this.total;
  }
}

/**
 * Counts unauthenticated connections and failed authentications. A refused connection gives
 * its unauthenticated slot back at once (it can no longer authenticate, so waiting for its
 * delayed answer must not crowd out the holder behind the same address); connections waiting
 * for a delayed refusal are capped separately, and beyond that cap are answered at once.
 */
export class Admission {
  private readonly unauthenticatedSlots: Slots;
  private readonly refusalSlots: Slots;
  private readonly failures: FailureLimiter;

  constructor(
    limits: ConnectionLimits = DEFAULT_CONNECTION_LIMITS,
    private readonly throttle: FailureThrottle = DEFAULT_FAILURE_THROTTLE,
    clock: () => number = Date.now,
  ) {
    this.unauthenticatedSlots = new Slots(limits);
    this.refusalSlots = new Slots(limits);
    this.failures = new FailureLimiter(Infinity, throttle.windowMs, clock);
  }

  /** Takes an unauthenticated slot for `address`; false when a cap is reached. */
  admit(address: string): boolean {
    return this.unauthenticatedSlots.take(address);
  }

  /** Gives the slot back (on authentication, refusal or close). */
  release(address: string): void {
    this.unauthenticatedSlots.give(address);
  }

  /** Unauthenticated connections now. */
  get unauthenticated(): number {
    return this.unauthenticatedSlots.count;
  }

  /** Takes a slot for a connection waiting for its delayed refusal; false: answer it now. */
  deferRefusal(address: string): boolean {
    return this.refusalSlots.take(address);
  }

  /** The delayed refusal was answered (or its connection closed). */
  refusalDone(address: string): void {
    this.refusalSlots.give(address);
  }

  /**
   * Records a failed authentication under each key (`ip:…`, `id:…`) and returns how long to
   * wait before answering it: by the most-failed key's count before this failure.
   */
  fail(keys: readonly string[]): number {
    const worst = Math.max(0, ...keys.map((k) => this.failures.count(k)));
    for (const k of keys) this.failures.fail(k);
    const over = worst - this.throttle.freeFailures;
    if (over < 0) return 0;
    return Math.min(this.throttle.maxDelayMs, this.throttle.baseDelayMs * 2 ** Math.min(over, 30));
  }
}
