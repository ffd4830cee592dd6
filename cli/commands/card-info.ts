/**
 * `custodian card info`: what a SmartCard-HSM is, whether it is genuine (and by which anchor),
 * PIN and PKA status, and its keys.
 * @module
 */
import { deviceReport, type DeviceReport } from '../../core/card-report';
import { SmartCardHsm } from '../../core/sc-hsm/sc-hsm-session';
import type { CardInfo, KeyInfo } from '../../core/sc-hsm/types';
import { isHex, fromHex, bytesToAscii } from '../../shared/codec/bytes';
import { anchorFromCvc, productionAnchor, type TrustAnchor } from '../../shared/cvc/chain';
import { openCard, type CardOrigin } from '../card-source';
import type { CliDeps, CliIo } from '../context';
import { UsageError } from '../errors';
import { formatCardInfo } from './card-info-format';
import { messageOf } from '../../shared/error-message';

/** Options of `card info`. */
export type CardInfoOptions = {
  readonly reader?: string;
  readonly emulator?: string;
  readonly trustAnchor?: readonly string[];
  readonly json?: boolean;
};

/** Genuineness as reported. */
export type Genuineness =
  | {
      readonly genuine: true;
      readonly anchor: string;
      readonly anchorChr: string;
      /** `configured`: a root given with --trust-anchor, not the built-in production root. */
      readonly anchorSource: 'built-in' | 'configured';
      readonly path: string;
      readonly warnings: readonly string[];
    }
  | { readonly genuine: false; readonly code: string; readonly reason: string };

/** Everything `card info` reports (the `--json` shape). */
export type CardReport = {
  readonly source: CardOrigin;
  readonly deviceId?: string;
  readonly applet: { readonly version: string; readonly options?: number };
  readonly initialized: boolean;
  readonly pin: CardInfo['pin'];
  readonly soPin?: CardInfo['soPin'];
  readonly pka?: CardInfo['pka'];
  readonly keys: readonly Omit<KeyInfo, 'chrBytes'>[];
  readonly genuine: Genuineness;
};

/** Loads `--trust-anchor` files (binary CVC, or hex text) as configured anchors. */
export async function loadAnchors(files: readonly string[], deps: CliDeps): Promise<TrustAnchor[]> {
  const anchors: TrustAnchor[] = [productionAnchor()];
  for (const file of files) {
    let bytes: Uint8Array;
    try {
      bytes = await deps.readFile(file);
    } catch (e) {
      throw new UsageError(`cannot read trust anchor ${file}: ${messageOf(e)}`);
    }
    const text = bytesToAscii(bytes).trim();
    if (bytes[0] !== 0x7f && isHex(text.replace(/\s+/g, ''))) bytes = fromHex(text);
    const anchor = anchorFromCvc(bytes, file);
    if (!anchor.ok) throw new UsageError(`trust anchor ${file}: ${anchor.error.message}`);
    anchors.push(anchor.value);
  }
  return anchors;
}

function genuineness(r: DeviceReport): Genuineness {
  if (!r.genuine) return { genuine: false, code: r.code, reason: r.reason };
  return {
    genuine: true,
    anchor: r.anchor.label,
    anchorChr: r.anchor.cvc.body.chr,
    anchorSource: r.anchor.source,
    path: r.path,
    warnings: r.warnings,
  };
}

/** Reads the card and prints the report. */
export async function cardInfoCommand(
  options: CardInfoOptions,
  deps: CliDeps,
  io: CliIo,
): Promise<void> {
  const anchors = await loadAnchors(options.trustAnchor ?? [], deps);
  const card = await openCard(
    {
      ...(options.reader !== undefined ? { reader: options.reader } : {}),
      ...(options.emulator !== undefined ? { emulator: options.emulator } : {}),
    },
    deps,
  );
  let report: CardReport;
  try {
    const hsm = new SmartCardHsm(card.channel);
    const info = await hsm.info();
    // Listing needs an initialized file system; a fresh device simply has no keys.
    const keys = info.initialized ? await hsm.listKeys() : [];
    const device = deviceReport(info.deviceChain, anchors, deps.now());
    const g = genuineness(device);
    const deviceId = device.deviceId;
    report = {
      source: card.origin,
      ...(deviceId !== undefined ? { deviceId } : {}),
      applet: {
        version: `${info.version.major}.${info.version.minor}`,
        ...(info.options !== undefined ? { options: info.options } : {}),
      },
      initialized: info.initialized,
      pin: info.pin,
      ...(info.soPin ? { soPin: info.soPin } : {}),
      ...(info.pka ? { pka: info.pka } : {}),
      keys: keys.map(({ chrBytes: _chrBytes, ...rest }) => rest),
      genuine: g,
    };
  } finally {
    await card.close();
  }
  io.out(options.json ? `${JSON.stringify(report, null, 2)}\n` : formatCardInfo(report));
}
