/**
 * OpenSC and OpenSSL command-line tools for the conformance tests: where they are, whether the
 * environment has them (missing tools SKIP locally and FAIL under CI=true, like pcscd), and a
 * bounded runner that never throws for a non-zero exit.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { PcscAvailability } from '../helpers/pcscd';

/** The OpenSC / OpenSSL programs the tests run. */
export const TOOL_NAMES = ['opensc-tool', 'sc-hsm-tool', 'pkcs11-tool', 'openssl'] as const;
/** One of {@link TOOL_NAMES}. */
export type ToolName = (typeof TOOL_NAMES)[number];

const BIN_DIRS = ['/usr/bin', '/usr/local/bin', '/bin', '/usr/sbin', '/usr/local/sbin'];

/** The absolute path of a program in the usual bin directories, if installed. */
export function findTool(name: string): string | undefined {
  for (const dir of BIN_DIRS) {
    const p = join(dir, name);
    if (existsSync(p)) return p;
  }
  return undefined;
}

/**
 * OpenSC's PKCS#11 module: Debian puts it in /usr/lib/<triplet>/ (and pkcs11/), other
 * distributions in /usr/lib64 or /usr/local/lib.
 */
export function findOpenscPkcs11(): string | undefined {
  const dirs = ['/usr/lib', '/usr/lib64', '/usr/local/lib'];
  try {
    for (const d of readdirSync('/usr/lib').sort()) {
      if (/-linux-gnu/.test(d)) dirs.unshift(join('/usr/lib', d), join('/usr/lib', d, 'pkcs11'));
    }
  } catch {
    // no /usr/lib: only the fixed candidates
  }
  for (const dir of dirs) {
    const p = join(dir, 'opensc-pkcs11.so');
    if (existsSync(p)) return p;
  }
  return undefined;
}

/** Paths of everything the OpenSC tests need. */
export type OpenscTools = Readonly<Record<ToolName, string>> & { readonly pkcs11Module: string };

/** The tools, or the reason they cannot be used (which package to install). */
export function findOpenscTools():
  | { readonly ok: true; readonly tools: OpenscTools }
  | { readonly ok: false; readonly reason: string } {
  const found: Partial<Record<ToolName, string>> = {};
  const missing: string[] = [];
  for (const name of TOOL_NAMES) {
    const p = findTool(name);
    if (p === undefined) missing.push(name);
    else found[name] = p;
  }
  const pkcs11Module = findOpenscPkcs11();
  if (pkcs11Module === undefined) missing.push('opensc-pkcs11.so');
  if (missing.length > 0 || pkcs11Module === undefined) {
    return { ok: false, reason: `missing ${missing.join(', ')} (apt-get install opensc openssl)` };
  }
  return { ok: true, tools: { ...(found as Record<ToolName, string>), pkcs11Module } };
}

/**
 * pcscd availability narrowed by the OpenSC tools: a missing tool turns it into "not available"
 * with the reason, so `describePcsc` skips locally and fails in CI.
 */
export function withOpenscTools(pcsc: PcscAvailability): {
  availability: PcscAvailability;
  tools: OpenscTools | undefined;
} {
  const tools = findOpenscTools();
  if (!tools.ok) {
    const reason = pcsc.ok ? tools.reason : `${pcsc.reason}; ${tools.reason}`;
    return { availability: { ok: false, reason }, tools: undefined };
  }
  return { availability: pcsc, tools: tools.tools };
}

/** Outcome of a finished (or killed) program. */
export type ToolResult = {
  /** Exit code; null when the program was killed (e.g. by the timeout). */
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** True when the timeout killed it. */
  readonly timedOut: boolean;
};

/** Options of {@link runTool}. */
export type RunOptions = {
  /** Kill with SIGKILL after this long (default 30 000 ms). */
  readonly timeoutMs?: number;
  readonly cwd?: string;
};

/**
 * Runs `file args` without a shell, stdin closed, bounded by a timeout. Resolves for every exit
 * code; rejects only when the program cannot be started at all.
 */
export function runTool(
  file: string,
  args: readonly string[],
  options: RunOptions = {},
): Promise<ToolResult> {
  const timeout = options.timeoutMs ?? 30_000;
  return new Promise((resolve, reject) => {
    const child = execFile(
      file,
      [...args],
      {
        timeout,
        killSignal: 'SIGKILL',
        maxBuffer: 4 * 1024 * 1024,
        ...(options.cwd !== undefined ? { cwd: options.cwd } : {}),
      },
      (error, stdout, stderr) => {
        const e = error as (NodeJS.ErrnoException & { killed?: boolean }) | null;
        if (e !== null && typeof e.code === 'string') {
          reject(new Error(`cannot run ${file}: ${e.message}`));
          return;
        }
        resolve({
          code: child.exitCode,
          stdout,
          stderr,
          timedOut: e?.killed === true && child.exitCode === null,
        });
      },
    );
    child.stdin?.end();
  });
}

/** One line describing a result, for assertion messages. */
export function describeResult(what: string, r: ToolResult): string {
  const how = r.timedOut ? 'timed out' : `exit ${String(r.code)}`;
  return `${what}: ${how}\n--- stdout\n${r.stdout}--- stderr\n${r.stderr}`;
}
