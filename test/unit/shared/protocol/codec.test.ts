import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  encodeClientMessage,
  encodeServerMessage,
  parseClientMessage,
  parseServerMessage,
  utf8Length,
} from '../../../../shared/protocol/codec';
import type { ClientMessage } from '../../../../shared/protocol/client-messages';
import type { ServerMessage } from '../../../../shared/protocol/server-messages';
import {
  CLOSE_CODES,
  describeCloseCode,
  shouldReconnect,
  type ProtocolErrorCode,
} from '../../../../shared/protocol/errors';
import { LIMITS } from '../../../../shared/protocol/limits';

type Direction = 'client' | 'server';
type Valid = Record<string, { direction: Direction; frame: Record<string, unknown> }>;
type Invalid = {
  name: string;
  direction?: Direction;
  raw?: string;
  base?: string;
  set?: Record<string, unknown>;
  delete?: string[];
  code: ProtocolErrorCode;
  path?: string;
};

const fixture = (name: string): unknown =>
  JSON.parse(
    readFileSync(
      fileURLToPath(new URL(`../../../fixtures/protocol/${name}`, import.meta.url)),
      'utf8',
    ),
  );
const VALID = fixture('valid-frames.json') as Valid;
const INVALID = fixture('invalid-frames.json') as Invalid[];

const parse = (direction: Direction, text: unknown) =>
  direction === 'client' ? parseClientMessage(text) : parseServerMessage(text);

/** Expands `{ $repeat: [s, n] }` and `{ $array: [v, n] }` placeholders of the fixture file. */
function expand(value: unknown): unknown {
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const o = value as Record<string, unknown>;
    if (Array.isArray(o.$repeat)) return String(o.$repeat[0]).repeat(Number(o.$repeat[1]));
    const arr = o.$array;
    if (Array.isArray(arr)) return Array.from({ length: Number(arr[1]) }, () => arr[0] as unknown);
  }
  return value;
}

function mutate(frame: Record<string, unknown>, spec: Invalid): Record<string, unknown> {
  const copy = structuredClone(frame);
  const walk = (path: string): [Record<string, unknown>, string] => {
    const parts = path.split('.');
    let node = copy as Record<string, unknown>;
    for (const p of parts.slice(0, -1)) node = node[p] as Record<string, unknown>;
    return [node, parts[parts.length - 1]!];
  };
  for (const [path, value] of Object.entries(spec.set ?? {})) {
    const [node, key] = walk(path);
    node[key] = expand(value);
  }
  for (const path of spec.delete ?? []) {
    const [node, key] = walk(path);
    delete node[key];
  }
  return copy;
}

describe('valid frames (fixtures) round trip', () => {
  const types = new Set<string>();
  it.each(Object.entries(VALID))('%s', (_name, { direction, frame }) => {
    types.add(`${direction}:${String(frame.type)}`);
    const text = JSON.stringify(frame);
    const parsed = parse(direction, text);
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.error));
    expect(parsed.value).toEqual(frame);
    const encoded =
      direction === 'client'
        ? encodeClientMessage(parsed.value as ClientMessage)
        : encodeServerMessage(parsed.value as ServerMessage);
    if (!encoded.ok) throw new Error(JSON.stringify(encoded.error));
    expect(JSON.parse(encoded.value)).toEqual(frame);
    // The other direction does not accept it.
    const other = parse(direction === 'client' ? 'server' : 'client', text);
    expect(other).toMatchObject({ ok: false, error: { code: 'unknown-type' } });
  });
  it('covers every message type', () => {
    expect([...types].sort()).toEqual(
      [
        'client:decision',
        'client:hello',
        'client:pong',
        'server:error',
        'server:offer',
        'server:ping',
        'server:result',
        'server:update',
        'server:welcome',
      ].sort(),
    );
  });
});

describe('rejected frames (fixtures)', () => {
  it.each(INVALID.map((c) => [c.name, c] as const))('%s', (_name, spec) => {
    let direction = spec.direction;
    let text: string;
    if (spec.raw !== undefined) text = spec.raw;
    else {
      const base = VALID[spec.base!]!;
      direction = base.direction;
      text = JSON.stringify(mutate(base.frame, spec));
    }
    const r = parse(direction!, text);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.code).toBe(spec.code);
    expect(r.error.message.length).toBeGreaterThan(0);
    if (spec.path !== undefined) {
      const want = spec.path;
      expect(
        r.error.issues?.some((i) => i.startsWith(`${want}:`) || i.startsWith(`${want}.`)),
      ).toBe(true);
    }
    // The sending side refuses to encode the same message.
    if (spec.base !== undefined) {
      const obj = JSON.parse(text) as ClientMessage & ServerMessage;
      const enc = direction === 'client' ? encodeClientMessage(obj) : encodeServerMessage(obj);
      expect(enc.ok).toBe(false);
    }
  });
});

