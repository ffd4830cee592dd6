/**
 * Opening the custodian home for the desktop backend: the root config, the trust anchors and
 * the audit log. Any of them unusable is an error with the reason (main then runs the stand-in
 * backend that shows it).
 * @module
 */
import { bytesEqual } from '../../shared/codec/bytes';
import { productionAnchor, type TrustAnchor } from '../../shared/cvc/chain';
import { describeAuditRecovery, openAuditLog, type AuditLog } from '../audit/audit-log';
import {
  auditFilePath,
  ensureHome,
  loadCustodianConfig,
  type CustodianConfig,
} from '../config/custodian-config';
import { loadAnchorFiles } from './anchors';

/** The opened home. */
export type BackendHome = {
  /** The root config, when there is one. */
  readonly config: CustodianConfig | undefined;
  readonly anchors: TrustAnchor[];
  readonly audit: AuditLog;
};

/** Opens the home at `root` (see module doc); throws with the reason. */
export async function openBackendHome(
  root: string,
  now: () => Date,
  log: (line: string) => void,
): Promise<BackendHome> {
  const loaded = loadCustodianConfig(root);
  if (!loaded.ok && loaded.error.code !== 'not-found') throw new Error(loaded.error.message);
  const config = loaded.ok ? loaded.value : undefined;
  // Trust anchors are explicit: the production root is the only one built in
  // (docs/card-reference.md Appendix A); a test root comes only from the custodian config and is
  // then always flagged TEST (loadAnchorFiles marks it `configured`). There is deliberately no
  // option to build in another root.
  const anchors: TrustAnchor[] = [
    productionAnchor(),
    // The production root configured as a file as well stays the built-in one, never a TEST root.
    ...(await loadAnchorFiles(config?.trustAnchors ?? [], root)).filter(
      (a) => !bytesEqual(a.cvc.encoded, productionAnchor().cvc.encoded),
    ),
  ];
  ensureHome(root);
  const audit = openAuditLog(auditFilePath(root, config), now);
  if (audit.recovered) log(describeAuditRecovery(audit.recovered));
  return { config, anchors, audit };
}
