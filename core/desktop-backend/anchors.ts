/**
 * Trust anchors of the desktop app: the roots built into the build plus the CVC files the
 * custodian configured (`trustAnchors` in config.json, like the CLI), and how the UI lists them.
 * @module
 */
import { readFile } from 'node:fs/promises';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToAscii, fromHex, isHex, toHex } from '../../shared/codec/bytes';
import { anchorFromCvc, type TrustAnchor } from '../../shared/cvc/chain';
import type { TrustAnchor as AnchorView } from '../../shared/ipc/model';
import { resolveInHome } from '../config/custodian-config';
import { messageOf } from '../../shared/error-message';

/**
 * Loads configured anchor files (binary CVC or hex text), relative to the home. Throws with
 * the file and the reason: a configured root that cannot be read must not be skipped silently.
 */
export async function loadAnchorFiles(
  files: readonly string[],
  home: string,
): Promise<TrustAnchor[]> {
  const out: TrustAnchor[] = [];
  for (const file of files) {
    const path = resolveInHome(home, file);
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(await readFile(path));
    } catch (e) {
      throw new Error(`cannot read trust anchor ${path}: ${messageOf(e)}`);
    }
    const text = bytesToAscii(bytes).trim().replace(/\s+/g, '');
    if (bytes[0] !== 0x7f && isHex(text)) bytes = fromHex(text);
    const anchor = anchorFromCvc(bytes, path);
    if (!anchor.ok) throw new Error(`trust anchor ${path}: ${anchor.error.message}`);
    out.push(anchor.value);
  }
  return out;
}

/** The anchors as the UI lists them: a root not built into the app is flagged as a test root. */
export function anchorViews(anchors: readonly TrustAnchor[]): AnchorView[] {
  const seen = new Set<string>();
  const out: AnchorView[] = [];
  for (const a of anchors) {
    const fingerprint = toHex(sha256(a.cvc.encoded)).toUpperCase();
    if (seen.has(fingerprint)) continue;
    seen.add(fingerprint);
    out.push({
      name: a.cvc.body.chr.slice(0, 128),
      fingerprint,
      // Only the production root is built in; anything configured is a TEST root (project rule:
      // trust anchors are explicit, test roots only by configuration). The app never takes
      // roots from a server, so every anchor it lists is its own.
      test: a.source !== 'built-in',
      source: a.source === 'built-in' ? 'built-in' : 'configured',
    });
  }
  return out.slice(0, 32);
}
