/**
 * `custodian audit verify`: checks the audit log byte for byte along its hash chain and against
 * its head file (docs/audit-log.md): any edited, re-encoded, removed, inserted or reordered
 * entry fails, and so do entries cut off at the end. `--head H` also pins the last hash, and
 * `--without-head-file` checks a copy of a log that travels without its head.
 * `custodian audit adopt-head` records a head for a log that has none.
 * @module
 */
import { adoptAuditHead, headFilePath, verifyAuditLog } from '../../core/audit/audit-log';
import {
  auditFilePath,
  custodianHome,
  loadCustodianConfig,
} from '../../core/config/custodian-config';
import { UsageError } from '../errors';
import type { CustodianCommandDeps } from './deps';

/** Options of `audit verify`. */
export type AuditVerifyOptions = {
  readonly file?: string;
  readonly head?: string;
  /** `--without-head-file`: verify the chain alone. */
  readonly withoutHeadFile?: boolean;
};

function logPath(file: string | undefined, deps: CustodianCommandDeps): string {
  if (file !== undefined) return file;
  const home = custodianHome(deps.env ?? process.env);
  const config = loadCustodianConfig(home);
  return auditFilePath(home, config.ok ? config.value : undefined);
}

/**
 * Runs `audit verify`; prints the entry count and head when the log is intact.
 * @throws UsageError for a malformed `--head`, Error naming the first bad line otherwise
 */
export function auditVerify(opts: AuditVerifyOptions, deps: CustodianCommandDeps): void {
  const path = logPath(opts.file, deps);
  const head = opts.head?.toLowerCase();
  if (head !== undefined && !/^[0-9a-f]{64}$/.test(head)) {
    throw new UsageError('--head must be the 64-hex-digit hash of the last entry');
  }
  const withoutHeadFile = opts.withoutHeadFile === true;
  const r = verifyAuditLog(path, {
    ...(head !== undefined ? { expectedHead: head } : {}),
    withoutHeadFile,
  });
  if (!r.ok) {
    throw new Error(
      `audit log ${path} FAILED verification at line ${r.error.line}: ${r.error.message}`,
    );
  }
  const against = withoutHeadFile
    ? 'chain intact (head file not checked: entries cut off the end would not show)'
    : `chain intact and reaches its head (${headFilePath(path)})`;
  deps.io.out(`audit log ${path}: ${r.value.entries} entries, ${against}\nhead ${r.value.head}\n`);
}

/** Runs `audit adopt-head`: verifies a log without head file and records its end as the head. */
export function auditAdoptHead(opts: { readonly file?: string }, deps: CustodianCommandDeps): void {
  const path = logPath(opts.file, deps);
  const head = adoptAuditHead(path);
  const converted =
    head.converted === undefined
      ? ''
      : `rewritten in the canonical encoding (same entries and hashes; original kept as ${head.converted})\n`;
  deps.io.out(
    `audit log ${path}: ${head.entries} entries verified; ${converted}head recorded in ${headFilePath(path)}\nhead ${head.head}\n`,
  );
}
