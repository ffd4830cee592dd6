import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openManifestWriter, type ManifestEntry } from '../../../server/admin-cli/manifest-writer';

const entry = (i: number): ManifestEntry => ({
  file: `file-${i}.bin`,
  size: i,
  sha256: i.toString(16).padStart(64, '0'),
  signature: `file-${i}.bin.sig`,
  signedAt: '2026-11-27T02:00:00.000Z',
});

describe('manifest writer (constant memory)', () => {
  it.each([0, 1, 3, 2500])('writes valid JSON with %i entries and leaves no spool', (n) => {
    const dir = mkdtempSync(join(tmpdir(), 'manifest-'));
    const w = openManifestWriter(dir);
    for (let i = 0; i < n; i++) w.add(entry(i));
    expect(w.count).toBe(n);
    const notSigned = n === 3 ? [{ file: 'late.bin', reason: 'target T is locked' }] : [];
    w.finish({ version: 1, target: { name: 'T' } }, notSigned);
    const m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
    expect(m.version).toBe(1);
    expect(m.target).toEqual({ name: 'T' });
    expect(m.files).toHaveLength(n);
    if (n > 0) expect(m.files[n - 1]).toEqual(entry(n - 1)); // crosses 64 KiB chunks at 2500
    expect(m.notSigned).toEqual(n === 3 ? notSigned : undefined);
    expect(readdirSync(dir)).toEqual(['manifest.json']);
  });

  it('discard removes the spool and writes nothing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'manifest-'));
    const w = openManifestWriter(dir);
    w.add(entry(1));
    w.discard();
    w.discard();
    expect(readdirSync(dir)).toEqual([]);
    expect(existsSync(join(dir, 'manifest.json'))).toBe(false);
  });
});
