/**
 * Generating a signing key ON the target. The card needs user authentication for GENERATE
 * ASYMMETRIC KEY PAIR; on a PKA target that authentication is the quorum (docs/card-reference.md §6.7), so
 * this runs only inside an unlock window, on the connection and selection the quorum was
 * reached on. It spends no signature of the window, and it is audited.
 * @module
 */
import { KeyOperationError } from '../../core/sc-hsm/keys';
import {
  formatSigningKeyType,
  type SigningKeyCurve,
  type SigningKeyType,
} from '../../core/sc-hsm/signing-keys';
import type { Store } from '../store/store';
import { publicKeyFrom, type SigningKey } from './key-info';
import { recordIntent, recordOutcome } from '../store/audit-intents';
import { TargetError } from './target-error';
import type { TargetService } from './target-service';

/** What to generate. */
export type KeygenOptions = {
  /** PRKD label; must be unique on the target (signing picks keys by label). */
  readonly label: string;
  /** EC on a signing curve or RSA 2048/3072/4096 (docs/card-reference.md §15.6). */
  readonly type: SigningKeyType;
};

/** The new key as reported to the admin. */
export type GeneratedSigningKey = SigningKey & {
  /** `ec:<curve>` or `rsa:<bits>`. */
  readonly keyType: string;
  /** The curve of an EC key. */
  readonly curve?: SigningKeyCurve;
  readonly deviceId: string;
  /** The ceremony whose unlock window the key was generated in. */
  readonly ceremonyId: string;
};

/**
 * Generates a hash-signing key — ECDSA (`70` only) or RSA (`30`/`40` only), docs/card-reference.md
 * §8.3, §15.6 — with a unique CHR and the
 * label in its PRKD (docs/card-reference.md §7), inside the unlock window of `target`. Refused without
 * touching the card when the target is locked, and refused when the label is taken.
 */
export async function generateTargetKey(
  store: Store,
  target: TargetService,
  opts: KeygenOptions,
): Promise<GeneratedSigningKey> {
  return target.withinUnlock(async (card, window) => {
    // resolveSigningKey refuses an ambiguous label, so a second key with it could never sign.
    if ((await card.listKeys()).some((k) => k.label === opts.label)) {
      throw new TargetError(
        'duplicate',
        `target ${target.name} already has a key labelled "${opts.label}"`,
      );
    }
    const deviceId = target.deviceId ?? '';
    // Intent before the card step (server/README.md): a store failure refuses untouched.
    const intent = recordIntent(store, 'keygen', {
      target: target.name,
      deviceId,
      label: opts.label,
      keyType: formatSigningKeyType(opts.type),
      ceremonyId: window.ceremonyId,
    });
    let gen;
    try {
      const t = opts.type;
      gen =
        t.kind === 'rsa'
          ? await card.generateRsaSigningKey({ label: opts.label, bits: t.bits })
          : await card.generateSigningKey({ label: opts.label, curve: t.curve });
    } catch (e) {
      recordOutcome(store, intent, 'keygen-refused', { target: target.name, reason: String(e) });
      if (e instanceof KeyOperationError)
        throw new TargetError('invalid', `key generation: ${e.message}`);
      throw e;
    }
    // Audited as soon as the key exists on the card; not storable: the intent covers it.
    recordOutcome(store, intent, 'key-generated', {
      target: target.name,
      deviceId,
      keyId: gen.keyId,
      label: opts.label,
      chr: gen.chr,
      keyType: formatSigningKeyType(opts.type),
      ...(opts.type.kind === 'ec' ? { curve: opts.type.curve } : {}),
      ceremonyId: window.ceremonyId,
    });
    const pub = publicKeyFrom(gen.request, gen.keyId);
    return {
      id: gen.keyId,
      label: opts.label,
      chr: gen.chr,
      publicKeyPem: pub.pem,
      type: pub.type,
      keyType: formatSigningKeyType(opts.type),
      ...(opts.type.kind === 'ec' ? { curve: opts.type.curve } : {}),
      deviceId,
      ceremonyId: window.ceremonyId,
    };
  });
}
