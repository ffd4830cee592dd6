import { describe, expect, it } from 'vitest';
import {
  encodeEntryLine,
  nextEntry,
  parseEntry,
  verifyAuditBytes,
  verifyAuditText,
  type AuditEntry,
} from '../../../../shared/audit/audit-chain';

// Issue 7 item 12: verification compared parsed JSON, so a line re-encoded to show something
// else (e.g. a duplicate leading "kind") still verified. Lines must be their canonical bytes.

const T = new Date('2026-11-27T00:00:00Z');

function chain(): AuditEntry[] {
  const a = nextEntry(undefined, 'pin-verified', { ceremonyId: 'c1' }, T);
  const b = nextEntry(
    a,
    'decline',
    { ceremonyId: 'c1', reason: 'user', target: 'UTEMU1234500001', n: 5 },
    T,
  );
  const c = nextEntry(b, 'connection', { state: 'closed' }, T);
  return [a, b, c];
}

const text = (lines: string[]) => lines.join('\n') + '\n';
const lines = () => chain().map(encodeEntryLine);

/** Replaces line 2 (the decline) and verifies. */
function withLine2(f: (line: string) => string) {
  const ls = lines();
  const changed = f(ls[1]!);
  expect(changed, 'the mutation changes the bytes').not.toBe(ls[1]);
  // The mutation keeps the parsed entry (what the old verifier compared) …
  expect(parseEntry(changed)).toEqual(parseEntry(ls[1]!));
  ls[1] = changed;
  return verifyAuditText(text(ls));
}

describe('issue 7 item 12: audit lines are verified byte for byte', () => {
  it('7.12 the reported case: a duplicate leading "kind" key is refused', () => {
    const v = withLine2((l) => `{"kind":"approval",${l.slice(1)}`);
    expect(v).toMatchObject({ ok: false, error: { line: 2, code: 'not-canonical' } });
    // grep would have seen an approval that the parser never returns:
    expect(lines()[1]).toContain('"kind":"decline"');
  });

  it('7.12 duplicate keys anywhere are refused', () => {
    expect(withLine2((l) => l.replace('"data":{', '"data":{"reason":"approved",'))).toMatchObject({
      ok: false,
      error: { code: 'not-canonical' },
    });
    expect(withLine2((l) => l.replace('{"seq":2,', '{"seq":9,"seq":2,'))).toMatchObject({
      ok: false,
      error: { code: 'not-canonical' },
    });
  });

  it('7.12 reordered keys (top level and in data) are refused', () => {
    const reorder = (l: string) => {
      const e = JSON.parse(l) as Record<string, unknown>;
      const { hash, ...rest } = e;
      return JSON.stringify({ hash, ...rest });
    };
    expect(withLine2(reorder)).toMatchObject({ ok: false, error: { code: 'not-canonical' } });
    const dataOrder = (l: string) => {
      const e = JSON.parse(l) as { data: Record<string, unknown> };
      const { target, ...others } = e.data;
      return JSON.stringify({ ...e, data: { target, ...others } });
    };
    expect(withLine2(dataOrder)).toMatchObject({ ok: false, error: { code: 'not-canonical' } });
  });

  it('7.12 whitespace, unicode and string escapes are refused', () => {
    const cases: ((l: string) => string)[] = [
      (l) => l.replace('"seq":2', '"seq": 2'),
      (l) => ` ${l}`,
      (l) => `${l} `,
      (l) => `${l}\r`,
      (l) => l.replace('\t', ' ').replace(',"time"', ',\t"time"'),
      (l) => l.replace('"UTEMU', '"\\u0055TEMU'),
      (l) => l.replace('"decline"', '"\\u0064ecline"'),
      (l) =>
        l.replace(
          '"time":"2026-11-27T00:00:00.000Z"',
          '"time":"2026-11-27T00:00:00.000Z"'.replace('-', '\\u002d'),
        ),
      (l) => l.replace('"reason":"user"', '"reason":"\\u0075ser"'),
      (l) => l.replace('"user"', '"us\\u0065r"'),
    ];
    for (const f of cases) {
      expect(withLine2(f), f.toString()).toMatchObject({
        ok: false,
        error: { code: 'not-canonical' },
      });
    }
  });

  it('7.12 other number forms are refused', () => {
    for (const [from, to] of [
      ['"seq":2', '"seq":2.0'],
      ['"seq":2', '"seq":2e0'],
      ['"seq":2', '"seq":2E0'],
      ['"seq":2', '"seq":0.2e1'],
      ['"n":5', '"n":5.00'],
      ['"n":5', '"n":5e+0'],
      ['"n":5', '"n":50e-1'],
    ] as const) {
      expect(
        withLine2((l) => l.replace(from, to)),
        to,
      ).toMatchObject({
        ok: false,
        error: { code: 'not-canonical' },
      });
    }
  });

  it('7.12 bytes that are not UTF-8, or a byte order mark, are refused', () => {
    const good = new TextEncoder().encode(text(lines()));
    expect(verifyAuditBytes(good).ok).toBe(true);
    const bom = new Uint8Array([0xef, 0xbb, 0xbf, ...good]);
    expect(verifyAuditBytes(bom).ok).toBe(false);
    const bad = good.slice();
    bad[good.indexOf(0x55)] = 0xd5; // 'U' of UTEMU → a lone UTF-8 lead byte
    expect(verifyAuditBytes(bad).ok).toBe(false);
  });

  it('7.12 what the writer produces is canonical, whatever the data looks like', () => {
    const e1 = nextEntry(
      undefined,
      'approval',
      { z: 1, a: { y: [1, 'ü', null], b: -0 }, m: 'é\u2028"\\' },
      T,
    );
    const odd = { keep: 'x', gone: undefined } as unknown as Record<string, string>;
    const e2 = nextEntry(e1, 'error', odd, T);
    const e3 = nextEntry(e2, 'error', { big: 1e21, small: 1e-7, neg: -1.5 }, T);
    const v = verifyAuditText(text([e1, e2, e3].map(encodeEntryLine)));
    expect(v).toMatchObject({ ok: true, value: { entries: 3, head: e3.hash } });
    expect(encodeEntryLine(e1)).toContain('"data":{"a":{"b":0,"y":[1,"ü",null]},"m":');
  });
});
