/**
 * Issue 7 item 2: every string from the network, the card or a file reaches the terminal only
 * through the CLI's one terminal-safe writer. Each output path is driven with hostile text
 * (VT escapes that clear the screen and rewrite lines, C1 CSI, bidi overrides, zero-width and
 * tag characters, CR) and the bytes written must contain none of them raw.
 */
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { main } from '../../../cli/main';
import { terminalWriter } from '../../../cli/terminal';
import { singleLineSafe, terminalSafe } from '../../../shared/text/terminal-safe';
import { fakeServer } from '../../integration/custodian/harness';
import { enrolledHome, openEmulator } from './custodian/watch-harness';

/** Hostile text: clear screen, cursor up, fake "Device id" line, C1 CSI, RLO, ZWJ, tag, CR, BEL. */
const HOSTILE =
  '\x1b[2J\x1b[1A\r  Device id    EVIL0001\x9b31m\u202eevil\u2066\u200d\u{E0041}\x07\u2028x';
// Everything that must never reach the terminal raw (LF and TAB excepted): all controls,
// format characters (bidi, zero-width, tags), lone surrogates, line/paragraph separators.
const UNSAFE = /[\p{Cc}\p{Cf}\p{Cs}\u2028\u2029]/u;

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
  delete process.env['CUSTODIAN_HOME'];
});

async function run(argv: string[]) {
  let all = '';
  const io = { out: (t: string) => void (all += t), err: (t: string) => void (all += t) };
  const code = await main(argv, { openEmulator }, io);
  return { code, all };
}

describe('7.2 terminal-safe text (shared)', () => {
  it('7.2 escapes every control/format character, keeps LF/TAB, is idempotent and JSON-safe', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (s) => {
        const t = terminalSafe(s);
        expect(UNSAFE.test(t.replace(/[\n\t]/g, ''))).toBe(false);
        expect(terminalSafe(t)).toBe(t);
        const one = singleLineSafe(s);
        expect(one).not.toMatch(/[\n\t\r]/);
        // Inside a JSON string the escapes are JSON escapes: parsing gives the original back.
        expect(JSON.parse(`"${singleLineSafe(JSON.stringify(s).slice(1, -1))}"`)).toBe(s);
      }),
    );
    expect(terminalSafe('Device id UTEMU1234500001 — ok\n\tnext')).toBe(
      'Device id UTEMU1234500001 — ok\n\tnext',
    );
    expect(terminalSafe(HOSTILE)).toContain('\\u001B[2J');
  });

  it('7.2 the CLI writer escapes both streams and wraps only once', () => {
    let seen = '';
    const io = terminalWriter({ out: (t) => void (seen += t), err: (t) => void (seen += t) });
    io.out(HOSTILE);
    io.err(HOSTILE);
    expect(UNSAFE.test(seen.replace(/[\n\t]/g, ''))).toBe(false);
    expect(terminalWriter(io)).toBe(io);
  });
});

describe('7.2 every CLI output path with hostile strings', () => {
  it('7.2 watch: a hostile close reason from the server', async () => {
    const server = await fakeServer();
    cleanups.push(() => server.close());
    const w = await enrolledHome(server.url);
    process.env['CUSTODIAN_HOME'] = w.home;
    server.setOnHello((ws) => ws.close(4007, HOSTILE.slice(0, 40)));
    const r = await run(['watch', '--once']);
    expect(r.code).not.toBe(0);
    expect(r.all).toMatch(/ended the session/);
    expect(UNSAFE.test(r.all.replace(/[\n\t]/g, ''))).toBe(false);
  });

  it('7.2 enroll: a hostile close reason and a hostile server error', async () => {
    const server = await fakeServer();
    cleanups.push(() => server.close());
    const dir = mkdtempSync(join(tmpdir(), 'cli-hostile-'));
    process.env['CUSTODIAN_HOME'] = join(dir, 'home');
    server.setOnHello((ws) => ws.close(4001, HOSTILE.slice(0, 40)));
    const root = join(dir, 'x.pka');
    const r = await run([
      'enroll',
      '--server',
      server.url,
      '--token',
      'T'.repeat(30),
      '--pka',
      root + HOSTILE,
      '--key-id',
      '1',
    ]);
    expect(r.code).not.toBe(0);
    expect(UNSAFE.test(r.all.replace(/[\n\t]/g, ''))).toBe(false);
  });

  it('7.2 audit verify and card info: hostile file names and file content', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cli-hostile-'));
    const a = await run(['audit', 'verify', '--file', join(dir, `log${HOSTILE}`)]);
    expect(a.code).not.toBe(0);
    expect(UNSAFE.test(a.all.replace(/[\n\t]/g, ''))).toBe(false);
    const c = await run(['card', 'info', '--emulator', join(dir, `card${HOSTILE}.json`)]);
    expect(c.code).not.toBe(0);
    expect(UNSAFE.test(c.all.replace(/[\n\t]/g, ''))).toBe(false);
    const u = await run([`bogus${HOSTILE}`]);
    expect(u.code).not.toBe(0);
    expect(UNSAFE.test(u.all.replace(/[\n\t]/g, ''))).toBe(false);
  });
});

describe('7.2 the desktop renderer renders text as text', () => {
  it('7.2 no dangerouslySetInnerHTML / innerHTML / outerHTML / insertAdjacentHTML in renderer/', () => {
    const root = join(__dirname, '..', '..', '..', 'renderer');
    const files: string[] = [];
    const walk = (d: string) => {
      for (const e of readdirSync(d, { withFileTypes: true })) {
        if (e.isDirectory()) walk(join(d, e.name));
        else if (/\.(tsx?|html)$/.test(e.name)) files.push(join(d, e.name));
      }
    };
    walk(root);
    expect(files.length).toBeGreaterThan(5);
    for (const f of files) {
      const text = readFileSync(f, 'utf8');
      expect(text, f).not.toMatch(
        /dangerouslySetInnerHTML|\.innerHTML|\.outerHTML|insertAdjacentHTML|document\.write/,
      );
    }
  });
});
