/**
 * OpenSC tool invocations bound to one reader (by name, never by index: other test processes
 * may hold cards in the other vpcd reader), plus parsers for the tools' text output.
 */
import type { DeviceSummary } from '../../../emulator/cli/summary';
import { emulatorCli } from './emulator-process';
import { describeResult, runTool, type OpenscTools, type ToolResult } from './opensc-tools';

/** The SO-PIN of the issue text (16 hex digits, as sc-hsm-tool takes it). */
export const SO_PIN = '3537363231383830';
/** The user PIN of the issue text. */
export const USER_PIN = '648219';

/** Numbers printed by `sc-hsm-tool --public-key-auth-status`. */
export type PkaStatus = {
  readonly total: number;
  readonly missing: number;
  readonly required: number;
  readonly authenticated: number;
};

/** Parses `sc-hsm-tool --public-key-auth-status` output; undefined when a line is missing. */
export function parsePkaStatus(text: string): PkaStatus | undefined {
  const num = (label: string): number | undefined => {
    const m = new RegExp(`^${label}:\\s+(\\d+)\\s*$`, 'm').exec(text);
    return m?.[1] === undefined ? undefined : Number(m[1]);
  };
  const total = num('Number of public keys');
  const missing = num('Missing public keys');
  const required = num('Required pubkeys for auth');
  const authenticated = num('Authenticated public keys');
  if (
    total === undefined ||
    missing === undefined ||
    required === undefined ||
    authenticated === undefined
  ) {
    return undefined;
  }
  return { total, missing, required, authenticated };
}

/** A reader line of `opensc-tool -l`: whether a card is present. */
export function readerHasCard(listing: string, reader: string): boolean | undefined {
  for (const line of listing.split('\n')) {
    const m = /^\d+\s+(Yes|No)\s+(.*?)\s*$/.exec(line);
    if (m?.[2] !== undefined && m[2].endsWith(reader)) return m[1] === 'Yes';
  }
  return undefined;
}

/** Fails with the tool's output unless it exited 0. */
export function expectSuccess(what: string, r: ToolResult): ToolResult {
  if (r.code !== 0) throw new Error(describeResult(what, r));
  return r;
}

/** The tools of one reader. */
export class OpenscCard {
  constructor(
    readonly tools: OpenscTools,
    readonly reader: string,
  ) {}

  /** `opensc-tool -r <reader> …` */
  openscTool(...args: string[]): Promise<ToolResult> {
    return runTool(this.tools['opensc-tool'], ['-r', this.reader, ...args]);
  }

  /** `sc-hsm-tool -r <reader> …` */
  scHsmTool(...args: string[]): Promise<ToolResult> {
    return runTool(this.tools['sc-hsm-tool'], ['-r', this.reader, ...args]);
  }

  /** `pkcs11-tool --module <opensc-pkcs11> --slot-description <reader> …` */
  pkcs11Tool(...args: string[]): Promise<ToolResult> {
    return runTool(
      this.tools['pkcs11-tool'],
      ['--module', this.tools.pkcs11Module, '--slot-description', this.reader, ...args],
      { timeoutMs: 60_000 },
    );
  }

  /** `sc-hsm-tool --initialize` with the PINs (and PKA n-of-m when given). */
  async initialize(pka?: { total: number; required: number }): Promise<ToolResult> {
    const extra =
      pka === undefined
        ? []
        : ['--public-key-auth', String(pka.total), '--required-pub-keys', String(pka.required)];
    return this.scHsmTool('--initialize', '--so-pin', SO_PIN, '--pin', USER_PIN, ...extra);
  }

  /** `sc-hsm-tool --public-key-auth-status`, parsed (fails on a non-zero exit). */
  async pkaStatus(): Promise<PkaStatus> {
    const r = expectSuccess(
      'sc-hsm-tool --public-key-auth-status',
      await this.scHsmTool('--public-key-auth-status'),
    );
    const s = parsePkaStatus(r.stdout);
    if (s === undefined)
      throw new Error(`unexpected --public-key-auth-status output:\n${r.stdout}`);
    return s;
  }
}

/** `sc-hsm-emulator info --state <file> --json`, parsed. */
export async function emulatorInfo(stateFile: string): Promise<DeviceSummary> {
  const r = expectSuccess(
    'sc-hsm-emulator info',
    await emulatorCli(['info', '--state', stateFile, '--json']),
  );
  return JSON.parse(r.stdout) as DeviceSummary;
}

/** `sc-hsm-emulator create --state <file> --ca <dir>`; resolves with the device CHR printed. */
export async function createDevice(stateFile: string, caDir: string): Promise<string> {
  const r = expectSuccess(
    'sc-hsm-emulator create',
    await emulatorCli(['create', '--state', stateFile, '--ca', caDir]),
  );
  const chr = /device (UTEMU\d{10})\b/.exec(r.stdout)?.[1];
  if (chr === undefined) throw new Error(`unexpected create output: ${r.stdout}`);
  return chr;
}