describe('frame size limit', () => {
  const pongOfLength = (len: number): string => {
    const head = '{"v":1,"type":"pong","nonce":"a","pad":"';
    return head + 'x'.repeat(len - head.length - 2) + '"}';
  };
  it('rejects frames above 64 KiB before parsing, counting UTF-8 bytes', () => {
    expect(parseClientMessage(pongOfLength(LIMITS.frameBytes + 1))).toMatchObject({
      ok: false,
      error: { code: 'frame-too-large' },
    });
    // Exactly at the limit the frame is parsed (and then fails only on the unknown field).
    expect(parseClientMessage(pongOfLength(LIMITS.frameBytes))).toMatchObject({
      ok: false,
      error: { code: 'invalid-message' },
    });
    // 30 000 three-byte characters: 30 000 UTF-16 units but 90 000 bytes.
    const wide = '{"v":1,"type":"ping","nonce":"' + '€'.repeat(30_000) + '"}';
    expect(wide.length).toBeLessThan(LIMITS.frameBytes);
    expect(parseServerMessage(wide)).toMatchObject({
      ok: false,
      error: { code: 'frame-too-large' },
    });
  });
  it('refuses to encode an oversize message whose fields are each within limits', () => {
    const rapdu = '00'.repeat(LIMITS.responseApduBytes);
    const decision = {
      v: 1,
      type: 'decision',
      ceremonyId: 'c',
      offerId: 'o',
      decision: { kind: 'approve', results: Array.from({ length: 16 }, () => ({ rapdu })) },
    } as const;
    const r = encodeClientMessage(decision as unknown as ClientMessage);
    expect(r).toMatchObject({ ok: false, error: { code: 'frame-too-large' } });
    // Seven such results fit.
    const fits = {
      ...decision,
      decision: { kind: 'approve', results: decision.decision.results.slice(0, 7) },
    };
    expect(encodeClientMessage(fits as unknown as ClientMessage).ok).toBe(true);
  });
  it('counts UTF-8 like an encoder', () => {
    for (const s of ['', 'abc', 'é', '€', '😀', '\ud800', 'a\udc00b', '\ud83d\ude00\ud83d']) {
      expect(utf8Length(s)).toBe(new TextEncoder().encode(s).length);
    }
  });
});

describe('edge cases', () => {
  it('rejects non-text input without throwing', () => {
    for (const bad of [undefined, null, 1, {}, new Uint8Array(4), ['{}']]) {
      expect(parseClientMessage(bad)).toMatchObject({ ok: false, error: { code: 'not-text' } });
      expect(parseServerMessage(bad)).toMatchObject({ ok: false, error: { code: 'not-text' } });
    }
  });
  it('does not echo unknown type names that are not plain codes', () => {
    const r = parseClientMessage('{"v":1,"type":"<script>alert(1)</script>"}');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.message).not.toContain('<script>');
  });
  it('caps the number of reported issues', () => {
    const offer = structuredClone(VALID.offer!.frame);
    for (const k of Object.keys(offer)) if (k !== 'v' && k !== 'type') offer[k] = 0;
    const r = parseServerMessage(JSON.stringify(offer));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.issues!.length).toBeLessThanOrEqual(10);
  });
  it('accepts display text in other scripts and emoji', () => {
    const offer = structuredClone(VALID.offer!.frame) as Record<string, unknown>;
    offer.purpose = 'Zertifikatsperrliste signieren — 証明書 — 🔐 — עברית';
    expect(parseServerMessage(JSON.stringify(offer)).ok).toBe(true);
  });
  it('close codes are described and classified', () => {
    expect(describeCloseCode(CLOSE_CODES.SUPERSEDED)).toMatch(/^4003 superseded/);
    expect(describeCloseCode(4999)).toMatch(/unknown/);
    expect(shouldReconnect(CLOSE_CODES.SERVER_SHUTDOWN)).toBe(true);
    expect(shouldReconnect(CLOSE_CODES.HEARTBEAT_TIMEOUT)).toBe(true);
    expect(shouldReconnect(CLOSE_CODES.AUTH_FAILED)).toBe(false);
    expect(shouldReconnect(CLOSE_CODES.SUPERSEDED)).toBe(false);
    expect(shouldReconnect(CLOSE_CODES.PROTOCOL_VIOLATION)).toBe(false);
  });
});
