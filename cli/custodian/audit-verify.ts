/**
 * `custodian audit verify`: checks the hash chain of the audit log; any edited, removed,
 * inserted or reordered entry fails, and `--head H` also catches entries cut off at the end.
 * @module
 */
import { verifyAuditFile } from '../../core/audit/audit-log';
import {
  auditFilePath,
  custodianHome,
  loadCustodianConfig,
} from '../../core/config/custodian-config';
import { UsageError } from '../errors';
import type { CustodianCommandDeps } from './deps';

/** Options of `audit verify`. */
export type AuditVerifyOptions = { readonly file?: string; readonly head?: string };

/**
 * Runs `audit verify`; prints the entry count and head when the chain is intact.
 * @throws UsageError for a malformed `--head`, Error naming the first bad line otherwise
 */
export function auditVerify(opts: AuditVerifyOptions, deps: CustodianCommandDeps): void {
  let path = opts.file;
  if (path === undefined) {
    const home = custodianHome(deps.env ?? process.env);
    const config = loadCustodianConfig(home);
    path = auditFilePath(home, config.ok ? config.value : undefined);
  }
  const head = opts.head?.toLowerCase();
  if (head !== undefined && !/^[0-9a-f]{64}$/.test(head)) {
    throw new UsageError('--head must be the 64-hex-digit hash of the last entry');
  }
  const r = verifyAuditFile(path, head);
  if (!r.ok) {
    throw new Error(
      `audit log ${path} FAILED verification at line ${r.error.line}: ${r.error.message}`,
    );
  }
  deps.io.out(
    `audit log ${path}: ${r.value.entries} entries, chain intact\nhead ${r.value.head}\n`,
  );
}
