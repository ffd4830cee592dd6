import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  encodeClientMessage,
  encodeServerMessage,
  parseClientMessage,
  parseServerMessage,
} from '../../../../shared/protocol/codec';
import type { ClientMessage } from '../../../../shared/protocol/client-messages';
import type { ServerMessage } from '../../../../shared/protocol/server-messages';
import type { Result } from '../../../../shared/result';
import type { ProtocolError } from '../../../../shared/protocol/errors';

type Valid = Record<string, { direction: 'client' | 'server'; frame: Record<string, unknown> }>;
const VALID = JSON.parse(
  readFileSync(
    fileURLToPath(new URL('../../../fixtures/protocol/valid-frames.json', import.meta.url)),
    'utf8',
  ),
) as Valid;

const CODES = new Set([
  'not-text',
  'frame-too-large',
  'bad-json',
  'not-object',
  'unsupported-version',
  'unknown-type',
  'invalid-message',
]);

/** Every string inside an accepted message is free of control characters. */
function allStringsClean(value: unknown): boolean {
  if (typeof value === 'string') return !/[\p{Cc}\p{Cf}\p{Cs}]/u.test(value);
  if (Array.isArray(value)) return value.every(allStringsClean);
  if (typeof value === 'object' && value !== null)
    return Object.values(value).every(allStringsClean);
  return true;
}

function checkResult(
  r: Result<ClientMessage | ServerMessage, ProtocolError>,
  direction: 'client' | 'server',
) {
  if (!r.ok) {
    expect(CODES.has(r.error.code)).toBe(true);
    expect(typeof r.error.message).toBe('string');
    return;
  }
  expect(allStringsClean(r.value)).toBe(true);
  const enc =
    direction === 'client'
      ? encodeClientMessage(r.value as ClientMessage)
      : encodeServerMessage(r.value as ServerMessage);
  expect(enc.ok).toBe(true);
  if (enc.ok) {
    const again =
      direction === 'client' ? parseClientMessage(enc.value) : parseServerMessage(enc.value);
    expect(again).toEqual(r);
  }
}

const both = (text: unknown) => {
  checkResult(parseClientMessage(text), 'client');
  checkResult(parseServerMessage(text), 'server');
};

/** Replaces the value at a random path of a valid frame with an arbitrary JSON value. */
const mutatedFrame = fc
  .record({
    name: fc.constantFrom(...Object.keys(VALID)),
    pick: fc.nat(),
    value: fc.jsonValue({ maxDepth: 3 }),
    drop: fc.boolean(),
  })
  .map(({ name, pick, value, drop }) => {
    const { direction, frame } = VALID[name]!;
    const copy = structuredClone(frame);
    const slots: [Record<string, unknown>, string][] = [];
    const visit = (node: unknown) => {
      if (typeof node !== 'object' || node === null) return;
      for (const k of Object.keys(node)) {
        slots.push([node as Record<string, unknown>, k]);
        visit((node as Record<string, unknown>)[k]);
      }
    };
    visit(copy);
    const [node, key] = slots[pick % slots.length]!;
    if (drop) delete node[key];
    else node[key] = value;
    return { direction, text: JSON.stringify(copy) };
  });

describe('parser fuzzing', () => {
  it('never throws on arbitrary strings', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 400 }), both), { numRuns: 2000 });
  });
  it('never throws on arbitrary JSON', () => {
    fc.assert(fc.property(fc.json({ maxDepth: 5 }), both), { numRuns: 2000 });
  });
  it('never throws on frame-shaped objects', () => {
    const frameLike = fc.record({
      v: fc.oneof(fc.constant(1), fc.jsonValue()),
      type: fc.constantFrom(
        'hello',
        'decision',
        'pong',
        'welcome',
        'offer',
        'update',
        'result',
        'error',
        'ping',
      ),
      extra: fc.dictionary(fc.string({ maxLength: 10 }), fc.jsonValue({ maxDepth: 3 })),
    });
    fc.assert(
      fc.property(frameLike, ({ v, type, extra }) => both(JSON.stringify({ ...extra, v, type }))),
      { numRuns: 2000 },
    );
  });
  it('mutated valid frames are either accepted cleanly or rejected with a typed error', () => {
    fc.assert(
      fc.property(mutatedFrame, ({ direction, text }) => {
        const r = direction === 'client' ? parseClientMessage(text) : parseServerMessage(text);
        checkResult(r, direction);
      }),
      { numRuns: 3000 },
    );
  });
  it('survives deeply nested JSON', () => {
    const deep =
      '{"v":1,"type":"pong","nonce":"a","x":' + '['.repeat(20_000) + ']'.repeat(20_000) + '}';
    expect(parseClientMessage(deep)).toMatchObject({
      ok: false,
      error: { code: 'invalid-message' },
    });
  });
});
