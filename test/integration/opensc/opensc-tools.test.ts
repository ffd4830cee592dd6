/**
 * The helpers of the OpenSC conformance suites, without pcscd: output parsers, the
 * skip-or-fail availability and the bounded process runner.
 */
import { describe, expect, it } from 'vitest';
import { parsePkaStatus, readerHasCard } from './opensc-card';
import { findTool, runTool, withOpenscTools } from './opensc-tools';

describe('OpenSC output parsers', () => {
  it('reads the four numbers of --public-key-auth-status', () => {
    const text = [
      'Number of public keys:     5',
      'Missing public keys:       4',
      'Required pubkeys for auth: 3',
      'Authenticated public keys: 1',
      '',
    ].join('\n');
    expect(parsePkaStatus(text)).toEqual({ total: 5, missing: 4, required: 3, authenticated: 1 });
    expect(parsePkaStatus(text.replace('Missing public keys:       4\n', ''))).toBeUndefined();
    expect(parsePkaStatus('Card not initialized for public key registration')).toBeUndefined();
  });

  it('finds the card column of a reader in opensc-tool -l', () => {
    const listing = [
      '# Detected readers (pcsc)',
      'Nr.  Card  Features  Name',
      '0    Yes             Virtual PCD 00 00',
      '1    No              Virtual PCD 00 01',
      '2    Yes   PIN pad   Other Reader 00 00',
    ].join('\n');
    expect(readerHasCard(listing, 'Virtual PCD 00 00')).toBe(true);
    expect(readerHasCard(listing, 'Virtual PCD 00 01')).toBe(false);
    expect(readerHasCard(listing, 'Other Reader 00 00')).toBe(true);
    expect(readerHasCard(listing, 'Missing 00 00')).toBeUndefined();
  });
});

describe('availability and the process runner', () => {
  it('a missing pcscd stays a reason, joined with a missing tool', () => {
    const r = withOpenscTools({ ok: false, reason: 'pcscd is not installed' });
    expect(r.availability.ok).toBe(false);
    if (!r.availability.ok) expect(r.availability.reason).toMatch(/^pcscd is not installed/);
  });

  it('kills a program that outlives its timeout', async () => {
    const sleep = findTool('sleep');
    if (sleep === undefined) throw new Error('coreutils sleep not found');
    const started = Date.now();
    const r = await runTool(sleep, ['10'], { timeoutMs: 300 });
    expect(r.timedOut).toBe(true);
    expect(r.code).toBeNull();
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('reports a non-zero exit without throwing, and rejects only for a missing program', async () => {
    const sh = findTool('sh');
    if (sh === undefined) throw new Error('sh not found');
    const r = await runTool(sh, ['-c', 'echo out; echo err >&2; exit 3']);
    expect(r).toEqual({ code: 3, stdout: 'out\n', stderr: 'err\n', timedOut: false });
    await expect(runTool('/nonexistent/tool', [])).rejects.toThrow(/cannot run/);
  });
});
