import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

// build/systemd/custodian-server.service ships the file-descriptor limit the server needs for
// many custodian sessions (server/README.md "File descriptors", issue 12 §3).
const UNIT = 'build/systemd/custodian-server.service';

type Unit = Map<string, Map<string, string[]>>;

/** Parses a systemd unit: sections of `Key=value` lines (a key may repeat), `#`/`;` comments. */
function parseUnit(text: string): Unit {
  const unit: Unit = new Map();
  let section: Map<string, string[]> | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[([^\]]+)\]$/.exec(line);
    if (header) {
      section = new Map();
      unit.set(header[1]!, section);
      continue;
    }
    const eq = line.indexOf('=');
    if (!section || eq <= 0) throw new Error(`not a unit line: ${line}`);
    const key = line.slice(0, eq).trim();
    section.set(key, [...(section.get(key) ?? []), line.slice(eq + 1).trim()]);
  }
  return unit;
}

/** The one value of `key` in `[section]`; throws when absent or repeated. */
function single(unit: Unit, section: string, key: string): string {
  const values = unit.get(section)?.get(key) ?? [];
  if (values.length !== 1) throw new Error(`[${section}] ${key}: ${values.length} values`);
  return values[0]!;
}

describe('systemd unit for custodian-server', () => {
  const unit = parseUnit(readFileSync(UNIT, 'utf8'));

  it('raises LimitNOFILE far above the 1024 default that caps sessions', () => {
    const limit = single(unit, 'Service', 'LimitNOFILE');
    // "soft:hard" or one value for both; each at least 16,384 sessions' worth of headroom.
    const parts = limit.split(':');
    expect(parts.length).toBeLessThanOrEqual(2);
    for (const p of parts) {
      expect(p === 'infinity' || /^\d+$/.test(p), `LimitNOFILE part "${p}"`).toBe(true);
      if (p !== 'infinity') expect(Number(p)).toBeGreaterThanOrEqual(16_384);
    }
  });

  it('ExecStart runs a command package.json ships as a bin, with serve --config', () => {
    const bins = Object.keys(
      (JSON.parse(readFileSync('package.json', 'utf8')) as { bin: Record<string, string> }).bin,
    );
    const argv = single(unit, 'Service', 'ExecStart').split(/\s+/);
    const command = argv[0]!.replace(/^[-@:+!]+/, '');
    expect(command.startsWith('/'), 'systemd needs an absolute path').toBe(true);
    expect(bins).toContain(command.split('/').pop());
    expect(argv[1]).toBe('serve');
    expect(argv).toContain('--config');
  });

  it('the documented limit is the shipped one', () => {
    const readme = readFileSync('server/README.md', 'utf8');
    const limit = single(unit, 'Service', 'LimitNOFILE');
    expect(readme).toContain(`LimitNOFILE=${limit}`);
    expect(readme).toContain(UNIT);
  });

  it('the parser rejects what is not a unit line (so a malformed unit cannot pass)', () => {
    expect(() => parseUnit('[Service]\nLimitNOFILE 65536\n')).toThrow(/not a unit line/);
    expect(() => single(parseUnit('[Service]\nA=1\nA=2\n'), 'Service', 'A')).toThrow(/2 values/);
  });
});
